// Benchmark runner: real memcached vs memcached-ts, same load, same run, alternating.
//   npm run bench                      # full suite (~10 min)
//   npm run bench -- --quick           # about a minute
//   npm run bench -- --target memcached --quick   # memcached on both sides (noise floor)
// See bench/README.md for the method and every flag (--help).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs, defaultReportFile } from './lib/cli.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { Keyspace, describeSize } from './lib/keyspace.js';
import { mixedSource, preload, runLoad, type LoadResult } from './lib/loadgen.js';
import { ProgressBar } from './lib/progress.js';
import { describeKeyDist } from './lib/rng.js';
import { ServerProcess, splitCommand, tcpRetransSegs, hostBusySeconds, type ServerCommand, RUN_AS } from './lib/server.js';
import { TextDriver } from './lib/text-protocol.js';
import { BinaryDriver, type BinaryMultiGet } from './lib/binary-protocol.js';
import type { ProtocolDriver } from './lib/protocol.js';
import { PEERS, PEERS_DIR, ensurePeersInstalled, type PeerDef } from './lib/peers.js';
import { WORKLOADS, type LoadWorkload, type MemoryWorkload, type Workload } from './workloads.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOST = '127.0.0.1';
const asRoot = process.getuid?.() === 0;
// memcached refuses to run as root without -u.
const MC_USER = asRoot ? ' -u root' : '';
const DEFAULT_MEMCACHED = `memcached${MC_USER} -t 1 -U 0 -l ${HOST} -p {port} -m {mem}`;
// Same server, but told to pick its own port and report it through MEMCACHED_PORT_FILENAME,
// exactly the start-up path memcached-ts uses: --target memcached exercises it.
const MEMCACHED_PORTFILE = `memcached${MC_USER} -t 1 -U 0 -l ${HOST} -p -1 -m {mem}`;
const DEFAULT_OURS = `node bin/memcached-ts.js${RUN_AS} -p -1 -U 0 -l ${HOST} -m {mem}`;

const HELP = `usage: npm run bench -- [options]
  --quick                 short run (about a minute): 1 rep, 2 s measured, 0.5 s warm-up
  --workloads a,b,...     workloads to run (default all: ${WORKLOADS.map((w) => w.id).join(',')}); --list shows them
  --reps N                runs per workload and server, order alternating (default 3; quick 1)
  --duration S            measured seconds per run (default 10; quick 2)
  --warmup S              unmeasured seconds before that (default 2; quick 0.5)
  --seed N                random seed for keys, values and the request mix (default 42)
  --max-other-cpu PCT     repeat a rep during which other processes (other tenants, kernel
                          threads) used more than PCT% of a CPU (default 25; 0 = never)
  --retries N             repeats per rep at most, keeping the least disturbed (default 2)
  --verify-every N        compare value bytes of every Nth hit (default 16; 0 = off; flags/length always)
  --mem-items N           items for the memory workload (default 1000000)
  --protocol text|binary  protocol of the load (default text); workloads that name their own (a-bin) keep it
  --binary-get getkq|getk how the binary driver sends a multi-key get: GetKQ... + Noop (default) or GetK...
  --peers                 also run the JavaScript memcached servers pinned in ${PEERS_DIR}/ (${PEERS.map((p) => p.name).join(', ')})
                          in the workloads they can serve; installs them there with npm ci when missing
  --memcached-cmd CMD     reference server (default "${DEFAULT_MEMCACHED}")
  --ours-cmd CMD          server under test (default "${DEFAULT_OURS}")
  --ours-label NAME       its name in the tables (default memcached-ts)
  --target memcached      shorthand: run memcached as the server under test too (noise floor)
  --pin / --no-pin        pin load generator and server to separate CPUs (default: pin if >= 2 CPUs)
  --client-cpu N          CPU for the load generator when pinning (default 0)
  --server-cpu N          CPU for the servers when pinning (default 1)
  --out FILE              also write the markdown report to FILE ("-" = don't). Default: a full run
                          (no --quick, --workloads or --target) writes bench/RESULTS.md; any other
                          run only prints the report
  --json FILE             also write raw results as JSON
  --list                  list workloads and exit
Commands: {port} is replaced by a free port, {mem} by the workload's -m in MB. Without {port}
the runner reads "TCP INET: <port>" from the file named by MEMCACHED_PORT_FILENAME. A leading
"node" is replaced by this node binary; commands must exec the server (no npx/sh wrappers),
since CPU and RSS are read from /proc/<pid>.`;

const a = benchArgs(HELP, {
  quick: { type: 'boolean', default: false },
  workloads: { type: 'string' },
  reps: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  seed: { type: 'string', default: '42' },
  'max-other-cpu': { type: 'string', default: '25' },
  retries: { type: 'string', default: '2' },
  'verify-every': { type: 'string', default: '16' },
  'mem-items': { type: 'string' },
  'memcached-cmd': { type: 'string' },
  'ours-cmd': { type: 'string' },
  'ours-label': { type: 'string' },
  protocol: { type: 'string', default: 'text' },
  'binary-get': { type: 'string', default: 'getkq' },
  peers: { type: 'boolean', default: false },
  target: { type: 'string' },
  pin: { type: 'boolean' },
  'no-pin': { type: 'boolean' },
  'client-cpu': { type: 'string', default: '0' },
  'server-cpu': { type: 'string', default: '1' },
  out: { type: 'string' },
  json: { type: 'string' },
  list: { type: 'boolean', default: false },
});
if (a.list) {
  for (const w of WORKLOADS) process.stdout.write(`${w.id.padEnd(6)}${w.name.padEnd(15)} ${w.what}\n`);
  process.exit(0);
}

