// The shortcuts that make snapshots fast, each checked against the plain path: the pre-sized
// index, the hash filter that skips lookups, both LRU sorts, and records larger than a slice.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/cache/clock.js';
import { hashKey } from '../../src/cache/hash.js';
import { NONE } from '../../src/cache/item.js';
import { MoveResult } from '../../src/cache/page-mover.js';
import { Outcome } from '../../src/cache/api.js';
import { RestoreRecord } from '../../src/cache/restore.js';
import { loadSnapshot } from '../../src/persistence/loader.js';
import { writeSnapshot } from '../../src/persistence/writer.js';
import { allKeys, newCache, peek, set, tempDir } from './helpers.js';

const T0 = 1_700_000_000;

describe('HashTable.reserve', () => {
  it('grows the bucket array once, keeps every item findable, never shrinks', () => {
    const c = newCache(new ManualClock(T0));
    for (let i = 0; i < 1000; i++) set(c, `k${i}`, 'v');
    const before = c.table.power;
    c.table.reserve(1 << 20);
    expect(c.table.power).toBe(20);
    for (let i = 0; i < 1000; i++) expect(peek(c, `k${i}`), `k${i}`).not.toBeNull();
    c.table.reserve(10);
    expect(c.table.power).toBe(20);
    expect(before).toBeLessThan(20);
  });
});

describe('restoreItem', () => {
  it('with absent=false replaces the item under the key; the filter path agrees', () => {
    const c = newCache(new ManualClock(T0));
    const rec = (k: string, v: string): [Buffer, number, number] => {
      const b = Buffer.from(k + v);
      return [b, k.length, v.length];
    };
    const restore = (key: Buffer, kOff: number, kLen: number, value: Buffer, vOff: number, vLen: number, flags: number, cas: number, hash = -1, absent = false): number => {
      const r = new RestoreRecord();
      Object.assign(r, { key, kOff, kLen, value, vOff, vLen, flags, exptime: 0, cas, time: T0, iflags: 0, hash, absent });
      return c.restorer.restore(r);
    };
    const [b1, k1, v1] = rec('dup', 'first');
    expect(restore(b1, 0, k1, b1, k1, v1, 0, 5, hashKey(b1, 0, k1), true)).toBe(Outcome.Stored);
    const [b2, k2, v2] = rec('dup', 'second, longer than forty-eight bytes so one copy moves both');
    expect(restore(b2, 0, k2, b2, k2, v2, 0, 6)).toBe(Outcome.Stored);
    expect(c.stats.curr_items).toBe(1);
    expect(peek(c, 'dup')!.value.toString()).toBe(b2.subarray(k2).toString());
    // key and value in separate buffers take the byte loops
    const key = Buffer.from('apart');
    const value = Buffer.alloc(300, 0x5a);
    expect(restore(key, 0, key.length, value, 0, value.length, 1, 7)).toBe(Outcome.Stored);
    expect(peek(c, 'apart')!.value.equals(value)).toBe(true);
  });
});

describe('load', () => {
  it('many keys through the hash filter: every one loads once, repeats keep the later record', async () => {
    const clock = new ManualClock(T0);
    const a = newCache(clock);
    for (let i = 0; i < 20000; i++) set(a, `key:${i}`, `v${i}`);
    const file = path.join(tempDir(), 'snap');
    // rewrite keys between slices so some are saved twice (old record, then new)
    let round = 0;
    const r = await writeSnapshot(a, file, {
      sliceBytes: 8192,
      onSlice: () => {
        round++;
        for (let j = 0; j < 5; j++) set(a, `key:${(round * 7919 + j * 104729) % 20000}`, `new-${round}-${'n'.repeat(j * 40)}`);
      },
    });
    expect(r.ok).toBe(true);
    const b = newCache(clock);
    const res = loadSnapshot(b, file);
    expect(res.status).toBe('loaded');
    // the file did hold some keys twice
    expect(r.ok && r.items).toBeGreaterThan(res.items);
    expect(b.stats.curr_items).toBe(b.table.count);
    expect(res.items).toBe(b.stats.curr_items);
    const keys = allKeys(b);
    expect(new Set(keys).size).toBe(keys.length);
    // every key that was never rewritten after the walk passed it is there, as it is now
    let same = 0;
    for (const k of allKeys(a)) {
      const got = peek(b, k);
      if (got !== null && got.value.equals(peek(a, k)!.value)) same++;
    }
    expect(same).toBeGreaterThan(19000);
  });

  it('loading into a cache that already has items replaces them (no filter there)', async () => {
    const clock = new ManualClock(T0);
    const a = newCache(clock);
    set(a, 'x', 'from snapshot');
    set(a, 'y', 'only in snapshot');
    const file = path.join(tempDir(), 'snap');
    await writeSnapshot(a, file);
    const b = newCache(clock);
    set(b, 'x', 'already here');
    set(b, 'z', 'kept');
    expect(loadSnapshot(b, file).status).toBe('loaded');
    expect(peek(b, 'x')!.value.toString()).toBe('from snapshot');
    expect(peek(b, 'z')!.value.toString()).toBe('kept');
    expect(b.stats.curr_items).toBe(3);
  });

  it('LRU order newest first whether access times span a little (counting sort) or a lot', async () => {
    for (const step of [1, 10_000_000]) {
      const clock = new ManualClock(T0);
      const a = newCache(clock);
      // times out of slab order: a shuffled sequence of access times
      for (let i = 0; i < 300; i++) {
        clock.set(T0 + ((i * 7919) % 300) * step);
        set(a, `k${i}`, 'v');
      }
      const file = path.join(tempDir(), 'snap');
      await writeSnapshot(a, file);
      const b = newCache(clock);
      loadSnapshot(b, file);
      const head = [...b.lru.head].find((h) => h !== NONE)!;
      const times = [...b.itemsOfClass(b.itemClass(head))].map((id) => b.itemTime(id));
      expect(times, `step ${step}`).toHaveLength(300);
      expect(times, `step ${step}`).toEqual([...times].sort((x, y) => y - x));
    }
  });
});

