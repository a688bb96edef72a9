// Memory of the slab cache as a real process, against real memcached:
//  0. Idle: VmRSS of a bare `node` process, memcached-ts and memcached, --idle-wait seconds
//     after start (by then V8's memory reducer has shrunk the heap grown during startup).
//  1. RSS per item: 1,000,000 items (10-16 byte keys, 100-byte values) into -m 1024;
//     (VmRSS after - VmRSS at start) / items, and the whole-process VmRSS 1 s after the load
//     and 10 s after it (the process left alone: the young generation grown by the load has
//     shrunk by then), as ratios ours / memcached (target for the whole process: <= 1.2).
//  2. A small budget: ~1 GiB of distinct keys (500-1500 byte values) through -m 64; the peak
//     VmRSS minus the 64 MiB budget is the fixed overhead (target < 100 MiB), evictions counted.
//   node dist/bench/memory.js [--reps N] [--items N] [--stream-gib G] [--only idle|per-item|budget]
// The servers run on the node that runs this script (npx -y -p node@24 node dist/bench/memory.js).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/cli.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { Keyspace } from './lib/keyspace.js';
import { preload } from './lib/loadgen.js';
import { ServerProcess, splitCommand, textCommand, RUN_AS } from './lib/server.js';
import { TextDriver } from './lib/text-protocol.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOST = '127.0.0.1';
const KiB = 1024;
const MiB = 1024 * 1024;
const MC_USER = process.getuid?.() === 0 ? ' -u root' : '';
const SERVERS = {
  'memcached-ts': `node bin/memcached-ts.js${RUN_AS} -p -1 -U 0 -l ${HOST} -m {mem}`,
  memcached: `memcached${MC_USER} -t 1 -U 0 -l ${HOST} -p -1 -m {mem}`,
} as const;
type ServerName = keyof typeof SERVERS;

const USAGE = `usage: node dist/bench/memory.js [options]
RSS per item and the fixed overhead under a small -m, against memcached.
  --reps N          runs per server (default 3)
  --items N         items for the per-item figure (default 1000000)
  --stream-gib G    GiB of distinct values streamed through -m 64 (default 1)
  --idle-wait S     seconds before the idle reading (default 10)
  --only WHICH      idle, per-item or budget (default all three)
  --node-flags F    flags for memcached-ts's node, space-separated (e.g. "--no-maglev")`;

const a = benchArgs(USAGE, {
  reps: { type: 'string', default: '3' },
  items: { type: 'string', default: '1000000' },
  'stream-gib': { type: 'string', default: '1' },
  'idle-wait': { type: 'string', default: '10' },
  only: { type: 'string' },
  'node-flags': { type: 'string', default: '' },
});
const nodeFlags = String(a['node-flags']).split(' ').filter((f) => f !== '');
const reps = Number(a.reps);

async function start(name: ServerName, memMB: number): Promise<ServerProcess> {
  const argv = splitCommand(SERVERS[name]);
  if (name === 'memcached-ts') argv.splice(1, 0, ...nodeFlags);
  return ServerProcess.start({ argv, cwd: ROOT }, { label: name, memMB, extraArgs: [], cpu: null, host: HOST });
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}

const log = (s: string): void => void process.stderr.write(`${s}\n`);

interface PerItem {
  baseKiB: number;
  afterKiB: number;
  /** RSS 10 s after the load, the process left alone (the steady figure an operator sees). */
  settledKiB: number;
  items: number;
  perItem: number;
}

async function perItemRun(name: ServerName, ks: Keyspace): Promise<PerItem> {
  const srv = await start(name, 1024);
  try {
    await sleep(500);
    const baseKiB = srv.rssKiB();
    const r = await preload(HOST, srv.port, ks, new TextDriver(ks));
    if (r.errors > 0) throw new Error(`${name}: ${r.errors} errors during load: ${r.errorSamples.join('; ')}`);
    await sleep(1000);
    const afterKiB = srv.rssKiB();
    const st = await srv.stats();
    const items = Number(st.curr_items);
    if (Number(st.evictions) > 0) log(`  warning: ${name} evicted ${st.evictions} items`);
    await sleep(9000);
    const settledKiB = srv.rssKiB();
    return { baseKiB, afterKiB, settledKiB, items, perItem: ((afterKiB - baseKiB) * KiB) / items };
  } finally {
    await srv.stop();
  }
}