const quick = a.quick === true;
const reps = Number(a.reps ?? (quick ? 1 : 3));
const durationMs = Number(a.duration ?? (quick ? 2 : 10)) * 1000;
const warmupMs = Number(a.warmup ?? (quick ? 0.5 : 2)) * 1000;
const seed = Number(a.seed);
const verifyEvery = Number(a['verify-every']);
const memItems = a['mem-items'] !== undefined ? Number(a['mem-items']) : undefined;
const maxOtherCpu = Number(a['max-other-cpu']);
const retries = Number(a.retries);
for (const [k, v] of Object.entries({ reps, durationMs, warmupMs, seed, verifyEvery, maxOtherCpu, retries })) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`bad --${k}`);
}
const ncpu = os.availableParallelism();
const pin = a['no-pin'] ? false : (a.pin ?? ncpu >= 2);
const clientCpu = Number(a['client-cpu']);
const serverCpu = Number(a['server-cpu']);

if (a.target !== undefined && a.target !== 'memcached' && a.target !== 'ours') throw new Error('--target is memcached or ours');
const oursCmdText = a['ours-cmd'] ?? (a.target === 'memcached' ? MEMCACHED_PORTFILE : DEFAULT_OURS);
const oursLabel = a['ours-label'] ?? (a.target === 'memcached' && a['ours-cmd'] === undefined ? 'memcached#2' : 'memcached-ts');
const refCmdText = a['memcached-cmd'] ?? DEFAULT_MEMCACHED;

type Protocol = 'text' | 'binary';
if (a.protocol !== 'text' && a.protocol !== 'binary') throw new Error('--protocol is text or binary');
const defaultProtocol: Protocol = a.protocol;
if (a['binary-get'] !== 'getkq' && a['binary-get'] !== 'getk') throw new Error('--binary-get is getkq or getk');
const binaryGet: BinaryMultiGet = a['binary-get'];

/** 'ref' (memcached), 'ours' (memcached-ts), or 'peer:<name>'. */
type TargetKey = string;
interface Target {
  key: TargetKey;
  role: 'ref' | 'ours' | 'peer';
  label: string;
  cmdText: string;
  cmd: ServerCommand;
  peer?: PeerDef;
  version?: string;
}
const targets: Target[] = [
  { key: 'ref', role: 'ref', label: 'memcached', cmdText: refCmdText, cmd: { argv: splitCommand(refCmdText), cwd: ROOT } },
  { key: 'ours', role: 'ours', label: oursLabel, cmdText: oursCmdText, cmd: { argv: splitCommand(oursCmdText), cwd: ROOT } },
];
if (a.peers) {
  for (const p of PEERS) targets.push({ key: `peer:${p.name}`, role: 'peer', label: p.name, cmdText: p.command, cmd: { argv: splitCommand(p.command), cwd: ROOT }, peer: p });
}
const labelOf = (key: TargetKey): string => targets.find((t) => t.key === key)?.label ?? key;
const protocolOf = (w: Workload): Protocol => (w.kind === 'load' && w.protocol) || defaultProtocol;

/** Why a peer is not run in a workload, or null if it is. */
function peerSkip(t: Target, w: Workload): string | null {
  if (!t.peer) return null;
  if (!t.peer.workloads.includes(w.id)) return `not run in ${w.id}: ${w.kind === 'memory' ? 'no memory limit' : 'cannot serve it'} (see Peers)`;
  if (!t.peer.protocols.includes(protocolOf(w))) return `not run in ${w.id}: no ${protocolOf(w)} protocol`;
  return null;
}

const selected: Workload[] = (() => {
  if (a.workloads === undefined) return WORKLOADS;
  const ids = a.workloads.split(',').map((s) => s.trim()).filter(Boolean);
  return ids.map((id) => {
    const w = WORKLOADS.find((x) => x.id === id || x.name === id);
    if (!w) throw new Error(`unknown workload "${id}" (--list)`);
    return w;
  });
})();

// ---------------------------------------------------------------------------------------

