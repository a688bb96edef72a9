// The slab cache on its own: class sizes, LRU eviction per class, -M, chained items, CAS.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/cache/clock.js';
import { NONE } from '../../src/cache/item.js';
import { computeSlabClasses } from '../../src/cache/slabs.js';
import { cacheOptions } from '../helpers/fakes.js';
import { ArithRequest, OpStatus, Outcome, StoreMode } from '../../src/cache/api.js';
import { Cache } from '../../src/cache/cache.js';
import { storeValue } from '../support/cache-ops.js';

const MB = 1024 * 1024;
const opts = cacheOptions;
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function set(c: Cache, key: string, value: Buffer | string, mode: StoreMode = StoreMode.Set, exptime = 0): number {
  return storeValue(c, key, value, { mode, exptime });
}
function get(c: Cache, key: string): Buffer | null {
  const k = b(key);
  const id = c.get(k, 0, k.length);
  if (id === NONE) return null;
  const out = Buffer.alloc(c.itemValueLength(id));
  c.copyValue(id, out, 0);
  return out;
}

describe('slab classes', () => {
  it('match memcached 1.6 defaults (-n 48 -f 1.25)', () => {
    const g = computeSlabClasses(48, 1.25, MB, MB / 2);
    expect(g.sizes.slice(1, 8)).toEqual([96, 120, 152, 192, 240, 304, 384]);
    expect(g.sizes[g.largest]).toBe(MB / 2);
    expect(g.perSlab[1]).toBe(10922);
    expect(g.largest).toBe(39);
  });
});

