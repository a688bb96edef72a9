// In-process tests of the snapshot format, writer and loader on a ManualClock: round trips,
// every kind of damage, a cache smaller than the snapshot, and changes during a sliced write.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/cache/clock.js';
import type { Cache } from '../../src/cache/cache.js';
import {
  BLOCK_HEADER_BYTES,
  crc32Fallback,
  encodeHeader,
  FORMAT_VERSION,
  HEADER_BYTES,
  RECORD_HEADER_BYTES,
} from '../../src/persistence/format.js';
import { loadSnapshot } from '../../src/persistence/loader.js';
import { writeSnapshot } from '../../src/persistence/writer.js';
import { fuzzSeed, randomInt, seededRandom } from '../support/random.js';
import { allKeys, captureLog, MB, newCache, peek, set, tempDir } from './helpers.js';

const T0 = 1_700_000_000;

function filled(clock: ManualClock, n = 200): Cache {
  const c = newCache(clock);
  for (let i = 0; i < n; i++) {
    set(c, `key:${i}`, `value-${i}-${'x'.repeat(i % 50)}`, i * 7, i % 3 === 0 ? 0 : 1000 + i);
    clock.advance(1);
  }
  set(c, 'big', Buffer.alloc(700 * 1024, 0xab), 42, 0); // chained over several chunks
  set(c, 'short-lived', 'soon gone', 1, 10);
  return c;
}

async function save(cache: Cache, file: string, blockTarget?: number): Promise<void> {
  const r = await writeSnapshot(cache, file, blockTarget ? { blockTarget } : {});
  expect(r.ok, JSON.stringify(r)).toBe(true);
}

function expectSameItems(from: Cache, to: Cache, skip: (k: string) => boolean = () => false): void {
  for (const k of allKeys(from)) {
    if (skip(k)) continue;
    const a = peek(from, k)!;
    const b = peek(to, k);
    expect(b, k).not.toBeNull();
    expect(b!.value.equals(a.value), k).toBe(true);
    expect([b!.flags, b!.cas, b!.exptime, b!.time], k).toEqual([a.flags, a.cas, a.exptime, a.time]);
  }
}

describe('crc32', () => {
  it('the JS fallback matches zlib.crc32, which this Node has', () => {
    expect(typeof zlib.crc32).toBe('function');
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 31) & 0xff));
    expect(crc32Fallback(data)).toBe(zlib.crc32(data));
    expect(crc32Fallback(data.subarray(100), crc32Fallback(data.subarray(0, 100)))).toBe(zlib.crc32(data));
  });
});

describe('round trip in process', () => {
  it('keeps value, flags, CAS, absolute exptime and access time; drops what expired while down', async () => {
    const clock = new ManualClock(T0);
    const a = filled(clock);
    const dir = tempDir();
    const file = path.join(dir, 'snap');
    await save(a, file);
    clock.advance(100); // downtime: short-lived (10 s) expired; the others (>= 1000 s) did not
    const b = newCache(clock);
    const log = captureLog();
    const r = loadSnapshot(b, file, { log });
    expect(r.status).toBe('loaded');
    expect(r.expired).toBe(1);
    expect(r.items).toBe(201);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatch(/^snapshot: loaded .* 201 items .* skipped 1 expired/);
    expect(peek(b, 'short-lived')).toBeNull();
    expectSameItems(a, b, (k) => k === 'short-lived');
    // the CAS counter continues above every loaded CAS
    expect(b.casCounter).toBeGreaterThanOrEqual(a.casCounter);
    set(b, 'new', 'n');
    expect(peek(b, 'new')!.cas).toBeGreaterThan(a.casCounter);
    expect(fs.readdirSync(dir)).toEqual(['snap']);
  });

  it('restores each class LRU newest first', async () => {
    const clock = new ManualClock(T0);
    const a = newCache(clock);
    for (let i = 0; i < 50; i++) {
      set(a, `k${i}`, 'v');
      clock.advance(61);
    }
    const file = path.join(tempDir(), 'snap');
    await save(a, file);
    const b = newCache(clock);
    loadSnapshot(b, file);
    const cls = b.itemClass(b.lru.head.findIndex((h) => h !== 0xffffffff) === -1 ? 0 : [...b.lru.head].find((h) => h !== 0xffffffff)!);
    const order = [...b.itemsOfClass(cls)].map((id) => b.itemTime(id));
    expect(order).toEqual([...order].sort((x, y) => y - x));
    expect(order).toHaveLength(50);
  });

  it('without CAS (-C) saves zero CAS, and a CAS-on cache gives loaded items fresh ones', async () => {
    const clock = new ManualClock(T0);
    const a = newCache(clock, 64, { useCas: false });
    set(a, 'x', '1');
    const file = path.join(tempDir(), 'snap');
    await save(a, file);
    const b = newCache(clock);
    loadSnapshot(b, file);
    expect(peek(b, 'x')!.cas).toBeGreaterThan(0);
  });

  it('an empty cache round-trips to an empty cache', async () => {
    const clock = new ManualClock(T0);
    const file = path.join(tempDir(), 'snap');
    await save(newCache(clock), file);
    const r = loadSnapshot(newCache(clock), file);
    expect(r).toMatchObject({ status: 'loaded', items: 0 });
  });
});