interface LoadRun {
  target: TargetKey;
  res: LoadResult;
  serverCpuSec: number;
  /** Host-wide TCP segments retransmitted during the measured window. */
  retrans: number;
  /** Host CPU used by everything except this server and the load generator, % of one CPU. */
  otherCpuPct: number;
  counters: Record<string, { delta: number; final: number }>;
  /** Times this rep was run again because other processes took too much CPU (--max-other-cpu). */
  repeats: number;
}
interface MemRun {
  target: TargetKey;
  rssBeforeKiB: number;
  rssAfterKiB: number;
  items: number;
  evictions: number;
  loadSeconds: number;
  loadErrors: number;
  checkHits: number;
  checkKeys: number;
  checkVerified: number;
  checkVerifyFailures: number;
  extra: Record<string, number | string>;
}
interface Failure {
  target: TargetKey;
  message: string;
}
interface WorkloadResult {
  w: Workload;
  keys: number;
  loads: LoadRun[];
  mems: MemRun[];
  failures: Failure[];
  /** Peers left out of this workload, and why. */
  skipped: { target: TargetKey; why: string }[];
}

const bar = new ProgressBar();
const live = new Set<ServerProcess>();
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    interrupted = true;
    bar.log(`${sig}: stopping servers`);
    void Promise.all([...live].map((s) => s.stop())).then(() => process.exit(130));
  });
}

async function withServer<T>(t: Target, memMB: number, extraArgs: string[], fn: (s: ServerProcess) => Promise<T>): Promise<T> {
  const s = await ServerProcess.start(t.cmd, { label: t.label, memMB, extraArgs, cpu: pin ? serverCpu : null, host: HOST });
  live.add(s);
  try {
    const r = await fn(s);
    if (!s.alive) throw new Error(`${t.label} exited during the run`);
    return r;
  } finally {
    await s.stop();
    live.delete(s);
  }
}

const fmtRate = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0));

function makeDriver(w: Workload, ks: Keyspace): ProtocolDriver {
  return protocolOf(w) === 'binary' ? new BinaryDriver(ks, binaryGet) : new TextDriver(ks);
}

async function runLoadWorkload(w: LoadWorkload, ks: Keyspace, t: Target, step: string): Promise<LoadRun> {
  const driver = makeDriver(w, ks);
  return withServer(t, w.memMB, t.peer ? [] : w.serverArgs, async (srv) => {
    bar.prefix = `${step} ${w.id} ${t.label} `;
    if (w.preload) {
      const pre = await preload(HOST, srv.port, ks, driver, {
        seed,
        onProgress: (p) => bar.update(p.fraction, `preload ${fmtRate(p.recentOpsPerSec)} sets/s`),
      }).catch((e: unknown) => {
        throw new Error(`preload: ${(e as Error).message}`);
      });
      if (pre.errors > 0 && w.serverCounters.length === 0) throw new Error(`preload: ${pre.errors} errors, e.g. ${pre.errorSamples.join('; ')}`);
    }
    const before = w.serverCounters.length ? await srv.stats() : {};
    let cpu0 = 0;
    let cpu1 = 0;
    let rt0 = 0;
    let rt1 = 0;
    let host0 = 0;
    let host1 = 0;
    const res = await runLoad(
      {
        host: HOST,
        port: srv.port,
        connections: w.connections,
        depth: w.depth,
        maxKeys: w.multiGet,
        source: mixedSource(ks, w.getRatio, w.multiGet, w.keyDist),
        mode: 'timed',
        warmupMs,
        durationMs,
        seed,
        verifyEvery,
      },
      driver,
      {
        onMeasureStart: () => {
          rt0 = tcpRetransSegs();
          host0 = hostBusySeconds();
          cpu0 = srv.cpuSeconds();
        },
        onMeasureEnd: () => {
          cpu1 = srv.cpuSeconds();
          host1 = hostBusySeconds();
          rt1 = tcpRetransSegs();
        },
        onProgress: (p) => bar.update(p.fraction, `${p.phase} ${fmtRate(p.recentOpsPerSec)} ops/s`),
      },
    );
    const counters: LoadRun['counters'] = {};
    if (w.serverCounters.length) {
      const after = await srv.stats();
      for (const c of w.serverCounters) {
        const f = Number(after[c] ?? NaN);
        counters[c] = { delta: f - Number(before[c] ?? NaN), final: f };
      }
    }
    bar.clear();
    const otherCpuPct = Math.max(0, (100 * (host1 - host0 - (cpu1 - cpu0) - res.clientCpuSec)) / res.seconds);
    return { target: t.key, res, serverCpuSec: cpu1 - cpu0, retrans: rt1 - rt0, otherCpuPct, counters, repeats: 0 };
  });
}

/** Extension point for later measurements on a loaded server (snapshot write/load time). */
type PostLoadHook = (ctx: { server: ServerProcess; target: Target; keyspace: Keyspace }) => Promise<Record<string, number | string>>;
const postLoadHooks: PostLoadHook[] = [];

