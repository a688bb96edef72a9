// The 36-byte item layout: client flags are stored after the key only when they are not 0
// (in 2 bytes when they fit, else 4),
// the key's hash is recomputed from the key and a chained item's chunk count from its sizes.
// Each path that reads or moves item bytes must find the flags and the value where they are.
import { describe, expect, it } from 'vitest';
import { Outcome, StoreMode } from '../../src/cache/api.js';
import { Cache } from '../../src/cache/cache.js';
import { ManualClock } from '../../src/cache/clock.js';
import { hashKey } from '../../src/cache/hash.js';
import { chunkBytes, continuationChunks, HEADER_BYTES, memcachedItemSize, NONE } from '../../src/cache/item.js';
import { MoveResult } from '../../src/cache/page-mover.js';
import { RestoreRecord } from '../../src/cache/restore.js';
import { cacheOptions as opts } from '../helpers/fakes.js';
import { lastStatus, storeValue } from '../support/cache-ops.js';

const MB = 1024 * 1024;
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function read(c: Cache, key: string): { flags: number; value: string } | null {
  const id = c.find(b(key), 0, key.length);
  if (id === NONE) return null;
  const out = Buffer.alloc(c.itemValueLength(id));
  c.copyValue(id, out, 0);
  return { flags: c.itemFlags(id), value: out.toString('latin1') };
}
const idOf = (c: Cache, key: string): number => c.find(b(key), 0, key.length);
const chunkOf = (c: Cache, key: string): number => c.slabs.chunkSize(c.itemClass(idOf(c, key)));

