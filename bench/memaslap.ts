// A second, independent load generator: memaslap (Debian ships it as `memcaslap` in
// libmemcached-tools), written in C, against memcached -t 1 and memcached-ts, alternating,
// fresh servers per run. Its one client thread can drive a single-threaded server to 100% of
// its CPU, which the suite's Node load generator cannot; so this shows the servers' cost per
// request when they, not the client, are the bottleneck.
//   node dist/bench/memaslap.js [--reps 3] [--seconds 8] [--concurrency 50] [--out FILE]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/cli.js';
import { findMemaslap, memaslapField, runMemaslap } from './lib/memaslap.js';
import { ServerProcess, splitCommand, RUN_AS } from './lib/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOST = '127.0.0.1';
const MC_USER = process.getuid?.() === 0 ? ' -u root' : '';
const DEFAULT_REF = `memcached${MC_USER} -t 1 -U 0 -l ${HOST} -p {port} -m {mem}`;
const DEFAULT_OURS = `node bin/memcached-ts.js${RUN_AS} -p {port} -U 0 -l ${HOST} -m {mem}`;

const USAGE = `usage: node dist/bench/memaslap.js [options]
memaslap (C, one thread) against memcached and memcached-ts, alternating, fresh servers per run.
  --reps N          runs per server (default 3)
  --seconds S       seconds per run (default 8)
  --concurrency N   memaslap connections (default 50)
  --value-size B    value bytes (default 100)
  --out FILE        the markdown report (default bench/RESULTS-memaslap.md; "-" = stdout only)
  --ref-cmd CMD     the reference server (default: ${DEFAULT_REF})
  --ref-label NAME  its name in the report (default memcached)
  --ours-cmd CMD    the server under test (default: ${DEFAULT_OURS})
  --ours-label NAME its name in the report (default memcached-ts)
  --workloads LIST  which of a, a-bin, d to run, comma-separated (default all three)
  --pin             server on CPU 1, memaslap on CPU 0 (taskset), so neither moves between CPUs
{port} in a command becomes a free port. --ref-cmd may name another build, e.g.
"node /path/to/old/bin/memcached-ts.js -p {port} ...".`;

const a = benchArgs(USAGE, {
  reps: { type: 'string', default: '3' },
  seconds: { type: 'string', default: '8' },
  concurrency: { type: 'string', default: '50' },
  'value-size': { type: 'string', default: '100' },
  out: { type: 'string', default: 'bench/RESULTS-memaslap.md' },
  // another reference (e.g. an earlier build: `node /path/to/old/bin/memcached-ts.js -p {port} ...`)
  'ref-cmd': { type: 'string', default: DEFAULT_REF },
  'ref-label': { type: 'string', default: 'memcached' },
  'ours-cmd': { type: 'string', default: DEFAULT_OURS },
  'ours-label': { type: 'string', default: 'memcached-ts' },
  workloads: { type: 'string', default: 'a,a-bin,d' },
  pin: { type: 'boolean', default: false },
});
const SERVERS: Array<[string, string]> = [
  [a['ref-label']!, a['ref-cmd']!],
  [a['ours-label']!, a['ours-cmd']!],
];
const reps = Number(a.reps);
const seconds = Number(a.seconds);
const conc = Number(a.concurrency);
const valueSize = Number(a['value-size']);
const pin = a.pin === true;

interface Workload {
  id: string;
  what: string;
  args: string[];
}
const ALL_WORKLOADS: Workload[] = [
  { id: 'a', what: `${conc} connections, 90% get / 10% set, ${valueSize} B values, text protocol`, args: [] },
  { id: 'a-bin', what: 'the same over the binary protocol (-B)', args: ['-B'] },
  { id: 'd', what: 'the same with gets of 16 keys (-d 16)', args: ['-d', '16'] },
];
const chosen = String(a.workloads).split(',').map((x) => x.trim());
for (const id of chosen) {
  if (!ALL_WORKLOADS.some((w) => w.id === id)) {
    process.stderr.write(`memaslap bench: unknown workload ${id} (a, a-bin or d)\n`);
    process.exit(2);
  }
}
const WORKLOADS = ALL_WORKLOADS.filter((w) => chosen.includes(w.id));

interface Run {
  tps: number;
  ops: number;
  cpu: number;
  /** user and kernel CPU seconds of the server */
  user: number;
  system: number;
  getMisses: number;
  verifyFailed: number;
}

function memaslap(bin: string, port: number, extra: string[]): Promise<string> {
  const args = ['-s', `${HOST}:${port}`, '-T', '1', '-c', String(conc), '-t', `${seconds}s`, '-X', String(valueSize), '-v', '0.05', ...extra];
  return pin ? runMemaslap('taskset', ['-c', '0', bin, ...args], seconds + 30) : runMemaslap(bin, args, seconds + 30);
}

const field = memaslapField;