interface Budget {
  baseKiB: number;
  peakKiB: number;
  finalKiB: number;
  sets: number;
  evictions: number;
  currItems: number;
  malloced: number;
  overheadMiB: number;
}

async function budgetRun(name: ServerName, ks: Keyspace, memMB: number): Promise<Budget> {
  const srv = await start(name, memMB);
  try {
    await sleep(500);
    const baseKiB = srv.rssKiB();
    let peakKiB = baseKiB;
    const timer = setInterval(() => {
      peakKiB = Math.max(peakKiB, srv.rssKiB());
    }, 100);
    let r;
    try {
      r = await preload(HOST, srv.port, ks, new TextDriver(ks));
    } finally {
      clearInterval(timer);
    }
    if (r.errors > 0) throw new Error(`${name}: ${r.errors} errors during load: ${r.errorSamples.join('; ')}`);
    const finalKiB = srv.rssKiB();
    peakKiB = Math.max(peakKiB, finalKiB);
    const st = await srv.stats();
    const slabs = await textStatsSlabs(srv);
    return {
      baseKiB,
      peakKiB,
      finalKiB,
      sets: r.ops,
      evictions: Number(st.evictions),
      currItems: Number(st.curr_items),
      malloced: slabs,
      overheadMiB: (peakKiB * KiB - memMB * MiB) / MiB,
    };
  } finally {
    await srv.stop();
  }
}

async function textStatsSlabs(srv: ServerProcess): Promise<number> {
  const text = await textCommand(HOST, srv.port, 'stats slabs', /(^|\r\n)END\r\n$/);
  const m = /STAT total_malloced (\d+)/.exec(text);
  return m ? Number(m[1]) : NaN;
}

const mib = (kib: number): string => (kib / KiB).toFixed(1);
log(`memory bench: node ${process.version}, ${os.cpus().length} CPUs, load avg ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

interface Idle {
  rssKiB: number;
  anonKiB: number;
  fileKiB: number;
}

function statusKiB(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
  return m ? Number(m[1]) : NaN;
}

/** RSS of a process `wait` ms after start, split into anonymous and file-backed pages. */
async function idleRun(argv: readonly string[], wait: number): Promise<Idle> {
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: 'ignore' });
  try {
    await sleep(wait);
    const pid = child.pid!;
    if (child.exitCode !== null) throw new Error(`${argv.join(' ')} exited with ${child.exitCode}`);
    return { rssKiB: statusKiB(pid, 'VmRSS'), anonKiB: statusKiB(pid, 'RssAnon'), fileKiB: statusKiB(pid, 'RssFile') };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
  }
}

if (a.only === undefined || a.only === 'idle') {
  const wait = Number(a['idle-wait']) * 1000;
  const idle: Record<string, readonly string[]> = {
    'node (bare)': [process.execPath, '-e', 'setInterval(() => {}, 1e9)'],
    'memcached-ts': [process.execPath, ...nodeFlags, ...splitCommand(SERVERS['memcached-ts'].replace('{mem}', '64')).slice(1)],
    memcached: splitCommand(SERVERS.memcached.replace('{mem}', '64')),
  };
  const res: Record<string, Idle[]> = {};
  for (let rep = 0; rep < reps; rep++) {
    for (const [name, argv] of Object.entries(idle)) {
      const r = await idleRun(argv, wait);
      (res[name] ??= []).push(r);
      log(`  idle ${name} rep ${rep + 1}: ${mib(r.rssKiB)} MiB (anon ${mib(r.anonKiB)}, file ${mib(r.fileKiB)})`);
    }
  }
  const bare = median(res['node (bare)']!.map((r) => r.rssKiB));
  process.stdout.write(
    `\n## Idle RSS ${a['idle-wait']} s after start, -m 64 (median of ${reps})\n\n` +
      `| process | RSS MiB | anonymous MiB | file-backed MiB | RSS - bare node MiB |\n|---|---:|---:|---:|---:|\n` +
      Object.entries(res)
        .map(([n, rs]) => {
          const m = (f: (r: Idle) => number): number => median(rs.map(f));
          return `| ${n} | ${mib(m((r) => r.rssKiB))} | ${mib(m((r) => r.anonKiB))} | ${mib(m((r) => r.fileKiB))} | ${mib(m((r) => r.rssKiB) - bare)} |`;
        })
        .join('\n') +
      '\n',
  );
}

