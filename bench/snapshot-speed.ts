// Snapshot speed: raw disk speed (dd), write/load of 1M x 100-byte items, write/load MB/s of a
// ~1 GiB cache, and client latency plus event-loop stalls while a snapshot runs under load.
// Each figure is measured --runs times (default 3); the median is reported after the runs.
// Run: npx tsc -p tsconfig.json && node dist/bench/snapshot-speed.js [--gib 1] [--runs 3] [--skip-load-test | --only-load-test]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { systemClock } from '../src/cache/clock.js';
import { benchArgs } from './lib/cli.js';
import { OpStatus, StoreRequest } from '../src/cache/api.js';
import { Cache } from '../src/cache/cache.js';
import { defaultConfig, MB } from '../src/config/config.js';
import { startDaemon } from '../src/daemon.js';
import { silentLogger } from '../src/log.js';
import { loadSnapshot } from '../src/persistence/loader.js';
import { writeSnapshot } from '../src/persistence/writer.js';

function cacheOf(memoryMb: number): Cache {
  const c = defaultConfig();
  return new Cache(
    {
      memoryLimit: memoryMb * MB, itemSizeMax: c.itemSizeMax, chunkSize: c.chunkSize, growthFactor: c.growthFactor,
      slabPageSize: c.slabPageSize, slabChunkMax: c.slabChunkMax, noEvict: false, useCas: true,
    },
    systemClock,
  );
}

function fill(cache: Cache, n: number, size: (i: number) => number): number {
  const val = Buffer.alloc(4096, 0x61);
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const k = Buffer.from(`key:${i}`);
    const len = size(i);
    setValue(cache, k, i, i % 2 ? 0 : 86400, val, len);
    bytes += len;
  }
  return bytes;
}

function ddSpeed(dir: string): string {
  const f = path.join(dir, 'dd.bin');
  try {
    const out = execFileSync('dd', ['if=/dev/zero', `of=${f}`, 'bs=1M', 'count=1024', 'conv=fdatasync'], { stdio: ['ignore', 'pipe', 'pipe'] });
    void out;
  } catch (e) {
    return `dd failed: ${(e as Error).message}`;
  }
  const err = execFileSync('sh', ['-c', `dd if=/dev/zero of=${f} bs=1M count=1024 conv=fdatasync 2>&1 | tail -1`]).toString().trim();
  fs.unlinkSync(f);
  return err;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const list = (xs: number[], digits: number): string => xs.map((x) => x.toFixed(digits)).join(', ');

async function timedWriteLoad(label: string, cache: Cache, file: string, memoryMb: number, runs: number): Promise<void> {
  const writeS: number[] = [];
  const loadS: number[] = [];
  const slices: number[] = [];
  let fileMb = 0;
  for (let run = 1; run <= runs; run++) {
    const w = await writeSnapshot(cache, file);
    if (!w.ok) throw new Error(w.message);
    fileMb = w.fileBytes / MB;
    let fresh: Cache | null = cacheOf(memoryMb);
    const t = performance.now();
    const r = loadSnapshot(fresh, file);
    const s = (performance.now() - t) / 1000;
    fresh = null;
    writeS.push(w.durationMs / 1000);
    loadS.push(s);
    slices.push(w.maxSliceMs);
    console.log(
      `${label} run ${run}: ${w.items} items, file ${fileMb.toFixed(0)} MB; write ${(w.durationMs / 1000).toFixed(2)} s ` +
        `(${(fileMb / (w.durationMs / 1000)).toFixed(0)} MB/s, ${w.slices} slices, longest ${w.maxSliceMs.toFixed(1)} ms); load ${s.toFixed(2)} s ` +
        `(${(fileMb / s).toFixed(0)} MB/s, ${r.items} items, status ${r.status})`,
    );
  }
  const mw = median(writeS);
  const ml = median(loadS);
  console.log(
    `${label} MEDIAN of ${runs}: write ${mw.toFixed(2)} s (${(fileMb / mw).toFixed(0)} MB/s) [${list(writeS, 2)}], ` +
      `load ${ml.toFixed(2)} s (${(fileMb / ml).toFixed(0)} MB/s) [${list(loadS, 2)}], longest slice ${median(slices).toFixed(1)} ms`,
  );
}

// ---- load generator (worker thread, so its timing is independent of the daemon's loop) -----

interface Lat {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

async function loadWorker(port: number, conns: number, keys: number): Promise<void> {
  let lat: number[] = [];
  let running = true;
  parentPort!.on('message', (m: string) => {
    if (m === 'reset') lat = [];
    else if (m === 'report') {
      const s = Float64Array.from(lat).sort();
      const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
      parentPort!.postMessage({ n: s.length, p50: q(0.5), p99: q(0.99), max: s[s.length - 1] ?? 0 } satisfies Lat);
    } else if (m === 'stop') running = false;
  });
  const one = (id: number) =>
    new Promise<void>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      let buf = '';
      let t0 = 0;
      let want = '';
      let i = id;
      const next = () => {
        if (!running) {
          sock.destroy();
          resolve();
          return;
        }
        i = (i * 1103515245 + 12345) >>> 0;
        const k = `key:${i % keys}`;
        t0 = performance.now();
        if (i % 10 === 0) {
          want = 'STORED\r\n';
          sock.write(`set ${k} 0 0 100\r\n${'b'.repeat(100)}\r\n`);
        } else {
          want = 'END\r\n';
          sock.write(`get ${k}\r\n`);
        }
      };
      sock.on('connect', next);
      sock.on('data', (d) => {
        buf += d.toString('latin1');
        if (buf.endsWith(want)) {
          lat.push(performance.now() - t0);
          buf = '';
          next();
        }
      });
      sock.on('error', () => resolve());
    });
  await Promise.all(Array.from({ length: conns }, (_, c) => one(c + 1)));
}