async function runMemoryWorkload(w: MemoryWorkload, ks: Keyspace, t: Target, step: string): Promise<MemRun> {
  const driver = makeDriver(w, ks);
  return withServer(t, w.memMB, t.peer ? [] : w.serverArgs, async (srv) => {
    bar.prefix = `${step} ${w.id} ${t.label} `;
    await sleep(500);
    const rssBeforeKiB = srv.rssKiB();
    const pre = await preload(HOST, srv.port, ks, driver, {
      seed,
      connections: 4,
      depth: 64,
      onProgress: (p) => bar.update(p.fraction, `loading ${fmtRate(p.recentOpsPerSec)} sets/s`),
    });
    await sleep(1000);
    const rssAfterKiB = srv.rssKiB();
    const st = await srv.stats();
    // Spot check that the items are really there: a short read pass, every value compared.
    bar.update(1, 'checking');
    const check = await runLoad(
      {
        host: HOST,
        port: srv.port,
        connections: 2,
        depth: 8,
        maxKeys: 16,
        source: mixedSource(ks, 1, 16, { kind: 'uniform' }),
        mode: 'timed',
        warmupMs: 0,
        durationMs: 500,
        seed,
        verifyEvery: 1,
      },
      driver,
    );
    const extra: Record<string, number | string> = {};
    for (const h of postLoadHooks) Object.assign(extra, await h({ server: srv, target: t, keyspace: ks }));
    bar.clear();
    return {
      target: t.key,
      rssBeforeKiB,
      rssAfterKiB,
      items: Number(st.curr_items ?? NaN),
      evictions: Number(st.evictions ?? NaN),
      loadSeconds: pre.seconds,
      loadErrors: pre.errors,
      checkHits: check.hits,
      checkKeys: check.keysRequested,
      checkVerified: check.valuesVerified,
      checkVerifyFailures: check.verifyFailures,
      extra,
    };
  });
}

// ---------------------------------------------------------------------------------------

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((p, q) => p - q);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
const num = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–');
const us = (n: number): string => (Number.isFinite(n) ? (n >= 1000 ? num(n, 0) : n >= 100 ? num(n, 0) : num(n, 1)) : '–');
const ratio = (o: number, r: number): string => (Number.isFinite(o) && Number.isFinite(r) && r !== 0 ? `${(o / r).toFixed(2)}×` : '–');

interface Agg {
  n: number;
  ops: number;
  opsMin: number;
  opsMax: number;
  keysPerSec: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  srvCpuPct: number;
  opsPerCpuSec: number;
  cliCpuPct: number;
  otherCpuPct: number;
  hitPct: number;
  errors: number;
  retrans: number;
  /** Reps run again for other processes' CPU, and reps that stayed over the limit. */
  repeats: number;
  stillDisturbed: number;
  verified: number;
  verifyFailures: number;
  counters: Record<string, { delta: number; final: number }>;
  errorSamples: string[];
  verifySamples: string[];
}

function aggregate(runs: LoadRun[]): Agg | null {
  if (runs.length === 0) return null;
  const m = (f: (r: LoadRun) => number): number => median(runs.map(f));
  const counters: Agg['counters'] = {};
  for (const c of Object.keys(runs[0]!.counters)) {
    counters[c] = { delta: m((r) => r.counters[c]?.delta ?? NaN), final: m((r) => r.counters[c]?.final ?? NaN) };
  }
  return {
    n: runs.length,
    ops: m((r) => r.res.opsPerSec),
    opsMin: Math.min(...runs.map((r) => r.res.opsPerSec)),
    opsMax: Math.max(...runs.map((r) => r.res.opsPerSec)),
    keysPerSec: m((r) => r.res.keysPerSec),
    p50: m((r) => r.res.latency.p50),
    p99: m((r) => r.res.latency.p99),
    p999: m((r) => r.res.latency.p999),
    max: m((r) => r.res.latency.max),
    srvCpuPct: m((r) => (100 * r.serverCpuSec) / r.res.seconds),
    opsPerCpuSec: m((r) => (r.serverCpuSec > 0 ? r.res.ops / r.serverCpuSec : NaN)),
    cliCpuPct: m((r) => (100 * r.res.clientCpuSec) / r.res.seconds),
    otherCpuPct: m((r) => r.otherCpuPct),
    hitPct: m((r) => (r.res.keysRequested > 0 ? (100 * r.res.hits) / r.res.keysRequested : NaN)),
    errors: runs.reduce((s, r) => s + r.res.errors, 0),
    retrans: runs.reduce((s, r) => s + r.retrans, 0),
    repeats: runs.reduce((s, r) => s + r.repeats, 0),
    stillDisturbed: maxOtherCpu > 0 ? runs.filter((r) => r.otherCpuPct > maxOtherCpu).length : 0,
    verified: runs.reduce((s, r) => s + r.res.valuesVerified, 0),
    verifyFailures: runs.reduce((s, r) => s + r.res.verifyFailures, 0),
    counters,
    errorSamples: [...new Set(runs.flatMap((r) => r.res.errorSamples))].slice(0, 3),
    verifySamples: [...new Set(runs.flatMap((r) => r.res.verifySamples))].slice(0, 3),
  };
}

/** Why a target's figures in this workload cannot be taken at face value, or null. */
function wrongness(w: LoadWorkload, g: Agg): string | null {
  const why: string[] = [];
  if (g.verifyFailures > 0) why.push('wrong values');
  if (g.errors > 0) why.push('error replies');
  // Every key was set before the run and nothing should be evicted: a miss is a lost item.
  if (w.preload && w.serverCounters.length === 0 && g.hitPct < 99) why.push(`${num(g.hitPct, 1)}% hits after preloading every key`);
  return why.length ? why.join(', ') : null;
}