describe('a snapshot larger than -m', () => {
  it('loads what fits, most recently used first, and says so', async () => {
    const clock = new ManualClock(T0);
    const a = newCache(clock, 16);
    for (let i = 0; i < 8000; i++) {
      set(a, `k${i}`, Buffer.alloc(1000, i & 0xff));
      clock.advance(1);
    }
    const file = path.join(tempDir(), 'snap');
    await save(a, file);
    const b = newCache(clock, 4);
    const log = captureLog();
    const r = loadSnapshot(b, file, { log });
    expect(r.status).toBe('loaded');
    expect(r.noRoom).toBeGreaterThan(0);
    expect(r.items + r.noRoom).toBe(allKeys(a).length);
    expect(log.lines[0]).toMatch(/did not fit in -m \(kept the most recently used\)/);
    // every loaded item is newer than every item left out
    const loaded = new Set(allKeys(b));
    const times = (inside: boolean) => allKeys(a).filter((k) => loaded.has(k) === inside).map((k) => peek(a, k)!.time);
    expect(Math.min(...times(true))).toBeGreaterThanOrEqual(Math.max(...times(false)));
    expect(b.stats.evictions).toBe(0);
  });
});

// ---- damage ------------------------------------------------------------------------------------

/** Record and block boundaries of a snapshot file, read from its structure. */
function layout(buf: Buffer): { blockEnds: number[]; recordEnds: number[]; recordsBefore: (off: number) => number } {
  const blockEnds: number[] = [];
  const recordEnds: number[] = [];
  const perBlock: number[] = [];
  let off = HEADER_BYTES;
  while (off < buf.length && buf.readUInt32LE(off) === 0x314b4c42) {
    const len = buf.readUInt32LE(off + 4);
    let p = off + BLOCK_HEADER_BYTES;
    const end = p + len;
    while (p < end) {
      p += RECORD_HEADER_BYTES + buf[p + 24]! + buf.readUInt32LE(p + 12);
      recordEnds.push(p);
    }
    perBlock.push(buf.readUInt32LE(off + 8));
    off = end;
    blockEnds.push(off);
  }
  return {
    blockEnds,
    recordEnds,
    recordsBefore: (cut) => blockEnds.reduce((n, e, i) => (e <= cut ? n + perBlock[i]! : n), 0),
  };
}