const delays = (h: IntervalHistogram): string =>
  `event-loop delay p50 ${(h.percentile(50) / 1e6).toFixed(1)} p99 ${(h.percentile(99) / 1e6).toFixed(1)} max ${(h.max / 1e6).toFixed(1)} ms`;

async function underLoad(gib: number, dir: string, runs: number): Promise<void> {
  const memoryMb = Math.round(gib * 1024 * 1.1);
  const file = path.join(dir, 'load.snap');
  const d = await startDaemon({ ...defaultConfig(), port: -1, memoryLimit: memoryMb * MB, snapshotFile: file }, { log: silentLogger });
  const target = gib * 1024 * MB;
  let bytes = 0;
  let n = 0;
  const val = Buffer.alloc(4096, 0x63);
  while (bytes < target) {
    const k = Buffer.from(`key:${n}`);
    const len = 100 + ((n * 7919) % 1900);
    setValue(d.cache, k, 0, 0, val, len);
    bytes += len;
    n++;
  }
  console.log(`under load: ${n} items, ${(bytes / MB).toFixed(0)} MB of values in a ${memoryMb} MB cache (${d.cache.stats.curr_items} live)`);
  const worker = new Worker(new URL(import.meta.url), { workerData: { port: d.tcpPort, conns: 8, keys: n } });
  const ask = () =>
    new Promise<Lat>((r) => {
      worker.once('message', r);
      worker.postMessage('report');
    });
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await new Promise((r) => setTimeout(r, 1000)); // warm up
  const f = (l: Lat) => `${l.n} requests, p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, max ${l.max.toFixed(1)} ms`;
  const ratios: number[] = [];
  const stalls: number[] = [];
  const baseStalls: number[] = [];
  const slices: number[] = [];
  const mbps: number[] = [];
  for (let run = 1; run <= runs; run++) {
    worker.postMessage('reset');
    h.reset();
    await new Promise((r) => setTimeout(r, 3000));
    const base = await ask();
    const baseDelays = delays(h);
    baseStalls.push(h.max / 1e6);
    worker.postMessage('reset');
    h.reset();
    const w = await d.snapshots!.saveNow();
    const during = await ask();
    const snapDelays = delays(h);
    console.log(`  run ${run} without snapshot (3 s): ${f(base)}; ${baseDelays}`);
    if (!w.ok) {
      console.log(`  run ${run} snapshot failed: ${w.message}`);
      continue;
    }
    stalls.push(h.max / 1e6);
    slices.push(w.maxSliceMs);
    mbps.push(w.fileBytes / MB / (w.durationMs / 1000));
    ratios.push(during.p99 / base.p99);
    console.log(
      `  run ${run} during snapshot (${(w.durationMs / 1000).toFixed(2)} s, ${(w.fileBytes / MB).toFixed(0)} MB, ` +
        `${mbps.at(-1)!.toFixed(0)} MB/s, longest slice ${w.maxSliceMs.toFixed(1)} ms): ${f(during)}; ${snapDelays}`,
    );
    console.log(`  run ${run} p99 ratio during/without: ${ratios.at(-1)!.toFixed(2)}`);
  }
  h.disable();
  worker.postMessage('stop');
  await worker.terminate();
  if (ratios.length > 0) {
    console.log(
      `under load MEDIAN of ${ratios.length}: p99 ratio ${median(ratios).toFixed(2)} [${list(ratios, 2)}], ` +
        `event-loop max delay during ${median(stalls).toFixed(1)} ms [${list(stalls, 1)}] vs without ${median(baseStalls).toFixed(1)} ms [${list(baseStalls, 1)}], ` +
        `longest slice ${median(slices).toFixed(1)} ms, ${median(mbps).toFixed(0)} MB/s`,
    );
  }
  await d.stop('bench');
}