const cell = (s: string): string => s.replaceAll('|', '\\|');

function report(results: WorkloadResult[], meta: string): string {
  const L: string[] = [meta, ''];
  const loads = results.filter((r) => r.w.kind === 'load');
  const keysIn = (r: WorkloadResult): TargetKey[] => targets.map((t) => t.key).filter((k) => !r.skipped.some((s) => s.target === k));
  if (loads.length) {
    L.push('### Throughput and latency', '');
    L.push(
      'Latencies in µs (per request, write of its batch → reply parsed). Medians over the reps; "ops/s range" is min–max over the reps. ' +
        'Server CPU = utime+stime of the server process / wall time of the measured window. ' +
        'Other CPU = host CPU time used by anything but the server and the load generator (other tenants, kernel threads) during the window, in % of one CPU.',
      '',
    );
    L.push('| workload | server | ops/s | ops/s range | p50 | p99 | p99.9 | max | server CPU | ops per server CPU-s | client CPU | other CPU | hit % | notes |');
    L.push('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|');
    for (const r of loads) {
      const w = r.w as LoadWorkload;
      const wl = `${w.id} ${w.name}${protocolOf(w) === 'binary' ? ` (binary${w.multiGet > 1 ? `, ${binaryGet}` : ''})` : ''}`;
      for (const key of keysIn(r)) {
        const g = aggregate(r.loads.filter((x) => x.target === key));
        const fails = r.failures.filter((f) => f.target === key);
        if (!g) {
          L.push(`| ${wl} | ${labelOf(key)} | failed | | | | | | | | | | | ${cell(fails.map((f) => f.message.split('\n')[0]).join('; '))} |`);
          continue;
        }
        const notes: string[] = [];
        if (w.multiGet > 1) notes.push(`${fmtRate(g.keysPerSec)} keys/s`);
        if (w.valueSize.min >= 1 << 20) notes.push(`${num((g.ops * w.valueSize.max) / (1 << 20), 0)} MiB/s of values`);
        for (const [c, v] of Object.entries(g.counters)) notes.push(`${c}: +${num(v.delta)} in run (${num(v.final)} total)`);
        if (g.errors) notes.push(`**${g.errors} error replies** (${g.errorSamples.join('; ')})`);
        notes.push(g.verifyFailures ? `**${g.verifyFailures} of ${g.verified} values WRONG** (${g.verifySamples.join('; ')})` : `${num(g.verified)} values verified`);
        if (w.preload && w.serverCounters.length === 0 && g.hitPct < 99) notes.push(`**only ${num(g.hitPct, 1)}% hits although every key was set before the run**`);
        if (g.retrans > 0) notes.push(`${num(g.retrans)} TCP retransmits (host-wide) during ${g.n > 1 ? 'the reps' : 'the run'}`);
        if (fails.length) notes.push(`${fails.length} rep(s) failed: ${fails[0]!.message.split('\n')[0]}`);
        if (g.repeats > 0) notes.push(`${g.repeats} rep(s) run again for other CPU over ${maxOtherCpu}%${g.stillDisturbed > 0 ? `, ${g.stillDisturbed} still over it` : ''}`);
        L.push(
          `| ${wl} | ${labelOf(key)} | ${num(g.ops)} | ${g.n > 1 ? `${num(g.opsMin)}–${num(g.opsMax)}` : '–'} | ${us(g.p50)} | ${us(g.p99)} | ${us(g.p999)} | ${us(g.max)} | ${num(g.srvCpuPct)}% | ${num(g.opsPerCpuSec)} | ${num(g.cliCpuPct)}% | ${num(g.otherCpuPct)}% | ${num(g.hitPct, 1)} | ${cell(notes.join('; '))} |`,
        );
      }
    }
    L.push('', `### Ratios ${labelOf('ours')} / ${labelOf('ref')}`, '');
    L.push('Above 1× is better for throughput columns, worse for latency columns.', '');
    L.push('| workload | ops/s | ops per server CPU-s | p50 | p99 | p99.9 | max |');
    L.push('|---|--:|--:|--:|--:|--:|--:|');
    for (const r of loads) {
      const ref = aggregate(r.loads.filter((x) => x.target === 'ref'));
      const ours = aggregate(r.loads.filter((x) => x.target === 'ours'));
      if (!ref || !ours) {
        L.push(`| ${r.w.id} ${r.w.name} | – | – | – | – | – | – |`);
        continue;
      }
      L.push(
        `| ${r.w.id} ${r.w.name} | ${ratio(ours.ops, ref.ops)} | ${ratio(ours.opsPerCpuSec, ref.opsPerCpuSec)} | ${ratio(ours.p50, ref.p50)} | ${ratio(ours.p99, ref.p99)} | ${ratio(ours.p999, ref.p999)} | ${ratio(ours.max, ref.max)} |`,
      );
    }
    if (targets.some((t) => t.peer)) L.push(...peerSection(loads));
  }
  for (const r of results.filter((x) => x.w.kind === 'memory')) {
    const w = r.w as MemoryWorkload;
    L.push('', `### Memory: ${w.what.replace('1,000,000', num(r.keys))}`, '');
    L.push('RSS per item = (VmRSS after loading − VmRSS of the idle server) / curr_items.', '');
    L.push('| server | items stored | evictions | RSS idle MiB | RSS loaded MiB | RSS per item (B) | load rate (sets/s, 4 conns × 64 pipelined) | read-back check |');
    L.push('|---|--:|--:|--:|--:|--:|--:|---|');
    const per: Partial<Record<TargetKey, number>> = {};
    for (const key of keysIn(r)) {
      const ms = r.mems.filter((x) => x.target === key);
      const fails = r.failures.filter((f) => f.target === key);
      if (ms.length === 0) {
        L.push(`| ${labelOf(key)} | failed | | | | | | ${cell(fails.map((f) => f.message.split('\n')[0]).join('; '))} |`);
        continue;
      }
      const m = (f: (x: MemRun) => number): number => median(ms.map(f));
      const perItem = m((x) => ((x.rssAfterKiB - x.rssBeforeKiB) * 1024) / x.items);
      per[key] = perItem;
      const hits = ms.reduce((s, x) => s + x.checkHits, 0);
      const keys = ms.reduce((s, x) => s + x.checkKeys, 0);
      const bad = ms.reduce((s, x) => s + x.checkVerifyFailures, 0);
      const errs = ms.reduce((s, x) => s + x.loadErrors, 0);
      L.push(
        `| ${labelOf(key)} | ${num(m((x) => x.items))} | ${num(m((x) => x.evictions))} | ${num(m((x) => x.rssBeforeKiB) / 1024, 1)} | ${num(m((x) => x.rssAfterKiB) / 1024, 1)} | ${num(perItem, 1)} | ${num(m((x) => r.keys / x.loadSeconds))} | ${num(hits)}/${num(keys)} hits, ${bad ? `**${bad} wrong**` : 'all values correct'}${errs ? `; **${errs} load errors**` : ''} |`,
      );
    }
    if (per.ref !== undefined && per.ours !== undefined) L.push('', `RSS per item ratio ${labelOf('ours')} / ${labelOf('ref')}: ${ratio(per.ours, per.ref)}`);
  }
  return L.join('\n') + '\n';
}