describe('writer', () => {
  it('records larger than a slice, between small ones, round-trip', async () => {
    const clock = new ManualClock(T0);
    const a = newCache(clock);
    for (let i = 0; i < 40; i++) set(a, `s${i}`, `small-${i}`);
    set(a, 'big1', Buffer.alloc(300 * 1024, 1)); // one chunk of the largest class
    set(a, 'big2', Buffer.alloc(700 * 1024, 2)); // chained
    for (let i = 40; i < 80; i++) set(a, `s${i}`, `small-${i}`);
    const file = path.join(tempDir(), 'snap');
    const r = await writeSnapshot(a, file, { sliceBytes: 4096, blockTarget: 2048, writeBytes: 8192 });
    expect(r.ok).toBe(true);
    const b = newCache(clock);
    expect(loadSnapshot(b, file)).toMatchObject({ status: 'loaded', items: 82 });
    for (const k of allKeys(a)) expect(peek(b, k)!.value.equals(peek(a, k)!.value), k).toBe(true);
  });

  it('a slice over many dead chunks still yields on time', async () => {
    const clock = new ManualClock(T0);
    const a = newCache(clock);
    for (let i = 0; i < 50000; i++) set(a, `k${i}`, 'v');
    a.flushAll(0);
    clock.advance(1);
    const file = path.join(tempDir(), 'snap');
    const r = await writeSnapshot(a, file, { sliceMs: 0 });
    // every 16 chunks the clock says the budget is spent: thousands of slices, none long
    expect(r.ok && r.items).toBe(0);
    expect(r.ok && r.slices).toBeGreaterThan(1000);
  });
});

describe('pages and the writer', () => {
  it('no page changes class while a snapshot is written; pages moved before it are saved right', async () => {
    const clock = new ManualClock(T0);
    const a = newCache(clock, 8);
    const key = (i: number): string => `k${String(i).padStart(6, '0')}`;
    for (let i = 0; i < 30000; i++) set(a, key(i), `v${i}`.padEnd(100, 'x'));
    // move two pages away first: to another class and to the global pool, then reuse them
    expect(a.mover.move(a.itemClass(a.find(Buffer.from(key(0)), 0, 7)), 0)).toBe(MoveResult.Ok);
    for (let i = 0; i < 300; i++) set(a, `big${i}`, 'b'.repeat(2000 + i));
    const file = path.join(tempDir(), 'snap');
    const answers: number[] = [];
    const r = await writeSnapshot(a, file, {
      sliceBytes: 8192,
      onSlice: () => {
        answers.push(a.mover.move(-1, 1));
      },
    });
    expect(r.ok).toBe(true);
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.every((x) => x === MoveResult.Busy)).toBe(true);
    expect(a.mover.move(-1, 1)).toBe(MoveResult.Ok); // and again once it is done
    const b = newCache(clock, 64);
    expect(loadSnapshot(b, file).status).toBe('loaded');
    for (let i = 0; i < 300; i++) expect(peek(b, `big${i}`)?.value.toString()).toBe('b'.repeat(2000 + i));
    let small = 0;
    for (let i = 0; i < 30000; i++) {
      const got = peek(b, key(i));
      if (got !== null) {
        small++;
        expect(got.value.toString()).toBe(`v${i}`.padEnd(100, 'x'));
      }
    }
    expect(small).toBe(r.ok ? r.items - 300 : -1);
  });
});