const USAGE = `usage: node dist/bench/snapshot-speed.js [options]
Snapshot write/load speed, and latency and event-loop stalls while a snapshot runs under load.
  --gib G             size of the large cache in GiB (default 1)
  --runs N            measurements per figure; the median is reported (default 3)
  --skip-load-test    only the write/load figures
  --only-load-test    only the figures under load`;

async function main(): Promise<void> {
  const a = benchArgs(USAGE, {
    gib: { type: 'string', default: '1' },
    runs: { type: 'string', default: '3' },
    'skip-load-test': { type: 'boolean', default: false },
    'only-load-test': { type: 'boolean', default: false },
  });
  const gib = Number(a.gib) || 1;
  const runs = Number(a.runs) || 3;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcts-snapbench-'));
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}, dir ${dir}`);
  console.log(`dd (1 GiB, conv=fdatasync): ${ddSpeed(dir)}`);

  if (!a['only-load-test']) {
    const small = cacheOf(512);
    fill(small, 1_000_000, () => 100);
    await timedWriteLoad('1M x 100 B', small, path.join(dir, 'small.snap'), 512, runs);

    const memoryMb = Math.round(gib * 1024 * 1.1);
    const big = cacheOf(memoryMb);
    let n = 0;
    let bytes = 0;
    const val = Buffer.alloc(2048, 0x62);
    while (bytes < gib * 1024 * MB) {
      const len = 100 + ((n * 7919) % 1900);
      const k = Buffer.from(`key:${n}`);
      setValue(big, k, 0, 0, val, len);
      bytes += len;
      n++;
    }
    await timedWriteLoad(`${gib} GiB cache (100..2000 B values)`, big, path.join(dir, 'big.snap'), memoryMb, runs);
  }
  if (!a['skip-load-test']) await underLoad(gib, dir, runs);
  console.log(`load average at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

if (isMainThread) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
} else {
  const { port, conns, keys } = workerData as { port: number; conns: number; keys: number };
  void loadWorker(port, conns, keys);
}

const setReq = new StoreRequest();
const setStatus = new OpStatus();

/** A plain set of `len` bytes of `val` under key `k`. */
function setValue(cache: Cache, k: Buffer, flags: number, exptime: number, val: Buffer, len: number): void {
  setReq.key = k;
  setReq.kLen = k.length;
  setReq.flags = flags;
  setReq.exptime = exptime;
  setReq.value = val;
  setReq.vLen = len;
  cache.store(setReq, setStatus);
}