/** Target for workload a: memcached-ts at least this many times the best JS peer's ops/s. */
const PEER_TARGET = 10;

function peerSection(loads: WorkloadResult[]): string[] {
  const peers = targets.filter((t) => t.peer);
  const L: string[] = ['', `### ${labelOf('ours')} against the JavaScript peers`, ''];
  L.push(
    `Peers: other memcached servers written in JavaScript, from npm, pinned in \`${PEERS_DIR}/package-lock.json\` and started through \`${PEERS_DIR}/launch.cjs\` (binds 127.0.0.1, pinned like the others). ` +
      `"Best peer" is the peer with the most ops/s among those that answered correctly (no wrong value, no error reply, every preloaded key found). ` +
      `Target: ${labelOf('ours')} at least ${PEER_TARGET}× the best peer's ops/s in workload a, counting the peers as npm gives them; ` +
      `a peer the launcher changed to run faster is shown in the last columns and not counted.`,
    '',
  );
  L.push('| peer | version | command | run in | remarks |');
  L.push('|---|---|---|---|---|');
  for (const t of peers) {
    const ran = loads.filter((r) => !r.skipped.some((s) => s.target === t.key)).map((r) => r.w.id);
    L.push(`| ${t.label} | ${t.version ?? '?'} | \`${cell(t.cmdText)}\` | ${ran.join(', ') || '–'} | ${cell(t.peer!.remarks.join('; '))} |`);
  }
  const withPeers = loads.filter((r) => peers.some((t) => !r.skipped.some((s) => s.target === t.key)));
  if (withPeers.length === 0) {
    const why = [...new Set(loads.flatMap((r) => r.skipped.filter((s) => s.target.startsWith('peer:')).map((s) => `${labelOf(s.target)} ${s.why}`)))];
    L.push('', `No peer ran in the selected workloads: ${why.join('; ')}.`);
    return L;
  }
  L.push(
    '',
    `| workload | best peer as published | its ops/s | its ops per server CPU-s | ${labelOf('ours')} ops/s | ops/s ratio | ops per server CPU-s ratio | best changed peer | its ops/s | ops/s ratio | ops per server CPU-s ratio | peers that failed or answered wrongly |`,
  );
  L.push('|---|---|--:|--:|--:|--:|--:|---|--:|--:|--:|---|');
  for (const r of loads) {
    const w = r.w as LoadWorkload;
    const ran = peers.filter((t) => !r.skipped.some((s) => s.target === t.key));
    if (ran.length === 0) continue;
    const ours = aggregate(r.loads.filter((x) => x.target === 'ours'));
    const best: Record<'published' | 'changed', { t: Target; g: Agg } | null> = { published: null, changed: null };
    const bad: string[] = [];
    for (const t of ran) {
      const g = aggregate(r.loads.filter((x) => x.target === t.key));
      const fails = r.failures.filter((f) => f.target === t.key);
      if (!g) {
        bad.push(`${t.label}: failed (${fails[0]?.message.split('\n')[0] ?? '?'})`);
        continue;
      }
      const wrong = wrongness(w, g);
      if (wrong) {
        bad.push(`${t.label}: ${wrong} (${num(g.ops)} ops/s not counted)`);
        continue;
      }
      if (fails.length) bad.push(`${t.label}: ${fails.length} of ${fails.length + g.n} reps failed`);
      const kind = t.peer!.published ? 'published' : 'changed';
      const b = best[kind];
      if (!b || g.ops > b.g.ops) best[kind] = { t, g };
    }
    const p = best.published;
    const c = best.changed;
    const verdict = p && ours && w.id === 'a' ? (ours.ops >= PEER_TARGET * p.g.ops ? ' (target met)' : ` (**below the ${PEER_TARGET}× target**)`) : '';
    const cols = (b: { t: Target; g: Agg } | null, withCpu: boolean, extra = ''): string[] =>
      b && ours
        ? [b.t.label, num(b.g.ops), ...(withCpu ? [num(b.g.opsPerCpuSec), num(ours.ops)] : []), ratio(ours.ops, b.g.ops) + extra, ratio(ours.opsPerCpuSec, b.g.opsPerCpuSec)]
        : [b?.t.label ?? 'none correct', ...(withCpu ? ['–', '–', ours ? num(ours.ops) : '–'] : ['–']), '–', '–'];
    L.push(`| ${w.id} ${w.name} | ${[...cols(p, true, verdict), ...cols(c, false)].join(' | ')} | ${cell(bad.join('; ') || '–')} |`);
  }
  return L;
}