describe('damaged files', () => {
  async function sample(): Promise<{ clock: ManualClock; a: Cache; bytes: Buffer; dir: string }> {
    const clock = new ManualClock(T0);
    const a = newCache(clock);
    for (let i = 0; i < 120; i++) set(a, `key:${i}`, `v${i}:${'y'.repeat(i)}`, i, 0);
    const dir = tempDir();
    await save(a, path.join(dir, 'good'), 600); // small blocks: many checksums to test
    return { clock, a, bytes: fs.readFileSync(path.join(dir, 'good')), dir };
  }

  /** Load `bytes` as a snapshot; everything that loaded must be exactly what was saved. */
  function loadBytes(s: { clock: ManualClock; a: Cache; dir: string }, bytes: Buffer, name: string) {
    const file = path.join(s.dir, name);
    fs.writeFileSync(file, bytes);
    const b = newCache(s.clock);
    const log = captureLog();
    let n = 0;
    const r = loadSnapshot(b, file, { log, badSuffix: () => `t${++n}` });
    for (const k of allKeys(b)) {
      const want = peek(s.a, k);
      expect(want, `garbage key ${k}`).not.toBeNull();
      expect(peek(b, k)!.value.equals(want!.value)).toBe(true);
      expect(peek(b, k)!.flags).toBe(want!.flags);
    }
    expect(log.lines).toHaveLength(1);
    return { r, b, file, line: log.lines[0]! };
  }

  it('truncation at every record boundary loads exactly the whole blocks before the cut', async () => {
    const s = await sample();
    const lay = layout(s.bytes);
    expect(lay.blockEnds.length).toBeGreaterThan(5);
    for (const cut of [...lay.recordEnds, ...lay.blockEnds, HEADER_BYTES]) {
      const { r, file, line } = loadBytes(s, s.bytes.subarray(0, cut), `cut-${cut}`);
      expect(r.status).toBe('partial');
      expect(r.items).toBe(lay.recordsBefore(cut));
      expect(line).toMatch(/is truncated.*loaded the verified part.*moved it to .*\.bad-t1$/);
      expect(fs.existsSync(file)).toBe(false);
      expect(fs.existsSync(`${file}.bad-t1`)).toBe(true);
    }
  });

  it('truncation at random offsets never loads garbage', async () => {
    const s = await sample();
    const lay = layout(s.bytes);
    const seed = fuzzSeed('truncation at random offsets', 'fresh');
    const rand = seededRandom(seed);
    for (let i = 0; i < 200; i++) {
      const cut = randomInt(rand, s.bytes.length);
      const { r } = loadBytes(s, s.bytes.subarray(0, cut), `rand-${i}`);
      expect(r.status, `cut at ${cut} (seed ${seed})`).not.toBe('loaded');
      expect(r.items, `cut at ${cut} (seed ${seed})`).toBe(cut < HEADER_BYTES ? 0 : lay.recordsBefore(cut));
    }
  });

  it('a flipped byte anywhere is detected; only the records of its own block are lost', async () => {
    const s = await sample();
    const lay = layout(s.bytes);
    const starts = [HEADER_BYTES, ...lay.blockEnds.slice(0, -1)];
    const recordsIn = (at: number): number => {
      const i = starts.findIndex((st, j) => at >= st && at < lay.blockEnds[j]!);
      return i < 0 ? 0 : lay.recordsBefore(lay.blockEnds[i]!) - lay.recordsBefore(starts[i]!);
    };
    const seed = fuzzSeed('a flipped byte anywhere', 'fresh');
    const rand = seededRandom(seed);
    const positions = [
      ...Array.from({ length: HEADER_BYTES }, (_, i) => i),
      // every byte of the second block's header and the end block's: marker, length, count, checksum
      ...Array.from({ length: BLOCK_HEADER_BYTES }, (_, i) => starts[1]! + i),
      ...Array.from({ length: BLOCK_HEADER_BYTES }, (_, i) => lay.blockEnds.at(-1)! + i),
      ...Array.from({ length: 300 }, () => randomInt(rand, s.bytes.length)),
    ];
    for (const at of positions) {
      const bad = Buffer.from(s.bytes);
      bad[at] = bad[at]! ^ (1 << (at % 8));
      const { r, line } = loadBytes(s, bad, `flip-${at}`);
      expect(r.status, `flip at ${at} (seed ${seed})`).not.toBe('loaded');
      expect(r.items, `flip at ${at} (seed ${seed})`).toBe(at < HEADER_BYTES ? 0 : 120 - recordsIn(at));
      if (at >= HEADER_BYTES && at < lay.blockEnds.at(-1)!) {
        expect(line, `flip at ${at}`).toMatch(new RegExp(`skipped 1 of ${lay.blockEnds.length} blocks, ${recordsIn(at)} records \\(\\d+ bytes\\) and resynchronised`));
      }
    }
  });

  it('two damaged blocks far apart, and two in a row: each costs only its own records', async () => {
    const s = await sample();
    const lay = layout(s.bytes);
    const starts = [HEADER_BYTES, ...lay.blockEnds.slice(0, -1)];
    const n = (i: number) => lay.recordsBefore(lay.blockEnds[i]!) - lay.recordsBefore(starts[i]!);
    const flip = (b: Buffer, at: number) => (b[at] = b[at]! ^ 0x10);
    const apart = Buffer.from(s.bytes);
    flip(apart, starts[1]! + 20);
    flip(apart, starts[4]! + 30);
    const r1 = loadBytes(s, apart, 'apart');
    expect(r1.r.items).toBe(120 - n(1) - n(4));
    expect(r1.line).toMatch(/skipped 2 of \d+ blocks/);
    const row = Buffer.from(s.bytes);
    flip(row, starts[2]! + 4); // the length: the block seems to run elsewhere
    flip(row, starts[3]! + 40);
    const r2 = loadBytes(s, row, 'row');
    expect(r2.r.items).toBe(120 - n(2) - n(3));
    expect(r2.r.status).toBe('partial');
    expect(fs.existsSync(`${r2.file}.bad-t1`)).toBe(true);
  });

  it('trailing bytes after the end block: everything loads, the file is still moved aside', async () => {
    const s = await sample();
    const { r, line } = loadBytes(s, Buffer.concat([s.bytes, Buffer.from('junk')]), 'trailing');
    expect(r.status).toBe('partial');
    expect(r.items).toBe(120);
    expect(line).toMatch(/4 unexpected bytes after its end block/);
  });

  it('a future format version loads nothing and is moved aside, not overwritten', async () => {
    const s = await sample();
    const future = Buffer.from(s.bytes);
    const h = encodeHeader({
      version: FORMAT_VERSION + 1, useCas: true, itemSizeMax: MB, slabChunkMax: MB / 2, memoryLimit: 64 * MB,
      casCounter: 5, savedAtMs: Date.now(), oldestLive: 0, oldestCas: 0, blockTarget: 600,
    });
    h.copy(future, 0);
    const { r, line } = loadBytes(s, future, 'future');
    expect(r).toMatchObject({ status: 'rejected', items: 0 });
    expect(line).toMatch(/is format version 2, newer than this daemon reads \(1\); loaded nothing; moved it to/);
  });

  it('an empty file, a short file and a foreign file load nothing', async () => {
    const s = await sample();
    expect(loadBytes(s, Buffer.alloc(0), 'empty').line).toMatch(/is empty; loaded nothing; moved it/);
    expect(loadBytes(s, s.bytes.subarray(0, 40), 'short').line).toMatch(/too short/);
    expect(loadBytes(s, Buffer.from('hello world, not a snapshot at all'.repeat(4)), 'foreign').line).toMatch(/not a memcached-ts snapshot/);
  });

  it('a directory in place of the file is left alone and nothing loads', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'snap'));
    const log = captureLog();
    const r = loadSnapshot(newCache(new ManualClock(T0)), path.join(dir, 'snap'), { log });
    expect(r.status).toBe('unreadable');
    expect(log.lines).toEqual([expect.stringMatching(/is not a regular file; starting with an empty cache/)]);
    expect(fs.statSync(path.join(dir, 'snap')).isDirectory()).toBe(true);
  });

  it('a missing file is a quiet first start', () => {
    const log = captureLog();
    const r = loadSnapshot(newCache(new ManualClock(T0)), path.join(tempDir(), 'none'), { log });
    expect(r.status).toBe('missing');
    expect(log.lines).toEqual([]);
  });
});