async function runOne(bin: string, cmd: string, label: string, w: Workload): Promise<Run> {
  const srv = await ServerProcess.start({ argv: splitCommand(cmd), cwd: ROOT }, { label, memMB: 1024, extraArgs: [], cpu: pin ? 1 : null, host: HOST });
  try {
    const t0 = srv.cpuTimes();
    const out = await memaslap(bin, srv.port, w.args);
    const t1 = srv.cpuTimes();
    const user = t1.user - t0.user;
    const system = t1.system - t0.system;
    return { tps: field(out, 'TPS'), ops: field(out, 'Ops'), cpu: user + system, user, system, getMisses: field(out, 'get_misses'), verifyFailed: field(out, 'verify_failed') };
  } finally {
    await srv.stop();
  }
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const num = (x: number): string => Math.round(x).toLocaleString('en-US');

async function main(): Promise<void> {
  const bin = findMemaslap();
  const version = execFileSync('memcached', ['-V'], { encoding: 'utf8' }).trim();
  const started = new Date();
  const rows: string[] = [];
  const ratios: string[] = [];
  for (const w of WORKLOADS) {
    const runs = new Map<string, Run[]>(SERVERS.map(([l]) => [l, []]));
    for (let r = 0; r < reps; r++) {
      const order = r % 2 === 0 ? SERVERS : [...SERVERS].reverse();
      for (const [label, cmd] of order) {
        const run = await runOne(bin, cmd, label, w);
        runs.get(label)!.push(run);
        process.stderr.write(`  ${w.id} ${label.padEnd(13)} ${num(run.tps)} ops/s, server CPU ${run.cpu.toFixed(2)} s, ${num(run.ops / run.cpu)} ops per CPU-s, get_misses ${run.getMisses}, verify_failed ${run.verifyFailed}\n`);
      }
    }
    const agg = SERVERS.map(([label]) => {
      const rs = runs.get(label)!;
      return {
        label,
        tps: median(rs.map((x) => x.tps)),
        perCpu: median(rs.map((x) => x.ops / x.cpu)),
        cpuPct: median(rs.map((x) => (100 * x.cpu) / seconds)),
        range: `${num(Math.min(...rs.map((x) => x.ops / x.cpu)))}–${num(Math.max(...rs.map((x) => x.ops / x.cpu)))}`,
        userUs: median(rs.map((x) => (1e6 * x.user) / x.ops)),
        systemUs: median(rs.map((x) => (1e6 * x.system) / x.ops)),
        bad: rs.reduce((n, x) => n + x.verifyFailed, 0),
      };
    });
    for (const g of agg) rows.push(`| ${w.id} | ${g.label} | ${num(g.tps)} | ${num(g.cpuPct)}% | ${num(g.perCpu)} | ${g.range} | ${g.userUs.toFixed(2)} | ${g.systemUs.toFixed(2)} | ${g.bad} |`);
    ratios.push(`| ${w.id} | ${w.what} | ${(agg[1]!.tps / agg[0]!.tps).toFixed(2)}× | ${(agg[1]!.perCpu / agg[0]!.perCpu).toFixed(2)}× |`);
  }
  const text = [
    '# memaslap: a second load generator',
    '',
    'Produced by `bench/memaslap.ts`. memaslap (libmemcached-tools, C, one client thread) drives',
    'each server to its full CPU, which the suite\'s Node load generator cannot; so these figures show',
    'what a request costs each server when the server is the bottleneck. The targets of the',
    'benchmark issue are measured with the suite (bench/RESULTS.md); these are reported beside them.',
    '',
    `## Run of ${started.toISOString().replace(/\.\d+Z$/, 'Z')}`,
    '',
    `Command: \`node dist/bench/memaslap.js${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}\``,
    '',
    `- CPUs: ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? '?'}; Node ${process.version}; ${version}`,
    `- Load average when the run started: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
    `- memaslap: \`${pin ? 'taskset -c 0 ' : ''}${bin} -s 127.0.0.1:{port} -T 1 -c ${conc} -t ${seconds}s -X ${valueSize} -v 0.05 [-B | -d 16]\` (its default key set and get/set proportions, 90/10; 5% of gets verified)`,
    `- Servers: ${SERVERS.map(([l, c]) => `${l}: \`${c}\``).join('; ')}; a fresh server per run${pin ? ' pinned to CPU 1 (taskset -c 1)' : ''}, -m 1024, ${reps} runs each, order alternating; medians`,
    '',
    '| workload | server | ops/s | server CPU | ops per server CPU-s | range | user µs/op | kernel µs/op | verify_failed |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|',
    ...rows,
    '',
    `${SERVERS[1]![0]} / ${SERVERS[0]![0]}:`,
    '',
    '| workload | what | ops/s | ops per server CPU-s |',
    '|---|---|--:|--:|',
    ...ratios,
    '',
  ].join('\n');
  process.stdout.write(text);
  fs.writeFileSync(path.resolve(ROOT, a.out!), text);
  process.stderr.write(`report written to ${a.out}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`memaslap bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
