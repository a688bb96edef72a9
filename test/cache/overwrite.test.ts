// A set over an existing item whose new size needs the same slab class rewrites it in its own
// chunk. What clients and stats see must be what an allocate-swap-free gives; these tests pin
// that down, and the allocating path where the class differs, the item is chained or -M is on.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/cache/clock.js';
import { IF_ACTIVE, IF_FETCHED, NONE } from '../../src/cache/item.js';
import { Outcome, StoreMode } from '../../src/cache/api.js';
import { Cache } from '../../src/cache/cache.js';
import { lastStatus, storeValue } from '../support/cache-ops.js';
import { cacheOptions as opts } from '../helpers/fakes.js';
import { HOT, lruOf } from '../../src/cache/lru-segment.js';

const MB = 1024 * 1024;
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function set(c: Cache, key: string, value: string, flags = 0, exptime = 0, mode: StoreMode = StoreMode.Set, cas = 0): number {
  return storeValue(c, key, value, { mode, flags, exptime, cas });
}
const idOf = (c: Cache, key: string): number => c.find(b(key), 0, key.length);
function value(c: Cache, key: string): string | null {
  const id = c.get(b(key), 0, key.length);
  if (id === NONE) return null;
  const out = Buffer.alloc(c.itemValueLength(id));
  c.copyValue(id, out, 0);
  return out.toString('latin1');
}
/** Everything a client or `stats` can see of the cache's accounting. */
const accounting = (c: Cache, cls: number): number[] => [
  c.stats.bytes,
  c.stats.curr_items,
  c.stats.total_items,
  c.stats.evictions,
  c.classStats[cls]!.requested,
  c.slabs.usedChunks[cls]!,
  c.links.count(cls),
];