describe('item layout', () => {
  it('takes the class its own bytes need: 2 or 4 more bytes only for flags that are not 0', () => {
    const c = new Cache(opts(), new ManualClock());
    expect(HEADER_BYTES).toBe(36);
    const key = 'k'.repeat(16);
    expect(storeValue(c, key, 'v'.repeat(100))).toBe(Outcome.Stored);
    expect(chunkOf(c, key)).toBe(152); // 36 + 16 + 100 = 152
    expect(storeValue(c, 'f'.repeat(16), 'v'.repeat(100), { flags: 1 })).toBe(Outcome.Stored);
    expect(chunkOf(c, 'f'.repeat(16))).toBe(192); // 154: one class up
    expect(read(c, 'f'.repeat(16))).toEqual({ flags: 1, value: 'v'.repeat(100) });
    // 36 + 14 + 2 + 100 = 152 for 16-bit flags; 4 bytes above 0xffff
    expect(storeValue(c, 'a'.repeat(14), 'v'.repeat(100), { flags: 0xffff })).toBe(Outcome.Stored);
    expect(chunkOf(c, 'a'.repeat(14))).toBe(152);
    expect(storeValue(c, 'b'.repeat(14), 'v'.repeat(100), { flags: 0x10000 })).toBe(Outcome.Stored);
    expect(chunkOf(c, 'b'.repeat(14))).toBe(192);
    expect(read(c, 'a'.repeat(14))?.flags).toBe(0xffff);
    expect(read(c, 'b'.repeat(14))?.flags).toBe(0x10000);
    // `bytes` is memcached's item size, whatever chunk the item took
    expect(c.stats.bytes).toBe(memcachedItemSize(16, 100, true) + memcachedItemSize(16, 100, true, 1) + 2 * memcachedItemSize(14, 100, true, 1));
    expect(c.itemSize(idOf(c, key))).toBe(memcachedItemSize(16, 100, true));
  });

  it('keeps flags of every width next to values of every length', () => {
    const c = new Cache(opts(), new ManualClock());
    const flagsOf = [0, 1, 0xff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];
    for (let kLen = 1; kLen <= 20; kLen++) {
      for (let vLen = 0; vLen <= 40; vLen += 3) {
        const f = flagsOf[(kLen + vLen) % flagsOf.length]!;
        const key = `${kLen}.${vLen}`.padEnd(kLen + 6, 'k');
        expect(storeValue(c, key, 'x'.repeat(vLen).replace(/x/g, (_, i: number) => String.fromCharCode(97 + (i % 26))), { flags: f })).toBe(Outcome.Stored);
      }
    }
    for (let kLen = 1; kLen <= 20; kLen++) {
      for (let vLen = 0; vLen <= 40; vLen += 3) {
        const f = flagsOf[(kLen + vLen) % flagsOf.length]!;
        const key = `${kLen}.${vLen}`.padEnd(kLen + 6, 'k');
        const want = 'x'.repeat(vLen).replace(/x/g, (_, i: number) => String.fromCharCode(97 + (i % 26)));
        expect(read(c, key), key).toEqual({ flags: f, value: want });
        // the hash the index uses is the key's, computed from the item's bytes
        expect(c.items.hash(idOf(c, key))).toBe(hashKey(b(key), 0, key.length));
      }
    }
  });

  it('rewrites an item in place when new flags keep it in its class, and moves it when they do not', () => {
    const c = new Cache(opts(), new ManualClock());
    // 36 + 7 + 40 = 83, with 4-byte flags 87: both in the 96-byte class
    expect(storeValue(c, 'inplace', 'a'.repeat(40))).toBe(Outcome.Stored);
    const id = lastStatus.id;
    expect(storeValue(c, 'inplace', 'b'.repeat(40), { flags: 0xdeadbeef })).toBe(Outcome.Stored);
    expect(lastStatus.id).toBe(id);
    expect(read(c, 'inplace')).toEqual({ flags: 0xdeadbeef, value: 'b'.repeat(40) });
    expect(c.stats.bytes).toBe(memcachedItemSize(7, 40, true, 1));
    expect(storeValue(c, 'inplace', 'g'.repeat(40), { flags: 0x1234 })).toBe(Outcome.Stored);
    expect(lastStatus.id).toBe(id);
    expect(read(c, 'inplace')).toEqual({ flags: 0x1234, value: 'g'.repeat(40) });
    expect(storeValue(c, 'inplace', 'c'.repeat(41))).toBe(Outcome.Stored);
    expect(lastStatus.id).toBe(id);
    expect(read(c, 'inplace')).toEqual({ flags: 0, value: 'c'.repeat(41) });
    expect(c.stats.bytes).toBe(memcachedItemSize(7, 41, true));
    // 36 + 7 + 53 = 96 fits; with flags, 98 does not
    expect(storeValue(c, 'inplace', 'd'.repeat(53))).toBe(Outcome.Stored);
    expect(lastStatus.id).toBe(id);
    expect(storeValue(c, 'inplace', 'e'.repeat(53), { flags: 5 })).toBe(Outcome.Stored);
    expect(lastStatus.id).not.toBe(id);
    expect(chunkOf(c, 'inplace')).toBe(120);
    expect(read(c, 'inplace')).toEqual({ flags: 5, value: 'e'.repeat(53) });
    expect(c.stats.curr_items).toBe(1);
    expect(c.stats.bytes).toBe(memcachedItemSize(7, 53, true, 5));
  });

  it('append, prepend and incr keep the flags', () => {
    const c = new Cache(opts(), new ManualClock());
    expect(storeValue(c, 'ap', 'mid', { flags: 42 })).toBe(Outcome.Stored);
    expect(storeValue(c, 'ap', '>end', { mode: StoreMode.Append })).toBe(Outcome.Stored);
    expect(storeValue(c, 'ap', 'start<', { mode: StoreMode.Prepend })).toBe(Outcome.Stored);
    expect(read(c, 'ap')).toEqual({ flags: 42, value: 'start<mid>end' });
    expect(storeValue(c, 'n', '99', { flags: 7 })).toBe(Outcome.Stored);
    const st = lastStatus;
    expect(c.incrDecr({ key: b('n'), keyOff: 0, keyLen: 1, incr: true, delta: 1n, cas: 0 }, st)).toBe(Outcome.Stored);
    expect(read(c, 'n')).toEqual({ flags: 7, value: '100' });
  });

  it('chains a large value after the key and flags, and frees every chunk of it', () => {
    const c = new Cache(opts({ itemSizeMax: 4 * MB }), new ManualClock());
    const chunkMax = c.options.slabChunkMax;
    const big = Buffer.alloc(2 * MB + 333);
    for (let i = 0; i < big.length; i++) big[i] = (i * 13 + (i >>> 11)) & 0xff;
    for (const flags of [0, 0x0304, 0x01020304]) {
      const key = `big${flags}`;
      expect(storeValue(c, key, big, { flags })).toBe(Outcome.Stored);
      const id = idOf(c, key);
      expect(c.items.chunkCount(id)).toBe(continuationChunks(chunkBytes(key.length, big.length, flags), chunkMax));
      expect(c.items.chunkCount(id)).toBeGreaterThan(3);
      expect(c.itemFlags(id)).toBe(flags);
      const out = Buffer.alloc(big.length);
      c.copyValue(id, out, 0);
      expect(out.equals(big)).toBe(true);
      // ranges across chunk boundaries, as the HTTP value stream reads them
      for (const [from, len] of [[0, 10], [chunkMax - 100, 300], [chunkMax * 2 - 5, chunkMax + 10], [big.length - 7, 7]] as const) {
        const part = Buffer.alloc(len);
        expect(c.copyValueRange(id, from, len, part, 0)).toBe(len);
        expect(part.equals(big.subarray(from, from + len))).toBe(true);
      }
    }
    const largest = c.slabs.geometry.largest;
    expect(c.slabs.usedChunks[largest]).toBeGreaterThan(8);
    expect(c.delete(b('big0'), 0, 4)).toBe(Outcome.Deleted);
    expect(c.delete(b('big772'), 0, 6)).toBe(Outcome.Deleted);
    expect(c.delete(b('big16909060'), 0, 11)).toBe(Outcome.Deleted);
    expect(c.slabs.usedChunks[largest]).toBe(0);
  });

  it('finds every key after the index grows (hashes recomputed from the keys)', () => {
    const c = new Cache(opts({ memoryLimit: 128 * MB }), new ManualClock());
    const power = c.table.power;
    const n = 120_000; // past 1.5 items per bucket of the first 2^16 buckets
    const wrong: string[] = [];
    for (let i = 0; i < n; i++) if (storeValue(c, `key:${i}`, `v${i}`, { flags: i & 1 ? i : 0 }) !== Outcome.Stored) wrong.push(`set ${i}`);
    expect(c.table.power).toBeGreaterThan(power);
    for (let i = 0; i < n; i += 2) if (c.delete(b(`key:${i}`), 0, `key:${i}`.length) !== Outcome.Deleted) wrong.push(`delete ${i}`);
    expect(c.table.count).toBe(n / 2);
    for (let i = 0; i < n; i++) {
      const got = read(c, `key:${i}`);
      if (i & 1 ? got?.flags !== i || got.value !== `v${i}` : got !== null) wrong.push(`read ${i}`);
    }
    expect(wrong).toEqual([]);
  });

  it('moves items with flags to other chunks when their page is reassigned', () => {
    const c = new Cache(opts({ memoryLimit: 16 * MB }), new ManualClock());
    const key = (i: number): string => `m${String(i).padStart(5, '0')}`;
    // 36 + 6 + 4 + 900 = 946: the 1184-byte class, 885 per page
    const v = (i: number): string => `${i}:`.padEnd(900, 'v');
    for (let i = 0; i < 2400; i++) expect(storeValue(c, key(i), v(i), { flags: 0x10000 + i })).toBe(Outcome.Stored);
    const cls = c.itemClass(idOf(c, key(0)));
    expect(c.slabs.chunkSize(cls)).toBe(1184);
    for (let i = 1000; i < 2400; i++) c.delete(b(key(i)), 0, 6);
    expect(c.mover.move(cls, 1)).toBe(MoveResult.Ok);
    expect(c.mover.stats.slab_reassign_rescues).toBe(885);
    for (let i = 0; i < 1000; i++) expect(read(c, key(i))).toEqual({ flags: 0x10000 + i, value: v(i) });
  });

  it('restores flags, chained values and plain items', () => {
    const c = new Cache(opts({ itemSizeMax: 2 * MB }), new ManualClock());
    const r = new RestoreRecord();
    const put = (key: string, value: Buffer, flags: number): void => {
      r.key = b(key);
      r.kOff = 0;
      r.kLen = key.length;
      r.value = value;
      r.vOff = 0;
      r.vLen = value.length;
      r.flags = flags;
      r.hash = -1;
      expect(c.restorer.restore(r)).toBe(Outcome.Stored);
    };
    const big = Buffer.alloc(MB + 17, 'z');
    big.write('head', 0);
    put('plain', b('p'.repeat(60)), 0);
    put('flagged', b('f'.repeat(60)), 0xcafe);
    put('flagged32', b('g'.repeat(60)), 0xcafe0000);
    put('chained', big, 0);
    put('chainedf', big, 9);
    put('chainedg', big, 0x90000);
    expect(read(c, 'plain')).toEqual({ flags: 0, value: 'p'.repeat(60) });
    expect(read(c, 'flagged')).toEqual({ flags: 0xcafe, value: 'f'.repeat(60) });
    expect(read(c, 'flagged32')).toEqual({ flags: 0xcafe0000, value: 'g'.repeat(60) });
    for (const [key, flags] of [['chained', 0], ['chainedf', 9], ['chainedg', 0x90000]] as const) {
      const got = read(c, key)!;
      expect(got.flags).toBe(flags);
      expect(Buffer.from(got.value, 'latin1').equals(big)).toBe(true);
    }
  });
});