// ---------------------------------------------------------------------------------------

function machineInfo(): string[] {
  const cpus = os.cpus();
  let mcVersion = 'unknown';
  try {
    mcVersion = execFileSync('memcached', ['-V'], { encoding: 'utf8' }).trim();
  } catch {
    /* not installed */
  }
  return [
    `- CPUs: ${ncpu} × ${cpus[0]?.model.trim() ?? 'unknown'}`,
    `- Kernel: ${os.type()} ${os.release()}, memory ${num(os.totalmem() / 2 ** 30, 1)} GiB`,
    `- Node: ${process.version}`,
    `- Load average when the run started: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
    `- Reference: ${mcVersion}`,
  ];
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}

async function main(): Promise<void> {
  if (pin) {
    if (Math.max(clientCpu, serverCpu) >= ncpu) throw new Error(`--client-cpu/--server-cpu must be < ${ncpu}`);
    const r = spawnSync('taskset', ['-a', '-p', '-c', String(clientCpu), String(process.pid)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`taskset failed: ${r.stderr}`);
  }
  const args = process.argv.slice(2);
  const command = `npm run bench${args.length ? ' -- ' + args.map(shellQuote).join(' ') : ''}`;
  const started = new Date();
  if (a.peers) {
    const versions = ensurePeersInstalled(ROOT, (m) => bar.log(m));
    for (const t of targets) if (t.peer) t.version = versions[t.peer.pkg ?? t.peer.name];
  }
  const runsIn = (w: Workload): Target[] => targets.filter((t) => peerSkip(t, w) === null);
  const results: WorkloadResult[] = [];
  let pair = 0;
  let stepNo = 0;
  const totalRuns = selected.reduce((n, w) => n + reps * runsIn(w).length, 0);

  for (const w of selected) {
    const count = w.kind === 'memory' ? (memItems ?? w.items) : quick && w.quickKeys ? w.quickKeys : w.keys;
    bar.log(`workload ${w.id} ${w.name}: ${w.what} (${num(count)} keys)`);
    const ks = new Keyspace({ count, keySize: w.keySize, valueSize: w.valueSize, seed });
    const skipped = targets.flatMap((t) => {
      const why = peerSkip(t, w);
      return why === null ? [] : [{ target: t.key, why }];
    });
    const wr: WorkloadResult = { w, keys: count, loads: [], mems: [], failures: [], skipped };
    results.push(wr);
    const runners = runsIn(w);
    for (let rep = 0; rep < reps; rep++) {
      // Alternate the order (A B C, C B A, ...), so drift (thermal, page cache...) hits all alike.
      const order = pair++ % 2 === 0 ? runners : [...runners].reverse();
      for (const t of order) {
        if (interrupted) return;
        const step = `[${++stepNo}/${totalRuns}]`;
        try {
          if (w.kind === 'load') {
            let r = await runLoadWorkload(w, ks, t, step);
            // other tenants' bursts on a shared host move the tail latencies of whichever
            // server happens to be running: run a disturbed rep again, keep the calmest try
            for (let k = 1; maxOtherCpu > 0 && r.otherCpuPct > maxOtherCpu && k <= retries && !interrupted; k++) {
              bar.log(`  ${step} ${t.label.padEnd(12)} other CPU ${num(r.otherCpuPct)}% > ${maxOtherCpu}%: running this rep again (${k}/${retries})`);
              const again = await runLoadWorkload(w, ks, t, `${step} again`);
              if (again.otherCpuPct < r.otherCpuPct) r = again;
              r.repeats = k;
            }
            wr.loads.push(r);
            bar.log(
              `  ${step} ${t.label.padEnd(12)} ${fmtRate(r.res.opsPerSec).padStart(7)} ops/s  p50 ${us(r.res.latency.p50)} µs  p99 ${us(r.res.latency.p99)} µs  server CPU ${num((100 * r.serverCpuSec) / r.res.seconds)}%  client CPU ${num((100 * r.res.clientCpuSec) / r.res.seconds)}%  other CPU ${num(r.otherCpuPct)}%` +
                (r.retrans > 0 ? `  tcp-retrans ${r.retrans}` : '') +
                (r.res.verifyFailures || r.res.errors ? `  ERRORS ${r.res.errors} / BAD VALUES ${r.res.verifyFailures}` : ''),
            );
          } else {
            const r = await runMemoryWorkload(w, ks, t, step);
            wr.mems.push(r);
            bar.log(`  ${step} ${t.label.padEnd(12)} ${num(r.items)} items, RSS ${num(r.rssBeforeKiB / 1024, 1)} → ${num(r.rssAfterKiB / 1024, 1)} MiB, ${num(((r.rssAfterKiB - r.rssBeforeKiB) * 1024) / r.items, 1)} B/item`);
          }
        } catch (e) {
          bar.clear();
          const msg = (e as Error).message;
          wr.failures.push({ target: t.key, message: msg });
          bar.log(`  ${step} ${t.label} FAILED: ${msg}`);
        }
      }
    }
  }

  const meta = [
    `## Run of ${started.toISOString().replace(/\.\d+Z$/, 'Z')}`,
    '',
    `Command: \`${command}\``,
    '',
    ...machineInfo(),
    `- Reference server: \`${targets[0]!.cmdText}\``,
    `- Server under test (${targets[1]!.label}): \`${targets[1]!.cmdText}\``,
    ...targets.filter((t) => t.peer).map((t) => `- Peer ${t.label}@${t.version ?? '?'}: \`${t.cmdText}\``),
    `- Protocol: ${defaultProtocol}${defaultProtocol === 'binary' ? ` (multi-get as ${binaryGet})` : ''}${selected.some((w) => w.kind === 'load' && w.protocol && w.protocol !== defaultProtocol) ? `; ${selected.filter((w) => w.kind === 'load' && w.protocol && w.protocol !== defaultProtocol).map((w) => `${w.id} uses ${protocolOf(w)}${protocolOf(w) === 'binary' ? ` (${binaryGet})` : ''}`).join(', ')}` : ''}`,
    `- Pinning: ${pin ? `load generator on CPU ${clientCpu}, each server on CPU ${serverCpu} (taskset)` : 'none'}`,
    `- Per run: fresh server, preload, ${warmupMs / 1000} s warm-up, ${durationMs / 1000} s measured; ${reps} rep(s) per server, order alternating${maxOtherCpu > 0 ? `; a rep during which other processes used over ${maxOtherCpu}% of a CPU is run again, up to ${retries} times, keeping the try with the least` : ''}; seed ${seed}; value bytes checked on every ${verifyEvery}th hit`,
    '',
    '| id | workload | conns × depth | get % | keys/get | key space | key size | value size | -m |',
    '|---|---|--:|--:|--:|--:|---|---|--:|',
    ...results.map(({ w, keys }) =>
      w.kind === 'load'
        ? `| ${w.id} | ${w.name} | ${w.connections} × ${w.depth} | ${num(w.getRatio * 100)} | ${w.multiGet} | ${num(keys)} ${describeKeyDist(w.keyDist)} | ${describeSize(w.keySize)} | ${describeSize(w.valueSize)} | ${w.memMB}${w.serverArgs.length ? ` ${w.serverArgs.join(' ')}` : ''} |`
        : `| ${w.id} | ${w.name} | 4 × 64 (load) | – | – | ${num(keys)} | ${describeSize(w.keySize)} | ${describeSize(w.valueSize)} | ${w.memMB} |`,
    ),
  ].join('\n');
  const text = report(results, meta);
  process.stdout.write('\n' + text);
  const out = a.out ?? defaultReportFile({ quick, workloads: a.workloads, target: a.target });
  if (out !== '-') {
    const file = path.resolve(ROOT, out);
    fs.writeFileSync(file, `# Benchmark results\n\nProduced by \`bench/run.ts\`; method in [README.md](README.md).\n\n${text}`);
    process.stderr.write(`\nreport written to ${path.relative(process.cwd(), file) || file}\n`);
  } else if (a.out === undefined) {
    process.stderr.write('\nreport not written: only a full run writes bench/RESULTS.md; --out FILE keeps this one\n');
  }
  if (a.json) {
    fs.writeFileSync(path.resolve(ROOT, a.json), JSON.stringify({ command, started, targets, pin, results }, null, 2));
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    bar.clear();
    process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
    for (const s of live) s.child.kill('SIGKILL');
    process.exit(1);
  },
);
