// Does a big resident cache hurt tail latency (GC, crawler)? Gets under steady load against a
// daemon holding 10,000 small items, then 5,000,000; p99.9 should stay within 2x.
//   node dist/bench/gc.js [--sizes 10000,5000000] [--reps N] [--conns N] [--duration S] [--server memcached-ts|memcached]
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/cli.js';
import { Keyspace } from './lib/keyspace.js';
import { mixedSource, preload, runLoad, type LoadResult } from './lib/loadgen.js';
import { ServerProcess, splitCommand, RUN_AS } from './lib/server.js';
import { TextDriver } from './lib/text-protocol.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOST = '127.0.0.1';
const MC_USER = process.getuid?.() === 0 ? ' -u root' : '';
const SERVERS: Record<string, string> = {
  'memcached-ts': `node bin/memcached-ts.js${RUN_AS} -p -1 -U 0 -l ${HOST} -m {mem}`,
  memcached: `memcached${MC_USER} -t 1 -U 0 -l ${HOST} -p -1 -m {mem}`,
};

const USAGE = `usage: node dist/bench/gc.js [options]
Tail latency of gets under steady load with a small and a large resident cache.
  --sizes N,N       resident items per phase (default 10000,5000000)
  --reps N          runs per size (default 3)
  --conns N         client connections (default 20)
  --duration S      measured seconds per run (default 10)
  --warmup S        unmeasured seconds before that (default 2)
  --server NAME     memcached-ts or memcached (default memcached-ts)`;

const a = benchArgs(USAGE, {
  sizes: { type: 'string', default: '10000,5000000' },
  reps: { type: 'string', default: '3' },
  conns: { type: 'string', default: '20' },
  duration: { type: 'string', default: '10' },
  warmup: { type: 'string', default: '2' },
  server: { type: 'string', default: 'memcached-ts' },
});
const sizes = a.sizes!.split(',').map(Number);
const reps = Number(a.reps);
const serverCmd = SERVERS[a.server!];
if (serverCmd === undefined) throw new Error(`--server must be one of ${Object.keys(SERVERS).join(', ')}`);

const log = (s: string): void => void process.stderr.write(`${s}\n`);
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

/** One fresh server: load `items` keys, then gets only for the measured window. */
async function run(items: number): Promise<{ res: LoadResult; rssMiB: number; loadS: number }> {
  // 10-16 B keys and 10 B values: one 96-byte chunk per item, 5M items in ~480 MiB of pages
  const ks = new Keyspace({ count: items, keySize: { min: 10, max: 16 }, valueSize: { min: 10, max: 10 }, seed: 3 });
  const srv = await ServerProcess.start({ argv: splitCommand(serverCmd!), cwd: ROOT }, { label: a.server!, memMB: 1024, extraArgs: [], cpu: null, host: HOST });
  try {
    const driver = new TextDriver(ks);
    const loaded = await preload(HOST, srv.port, ks, driver);
    if (loaded.errors > 0) throw new Error(`load errors: ${loaded.errorSamples.join('; ')}`);
    const res = await runLoad(
      {
        host: HOST,
        port: srv.port,
        connections: Number(a.conns),
        depth: 1,
        maxKeys: 1,
        source: mixedSource(ks, 1, 1, { kind: 'uniform' }),
        mode: 'timed',
        warmupMs: Number(a.warmup) * 1000,
        durationMs: Number(a.duration) * 1000,
        seed: 1,
        verifyEvery: 16,
      },
      driver,
    );
    const st = await srv.stats();
    if (Number(st.curr_items) !== items) log(`  warning: curr_items ${st.curr_items}, expected ${items}`);
    if (res.misses > 0 || res.errors > 0 || res.verifyFailures > 0) log(`  warning: ${res.misses} misses, ${res.errors} errors, ${res.verifyFailures} bad values`);
    return { res, rssMiB: srv.rssKiB() / 1024, loadS: loaded.seconds };
  } finally {
    await srv.stop();
  }
}

log(`gc bench (${a.server}): node ${process.version}, ${os.cpus().length} CPUs, load avg ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const rows: string[] = [];
const p999: number[] = [];
for (const items of sizes) {
  const runs: Array<{ res: LoadResult; rssMiB: number }> = [];
  for (let rep = 0; rep < reps; rep++) {
    const r = await run(items);
    runs.push(r);
    const l = r.res.latency;
    log(
      `  ${items} items rep ${rep + 1}: load ${r.loadS.toFixed(1)} s, ${Math.round(r.res.opsPerSec)} gets/s, ` +
        `p50 ${l.p50.toFixed(0)} us, p99 ${l.p99.toFixed(0)} us, p99.9 ${l.p999.toFixed(0)} us, max ${l.max.toFixed(0)} us, RSS ${r.rssMiB.toFixed(0)} MiB`,
    );
  }
  const m = (f: (l: LoadResult) => number): number => median(runs.map((r) => f(r.res)));
  p999.push(m((r) => r.latency.p999));
  rows.push(
    `| ${items} | ${Math.round(m((r) => r.opsPerSec))} | ${m((r) => r.latency.p50).toFixed(0)} | ${m((r) => r.latency.p99).toFixed(0)} | ` +
      `${m((r) => r.latency.p999).toFixed(0)} | ${m((r) => r.latency.max).toFixed(0)} | ${median(runs.map((r) => r.rssMiB)).toFixed(0)} |`,
  );
}
process.stdout.write(
  `\n## ${a.server}: gets under steady load, ${a.conns} connections depth 1, ${a.duration} s measured (median of ${reps})\n\n` +
    `| resident items | gets/s | p50 us | p99 us | p99.9 us | max us | RSS MiB |\n|---:|---:|---:|---:|---:|---:|---:|\n` +
    rows.join('\n') +
    (p999.length >= 2 ? `\n\np99.9 ratio, ${sizes.at(-1)} / ${sizes[0]} items: **${(p999.at(-1)! / p999[0]!).toFixed(2)}x** (target <= 2x)\n` : '\n'),
);