// ---- consistency while clients write ----------------------------------------------------------

describe('consistency model: per-item consistent over the write window', () => {
  it('unchanged items are exact; changed items are in one of their states, never torn', async () => {
    const clock = new ManualClock(T0);
    const a = newCache(clock);
    const N = 3000;
    const val = (k: number, v: number) => `k${k}-v${v}-`.padEnd(200 + (k % 7) * 30, String.fromCharCode(97 + (v % 26)));
    for (let k = 0; k < N; k++) set(a, `k${k}`, val(k, 0));
    const versions = new Map<number, Set<string>>();
    let v = 0;
    const file = path.join(tempDir(), 'snap');
    const r = await writeSnapshot(a, file, {
      blockTarget: 4096,
      sliceBytes: 4096,
      onSlice: () => {
        // between slices: rewrite some keys (new values land in fresh or recycled chunks),
        // delete some and add new ones, as clients would
        v++;
        for (let j = 0; j < 20; j++) {
          const k = (v * 37 + j * 101) % N;
          if (k % 10 === 0) continue; // every tenth key is never touched
          const s = versions.get(k) ?? new Set([val(k, 0)]);
          const nv = val(k, v);
          s.add(nv);
          versions.set(k, s);
          set(a, `k${k}`, nv);
        }
        set(a, `new${v}`, 'fresh');
      },
    });
    expect(r.ok).toBe(true);
    expect(r.ok && r.slices).toBeGreaterThan(20);
    const b = newCache(clock);
    expect(loadSnapshot(b, file).status).toBe('loaded');
    let missing = 0;
    for (let k = 0; k < N; k++) {
      const got = peek(b, `k${k}`);
      if (k % 10 === 0 || !versions.has(k)) {
        expect(got?.value.toString(), `untouched k${k}`).toBe(val(k, 0));
      } else if (got === null) missing++;
      else expect(versions.get(k)!.has(got.value.toString()), `k${k} torn`).toBe(true);
    }
    // moved items may be missing, but only changed ones
    expect(missing).toBeLessThan(versions.size);
  });

  it('a key read twice during the window loads its later state', async () => {
    // a record later in the file was read later, so the loader lets it replace the earlier one
    const clock = new ManualClock(T0);
    const a = newCache(clock);
    set(a, 'first', 'a');
    const file = path.join(tempDir(), 'snap');
    await writeSnapshot(a, file);
    const bytes = fs.readFileSync(file);
    // build a file with the same key twice by appending a second save's block
    set(a, 'first', 'bb');
    const file2 = path.join(tempDir(), 'snap');
    await writeSnapshot(a, file2);
    const b2 = fs.readFileSync(file2);
    const lay1 = layout(bytes);
    const lay2 = layout(b2);
    const blocks = Buffer.concat([bytes.subarray(HEADER_BYTES, lay1.blockEnds[0]), b2.subarray(HEADER_BYTES, lay2.blockEnds[0])]);
    // re-seal an end block counting two blocks
    const { encodeEnd } = await import('../../src/persistence/format.js');
    const merged = Buffer.concat([bytes.subarray(0, HEADER_BYTES), blocks, encodeEnd({ blocks: 2, items: 2, itemBytes: 0, casCounter: a.casCounter, finishedAtMs: 0 })]);
    fs.writeFileSync(file, merged);
    const c = newCache(clock);
    const r = loadSnapshot(c, file);
    expect(r).toMatchObject({ status: 'loaded', items: 1 });
    expect(peek(c, 'first')!.value.toString()).toBe('bb');
  });
});