describe('set over an item of the same slab class', () => {
  it('rewrites value, flags, exptime, CAS and time in place, with the accounting an allocate-swap-free gives', () => {
    const clock = new ManualClock();
    const c = new Cache(opts(), clock);
    set(c, 'key', 'x'.repeat(100), 1, 100); // 48 + 3 + 100 bytes: the 152-byte class
    const id = idOf(c, 'key');
    const cls = c.itemClass(id);
    expect(value(c, 'key')).toBe('x'.repeat(100));
    const cas = c.itemCas(id);
    const before = accounting(c, cls);
    clock.advance(5);
    expect(set(c, 'key', 'y'.repeat(101), 0, 0)).toBe(Outcome.Stored);
    expect(idOf(c, 'key')).toBe(id); // same chunk
    expect(c.itemClass(id)).toBe(cls);
    expect(value(c, 'key')).toBe('y'.repeat(101));
    expect(c.itemFlags(id)).toBe(0);
    expect(c.itemExptime(id)).toBe(0);
    expect(c.itemCas(id)).toBeGreaterThan(cas);
    expect(lastStatus.cas).toBe(c.itemCas(id));
    expect(c.itemTime(id)).toBe(clock.now());
    const after = accounting(c, cls);
    // bytes and requested: one more value byte, less the 4 memcached counts for non-zero flags
    expect(after).toEqual([before[0]! - 3, before[1], before[2]! + 1, before[3], before[4]! - 3, before[5], before[6]]);
  });

  it('clears the fetched mark, as a new item starts unfetched', () => {
    const c = new Cache(opts(), new ManualClock());
    set(c, 'k', 'a');
    value(c, 'k');
    expect(c.itemIflags(idOf(c, 'k')) & IF_FETCHED).toBe(IF_FETCHED);
    set(c, 'k', 'b');
    expect(c.itemIflags(idOf(c, 'k')) & IF_FETCHED).toBe(0);
  });

  it('takes the allocating path when the new size needs another class, freeing the old chunk', () => {
    const c = new Cache(opts(), new ManualClock());
    set(c, 'k', 'x'.repeat(10));
    const id = idOf(c, 'k');
    const cls = c.itemClass(id);
    set(c, 'k', 'x'.repeat(500));
    const moved = idOf(c, 'k');
    expect(moved).not.toBe(id);
    expect(c.itemClass(moved)).not.toBe(cls);
    expect(c.slabs.usedChunks[cls]).toBe(0);
    expect(c.stats.curr_items).toBe(1);
    expect(value(c, 'k')).toBe('x'.repeat(500));
  });

  it('cas, replace and set all overwrite; append and prepend still merge', () => {
    const c = new Cache(opts(), new ManualClock());
    set(c, 'k', 'one');
    const cas = c.itemCas(idOf(c, 'k'));
    expect(set(c, 'k', 'two', 0, 0, StoreMode.Cas, cas + 1)).toBe(Outcome.Exists);
    expect(set(c, 'k', 'two', 0, 0, StoreMode.Cas, cas)).toBe(Outcome.Stored);
    expect(c.stats.cas_hits).toBe(1);
    expect(set(c, 'k', 'three', 0, 0, StoreMode.Replace)).toBe(Outcome.Stored);
    expect(set(c, 'k', '<', 0, 0, StoreMode.Prepend)).toBe(Outcome.Stored);
    expect(set(c, 'k', '>', 0, 0, StoreMode.Append)).toBe(Outcome.Stored);
    expect(value(c, 'k')).toBe('<three>');
    expect(set(c, 'k', 'x', 0, 0, StoreMode.Add)).toBe(Outcome.NotStored);
  });

  it('an item overwritten within the last minute is marked, and the tail sends it back to the head', () => {
    const clock = new ManualClock();
    const c = new Cache(opts({ memoryLimit: 2 * MB }), clock);
    const v = 'v'.repeat(900);
    let i = 0;
    for (; i < 800; i++) set(c, `key${i}`, v);
    const cls = c.itemClass(idOf(c, 'key0'));
    expect(c.lru.tail[lruOf(cls, HOT)]).toBe(idOf(c, 'key0'));
    // overwriting key0 while filling far past the budget keeps it; key1, never touched, goes
    for (let j = 0; j < 2000; j++, i++) {
      expect(set(c, 'key0', `w${j % 10}`.padEnd(900, 'w'))).toBe(Outcome.Stored);
      expect(set(c, `key${i}`, v)).toBe(Outcome.Stored);
    }
    expect(c.itemIflags(idOf(c, 'key0')) & IF_ACTIVE).toBe(IF_ACTIVE);
    expect(c.stats.evictions).toBeGreaterThan(0);
    expect(value(c, 'key0')).toBe('w9'.padEnd(900, 'w'));
    expect(value(c, 'key1')).toBeNull();
  });

  it('an item last moved over a minute ago goes straight to the LRU head', () => {
    const clock = new ManualClock();
    const c = new Cache(opts(), clock);
    set(c, 'a', 'x');
    set(c, 'b', 'x');
    const cls = c.itemClass(idOf(c, 'a'));
    expect(c.lru.head[lruOf(cls, HOT)]).toBe(idOf(c, 'b'));
    clock.advance(61);
    set(c, 'a', 'y');
    expect(c.lru.head[lruOf(cls, HOT)]).toBe(idOf(c, 'a'));
    expect(c.itemIflags(idOf(c, 'a')) & IF_ACTIVE).toBe(0);
  });

  it('a full class overwrites without evicting (the difference listed in differences.md)', () => {
    const c = new Cache(opts({ memoryLimit: MB }), new ManualClock());
    let n = 0;
    while (c.stats.evictions === 0) set(c, `k${n++}`, 'x'.repeat(900));
    const evictions = c.stats.evictions;
    const live = c.stats.curr_items;
    for (let j = n - 10; j < n; j++) expect(set(c, `k${j}`, 'y'.repeat(900))).toBe(Outcome.Stored);
    expect(c.stats.evictions).toBe(evictions);
    expect(c.stats.curr_items).toBe(live);
  });

  it('with -M a set into a full class fails and drops the old value, as memcached', () => {
    const c = new Cache(opts({ memoryLimit: MB, noEvict: true }), new ManualClock());
    let n = 0;
    while (set(c, `k${n}`, 'x'.repeat(900)) === Outcome.Stored) n++;
    expect(c.stats.store_no_memory).toBe(1);
    expect(set(c, 'k0', 'y'.repeat(900))).toBe(Outcome.NoMemory);
    expect(value(c, 'k0')).toBeNull();
    // the freed chunk takes the next store of that class
    expect(set(c, 'k1', 'z'.repeat(900))).toBe(Outcome.Stored);
    expect(value(c, 'k1')).toBe('z'.repeat(900));
    expect(c.stats.evictions).toBe(0);
  });

  it('with -M add, replace, cas and append out of memory keep the old value', () => {
    const c = new Cache(opts({ memoryLimit: MB, noEvict: true }), new ManualClock());
    let n = 0;
    while (set(c, `k${n}`, 'x'.repeat(900)) === Outcome.Stored) n++;
    expect(set(c, 'k0', 'y'.repeat(900), 0, 0, StoreMode.Replace)).toBe(Outcome.NoMemory);
    expect(set(c, 'k0', 'y', 0, 0, StoreMode.Append)).toBe(Outcome.NotStored);
    expect(value(c, 'k0')).toBe('x'.repeat(900));
  });
});