describe('cache', () => {
  it('stores into the smallest class that fits and frees on delete', () => {
    const c = new Cache(opts(), new ManualClock());
    set(c, 'a', 'x'.repeat(10)); // 48 + 1 + 10 = 59 -> class 1 (96)
    set(c, 'b', 'x'.repeat(100)); // 149 -> class 3 (152)
    expect(c.slabs.usedChunks[1]).toBe(1);
    expect(c.slabs.usedChunks[3]).toBe(1);
    const k = b('a');
    expect(c.delete(k, 0, 1)).toBe(Outcome.Deleted);
    expect(c.slabs.usedChunks[1]).toBe(0);
    expect(c.stats.curr_items).toBe(1);
  });

  it('evicts the least recently used item of the class, keeping recently read ones', () => {
    const c = new Cache(opts({ memoryLimit: 2 * MB }), new ManualClock());
    const value = 'v'.repeat(900); // class with ~1184-byte chunks
    let i = 0;
    for (; i < 800; i++) set(c, `key${i}`, value);
    // keep key0 warm while filling far past the budget
    for (let j = 0; j < 2000; j++, i++) {
      expect(get(c, 'key0')).not.toBeNull();
      expect(set(c, `key${i}`, value)).toBe(Outcome.Stored);
    }
    expect(c.stats.evictions).toBeGreaterThan(0);
    expect(get(c, 'key0')?.toString()).toBe(value);
    expect(get(c, 'key1')).toBeNull();
    expect(get(c, `key${i - 1}`)?.toString()).toBe(value);
    expect(c.slabs.pages.length).toBeLessThanOrEqual(2);
  });

  it('with -M refuses instead of evicting', () => {
    const c = new Cache(opts({ memoryLimit: MB, noEvict: true }), new ManualClock());
    let outcome: number = Outcome.Stored;
    let n = 0;
    while (outcome === Outcome.Stored && n < 10000) outcome = set(c, `k${n++}`, 'x'.repeat(900));
    expect(outcome).toBe(Outcome.NoMemory);
    expect(c.stats.evictions).toBe(0);
    expect(get(c, 'k0')).not.toBeNull();
  });

  it('gives a class its first page past the budget, as memcached, and no second one', () => {
    const c = new Cache(opts({ memoryLimit: 2 * MB }), new ManualClock());
    for (let i = 0; i < 30000; i++) set(c, `k${i}`, 'x'.repeat(100));
    expect(c.slabs.pages.length).toBe(2);
    expect(c.stats.evictions).toBeGreaterThan(0);
    // a size whose class has no page yet: stored in a third page
    for (let i = 0; i < 2000; i++) expect(set(c, `big${i}`, 'y'.repeat(1000))).toBe(Outcome.Stored);
    expect(c.slabs.pages.length).toBe(3);
    expect(get(c, 'big1999')?.toString()).toBe('y'.repeat(1000));
    // and that class then evicts within its one page
    const cls = c.itemClass(c.find(b('big1999'), 0, 7));
    expect(c.slabs.classPages[cls]).toBe(1);
    expect(get(c, 'big0')).toBeNull();
  });

  it('reclaims expired items before evicting live ones', () => {
    const clock = new ManualClock();
    const c = new Cache(opts({ memoryLimit: MB }), clock);
    // fixed-size keys so every item lands in one class (36 + 6 + 100 = 142 -> 152-byte chunks)
    const perPage = Math.floor(MB / 152);
    for (let n = 0; n < perPage; n++) expect(set(c, `e${String(n).padStart(5, '0')}`, 'x'.repeat(100), StoreMode.Set, 5)).toBe(Outcome.Stored);
    expect(c.slabs.unCarved(3)).toBe(0);
    clock.advance(10);
    expect(set(c, 'fresh1', 'x'.repeat(100))).toBe(Outcome.Stored);
    // memcached's tail pull reclaims up to 5 expired items at a time
    expect(c.stats.reclaimed).toBeGreaterThanOrEqual(1);
    expect(c.stats.reclaimed).toBeLessThanOrEqual(5);
    expect(c.stats.evictions).toBe(0);
  });

  it('stores values larger than a chunk as chained chunks', () => {
    const c = new Cache(opts({ itemSizeMax: 4 * MB }), new ManualClock());
    const big = Buffer.alloc(3 * MB + 123);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    expect(set(c, 'big', big)).toBe(Outcome.Stored);
    expect(get(c, 'big')?.equals(big)).toBe(true);
    expect(set(c, 'big', 'tail', StoreMode.Append)).toBe(Outcome.Stored);
    const after = get(c, 'big')!;
    expect(after.length).toBe(big.length + 4);
    expect(after.subarray(big.length).toString()).toBe('tail');
    const used = c.slabs.usedChunks[c.slabs.geometry.largest];
    expect(c.delete(b('big'), 0, 3)).toBe(Outcome.Deleted);
    expect(used).toBe(7); // a head chunk and six continuation chunks of 512 KiB
    expect(c.slabs.usedChunks[c.slabs.geometry.largest]).toBe(0);
  });

  it('refuses items over -I counting memcached overhead', () => {
    const c = new Cache(opts(), new ManualClock());
    expect(set(c, 'a', Buffer.alloc(1048000))).toBe(Outcome.Stored);
    expect(set(c, 'a', Buffer.alloc(1048577))).toBe(Outcome.TooLarge);
    expect(get(c, 'a')).toBeNull(); // a failed set drops the old value, as memcached
  });

  it('gives every modification a new CAS and none with -C', () => {
    const c = new Cache(opts(), new ManualClock());
    set(c, 'a', '1');
    const k = b('a');
    const first = c.itemCas(c.find(k, 0, 1));
    const r = new ArithRequest();
    r.key = k;
    r.keyLen = 1;
    r.delta = 1n;
    expect(c.incrDecr(r, new OpStatus())).toBe(Outcome.Stored);
    expect(c.itemCas(c.find(k, 0, 1))).toBeGreaterThan(first);
    const off = new Cache(opts({ useCas: false }), new ManualClock());
    set(off, 'a', '1');
    expect(off.itemCas(off.find(k, 0, 1))).toBe(0);
  });

  it('grows the hash table without losing items', () => {
    const c = new Cache(opts({ memoryLimit: 256 * MB }), new ManualClock());
    for (let i = 0; i < 200000; i++) set(c, `key:${i}`, `v${i}`);
    expect(c.table.power).toBeGreaterThan(16);
    for (let i = 0; i < 200000; i += 997) expect(get(c, `key:${i}`)?.toString()).toBe(`v${i}`);
    expect(c.stats.curr_items).toBe(200000);
  });
});