if (a.only === undefined || a.only === 'per-item') {
  const items = Number(a.items);
  const ks = new Keyspace({ count: items, keySize: { min: 10, max: 16 }, valueSize: { min: 100, max: 100 }, seed: 1 });
  const res: Record<ServerName, PerItem[]> = { 'memcached-ts': [], memcached: [] };
  for (let rep = 0; rep < reps; rep++) {
    for (const name of ['memcached', 'memcached-ts'] as const) {
      const r = await perItemRun(name, ks);
      res[name].push(r);
      log(`  per-item ${name} rep ${rep + 1}: base ${mib(r.baseKiB)} MiB, after ${mib(r.afterKiB)} MiB, 10 s after ${mib(r.settledKiB)} MiB, ${r.items} items, ${r.perItem.toFixed(1)} B/item`);
    }
  }
  const ours = median(res['memcached-ts'].map((r) => r.perItem));
  const theirs = median(res.memcached.map((r) => r.perItem));
  process.stdout.write(
    `\n## RSS per item: ${items} items, 10-16 B keys, 100 B values, -m 1024 (median of ${reps})\n\n` +
      `| server | base RSS MiB | RSS 1 s after MiB | RSS 10 s after MiB | bytes/item |\n|---|---:|---:|---:|---:|\n` +
      (['memcached', 'memcached-ts'] as const)
        .map((n) => {
          const rs = res[n];
          return `| ${n} | ${mib(median(rs.map((r) => r.baseKiB)))} | ${mib(median(rs.map((r) => r.afterKiB)))} | ${mib(median(rs.map((r) => r.settledKiB)))} | ${median(rs.map((r) => r.perItem)).toFixed(1)} |`;
        })
        .join('\n') +
      `\n\nratio memcached-ts / memcached, bytes per item: ${(ours / theirs).toFixed(2)}x; ` +
      `whole-process RSS 1 s after the load: **${(median(res['memcached-ts'].map((r) => r.afterKiB)) / median(res.memcached.map((r) => r.afterKiB))).toFixed(2)}x**, ` +
      `10 s after: **${(median(res['memcached-ts'].map((r) => r.settledKiB)) / median(res.memcached.map((r) => r.settledKiB))).toFixed(2)}x** (target <= 1.2x)\n`,
  );
}

if (a.only === undefined || a.only === 'budget') {
  const gib = Number(a['stream-gib']);
  // values 500-1500 B (mean 1000) plus ~13 B keys: enough distinct keys for `gib` GiB
  const count = Math.ceil((gib * 1024 * MiB) / 1013);
  const ks = new Keyspace({ count, keySize: { min: 10, max: 16 }, valueSize: { min: 500, max: 1500 }, seed: 2 });
  const res: Record<ServerName, Budget[]> = { 'memcached-ts': [], memcached: [] };
  for (let rep = 0; rep < reps; rep++) {
    for (const name of ['memcached', 'memcached-ts'] as const) {
      const r = await budgetRun(name, ks, 64);
      res[name].push(r);
      log(
        `  budget ${name} rep ${rep + 1}: base ${mib(r.baseKiB)} MiB, peak ${mib(r.peakKiB)} MiB, final ${mib(r.finalKiB)} MiB, ` +
          `${r.sets} sets, ${r.evictions} evictions, ${r.currItems} items, total_malloced ${(r.malloced / MiB).toFixed(0)} MiB`,
      );
    }
  }
  process.stdout.write(
    `\n## -m 64 with ${gib} GiB of distinct keys (${count} keys, 500-1500 B values; median of ${reps})\n\n` +
      `| server | base RSS MiB | peak RSS MiB | final RSS MiB | peak - 64 MiB | peak - base - 64 MiB | evictions | curr_items |\n|---|---:|---:|---:|---:|---:|---:|---:|\n` +
      (['memcached', 'memcached-ts'] as const)
        .map((n) => {
          const rs = res[n];
          const m = (f: (r: Budget) => number): number => median(rs.map(f));
          return `| ${n} | ${mib(m((r) => r.baseKiB))} | ${mib(m((r) => r.peakKiB))} | ${mib(m((r) => r.finalKiB))} | ${m((r) => r.overheadMiB).toFixed(1)} | ${m((r) => r.overheadMiB - r.baseKiB / KiB).toFixed(1)} | ${m((r) => r.evictions)} | ${m((r) => r.currItems)} |`;
        })
        .join('\n') +
      '\n\ntarget: memcached-ts peak RSS - budget < 100 MiB\n',
  );
}
