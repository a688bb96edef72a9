// In-process micro-benchmark of the Cache API, no network: get and set of 100-byte values
// under 10-16 byte keys, in ops/s (the slab-cache issue asks for at least 2,000,000).
//   node dist/bench/cache-micro.js [--keys N] [--rounds R] [--round-ms MS] [--value-size B]
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { benchArgs } from './lib/cli.js';
import { systemClock } from '../src/cache/clock.js';
import { NONE } from '../src/cache/item.js';
import { OpStatus, Outcome, StoreRequest } from '../src/cache/api.js';
import { defaultConfig } from '../src/config/config.js';
import { createCache } from '../src/daemon.js';
import { Keyspace } from './lib/keyspace.js';
import { Rng } from './lib/rng.js';

const MB = 1024 * 1024;

const USAGE = `usage: node dist/bench/cache-micro.js [options]
In-process get/set of the Cache API, no network, in ops/s.
  --keys N          distinct keys (default 1000000)
  --rounds R        measured rounds (default 5)
  --round-ms MS     length of a round (default 1000)
  --value-size B    value bytes (default 100)
  --mem MB          the cache's -m (default 1024)`;

const a = benchArgs(USAGE, {
  keys: { type: 'string', default: '1000000' },
  rounds: { type: 'string', default: '5' },
  'round-ms': { type: 'string', default: '1000' },
  'value-size': { type: 'string', default: '100' },
  mem: { type: 'string', default: '1024' },
});
const keys = Number(a.keys);
const rounds = Number(a.rounds);
const roundMs = Number(a['round-ms']);
const valueSize = Number(a['value-size']);

const ks = new Keyspace({ count: keys, keySize: { min: 10, max: 16 }, valueSize: { min: valueSize, max: valueSize }, seed: 1 });
// memcached's defaults (-n 48 -f 1.25, 1 MiB pages, -I 1m) with the budget given
const cache = createCache({ ...defaultConfig(), memoryLimit: Number(a.mem) * MB }, systemClock);

// A fixed random order of key indexes, so the loop does no RNG work.
const ORDER_LEN = 1 << 20;
const order = new Uint32Array(ORDER_LEN);
const rng = new Rng(7);
for (let i = 0; i < ORDER_LEN; i++) order[i] = Math.floor(rng.next() * keys);

const kb = ks.keyBuf;
const ko = ks.keyOff;
const pool = ks.pool;
const out = Buffer.allocUnsafe(valueSize + 64);
const outView = new DataView(out.buffer, out.byteOffset, out.byteLength);
// per-key value offsets and flags, computed once so the timed loop is the cache's work
const vOff = new Uint32Array(keys);
const flags = new Uint32Array(keys);
for (let k = 0; k < keys; k++) {
  vOff[k] = ks.valueOff(k);
  flags[k] = ks.flags(k);
}

// one request and status object reused by every set, as a protocol session reuses its own
const req = new StoreRequest();
const st = new OpStatus();
req.key = kb;
req.value = pool;
req.vLen = valueSize;

function setKey(k: number): void {
  const o = ko[k]!;
  req.kOff = o;
  req.kLen = ko[k + 1]! - o;
  req.flags = flags[k]!;
  req.vOff = vOff[k]!;
  const r = cache.store(req, st);
  if (r !== Outcome.Stored) throw new Error(`set of key ${k} failed: outcome ${r}`);
}

/** get + copy of the value out, as a protocol encoder does. */
function getKey(k: number): void {
  const o = ko[k]!;
  const id = cache.get(kb, o, ko[k + 1]! - o);
  if (id === NONE) throw new Error(`key ${k} missing`);
  cache.copyValueToView(id, outView, 0);
}

type Op = (k: number) => void;
const mixed: Op = (k) => (k % 10 !== 0 ? getKey(k) : setKey(k));

/**
 * Runs `op` for about roundMs, checking the time every 4096 ops. Returns ops per wall-clock
 * second and ops per CPU second of this process (which other tenants of the host affect less).
 */
function round(op: Op, startAt: number): [number, number] {
  let n = 0;
  let i = startAt;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < roundMs) {
    for (let j = 0; j < 4096; j++) {
      op(order[i & (ORDER_LEN - 1)]!);
      i++;
    }
    n += 4096;
    t = performance.now();
  }
  const cpu = process.cpuUsage(cpu0);
  return [(n / (t - t0)) * 1000, (n / (cpu.user + cpu.system)) * 1e6];
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}

const t0 = performance.now();
for (let k = 0; k < keys; k++) setKey(k);
const loadS = (performance.now() - t0) / 1000;
process.stdout.write(
  `cache-micro: ${keys} keys (10-16 B), ${valueSize} B values, node ${process.version}, load avg ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}\n` +
    `  initial load: ${(keys / loadS).toFixed(0)} sets/s (${loadS.toFixed(2)} s, ${cache.slabs.pages.length} pages)\n`,
);

const results: Array<[string, number[], number[]]> = [
  ['get (hit, value copied)', [], []],
  ['set (replace)', [], []],
  ['90% get / 10% set', [], []],
];
const ops: Op[] = [getKey, setKey, mixed];
// interleave the kinds so background load hits each alike; the first round of each is warm-up
for (let r = 0; r <= rounds; r++) {
  for (let j = 0; j < ops.length; j++) {
    const [wall, cpu] = round(ops[j]!, r * 7919 + j * 104729);
    if (r > 0) {
      results[j]![1].push(wall);
      results[j]![2].push(cpu);
    }
  }
}
for (const [name, xs, cpu] of results) {
  const fmt = (x: number): string => (x / 1e6).toFixed(2);
  process.stdout.write(
    `  ${name.padEnd(24)} median ${fmt(median(xs))} M ops/s wall (min ${fmt(Math.min(...xs))}, max ${fmt(Math.max(...xs))}), ` +
      `${fmt(median(cpu))} M ops per CPU-second; ${xs.length} rounds of ${roundMs} ms\n`,
  );
}
if (cache.stats.evictions > 0) process.stdout.write(`  note: ${cache.stats.evictions} evictions (raise --mem)\n`);
