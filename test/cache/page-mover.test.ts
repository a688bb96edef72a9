// Moving slab pages between classes (`slabs reassign`, the automover): items in the moved
// page are rescued into free chunks of their class or dropped, the accounting stays whole,
// and no item ever comes back with another item's bytes.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/cache/clock.js';
import { NONE } from '../../src/cache/item.js';
import { MoveResult } from '../../src/cache/page-mover.js';
import { Outcome } from '../../src/cache/api.js';
import { Cache } from '../../src/cache/cache.js';
import { storeValue } from '../support/cache-ops.js';
import { randomInt, seededRandom } from '../support/random.js';
import { cacheOptions as opts } from '../helpers/fakes.js';
import { COLD, HOT, lruOf, WARM } from '../../src/cache/lru-segment.js';

const MB = 1024 * 1024;
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function set(c: Cache, key: string, value: string): number {
  const k = b(key);
  const v = b(value);
  return storeValue(c, k, v);
}
function value(c: Cache, key: string): string | null {
  const id = c.find(b(key), 0, key.length);
  if (id === NONE) return null;
  const out = Buffer.alloc(c.itemValueLength(id));
  c.copyValue(id, out, 0);
  return out.toString('latin1');
}
const del = (c: Cache, key: string): number => c.delete(b(key), 0, key.length);
const classOf = (c: Cache, key: string): number => c.itemClass(c.find(b(key), 0, key.length));

/** Every class: linked items = used chunks = LRU length; chunks add up to its pages. */
function checkAccounting(c: Cache): void {
  const s = c.slabs;
  let items = 0;
  for (let cls = 1; cls < s.geometry.sizes.length; cls++) {
    let linked = 0;
    let chunks = 0;
    for (const id of c.itemsOfClass(cls)) {
      linked++;
      chunks += 1 + (id !== NONE ? c.items.chunkCount(id) : 0);
    }
    items += linked;
    expect(c.links.count(cls), `class ${cls} LRU`).toBe(linked);
    expect(s.usedChunks[cls], `class ${cls} used chunks`).toBe(chunks);
    const perPage = s.geometry.perSlab[cls]!;
    expect(s.usedChunks[cls]! + s.freeCount[cls]! + s.unCarved(cls), `class ${cls} chunks`).toBe(s.classPages[cls]! * perPage);
  }
  expect(c.stats.curr_items).toBe(items);
  expect(c.table.count).toBe(items);
  let pages = s.pool.length;
  for (let cls = 1; cls < s.geometry.sizes.length; cls++) pages += s.classPages[cls]!;
  expect(pages).toBe(s.pages.length);
}

describe('page mover', () => {
  it('rescues the items of the moved page into free chunks of their class', () => {
    const c = new Cache(opts({ memoryLimit: 16 * MB }), new ManualClock());
    const v = (i: number): string => `${i}:`.padEnd(912, 'v'); // 36 + 6 + 912: the 1184-byte class
    for (let i = 0; i < 2400; i++) set(c, `k${String(i).padStart(5, '0')}`, v(i));
    const cls = classOf(c, 'k00000');
    expect(c.slabs.classPages[cls]).toBe(3);
    // free room in the later pages for all of the first page's items
    for (let i = 1000; i < 2400; i++) del(c, `k${String(i).padStart(5, '0')}`);
    const live = c.stats.curr_items;
    expect(c.mover.move(cls, 1)).toBe(MoveResult.Ok);
    expect(c.slabs.classPages[cls]).toBe(2);
    expect(c.slabs.classPages[1]).toBe(1);
    expect(c.mover.stats.slab_reassign_rescues).toBe(885); // the first page was full
    expect(c.mover.stats.slab_reassign_evictions_nomem).toBe(0);
    expect(c.stats.curr_items).toBe(live);
    for (let i = 0; i < 2400; i++) {
      const key = `k${String(i).padStart(5, '0')}`;
      expect(value(c, key)).toBe(i >= 1000 ? null : v(i));
    }
    checkAccounting(c);
    // the page now serves class 1 without a new page
    const pages = c.slabs.pages.length;
    for (let i = 0; i < 5000; i++) expect(set(c, `s${i}`, 'x')).toBe(Outcome.Stored);
    expect(c.slabs.pages.length).toBe(pages);
    checkAccounting(c);
  });

  it('drops the items it cannot rescue, and keeps the LRU order of the rest', () => {
    const c = new Cache(opts({ memoryLimit: 3 * MB }), new ManualClock());
    const v = (i: number): string => `${i}:`.padEnd(912, 'v');
    let n = 0;
    while (c.slabs.pages.length < 3 || c.slabs.freeCount[classOf(c, 'k0')]! + c.slabs.unCarved(classOf(c, 'k0')) > 0) set(c, `k${n}`, v(n++));
    const cls = classOf(c, 'k0');
    const before = c.stats.curr_items;
    expect(c.mover.move(cls, 2)).toBe(MoveResult.Ok);
    const dropped = c.mover.stats.slab_reassign_evictions_nomem;
    expect(dropped).toBe(885);
    expect(c.stats.curr_items).toBe(before - dropped);
    for (let i = 0; i < n; i++) {
      const got = value(c, `k${i}`);
      if (got !== null) expect(got).toBe(v(i));
    }
    checkAccounting(c);
    // LRU tail to head is still oldest to newest among the survivors
    let prev = -1;
    // (nothing was read, so nothing is in WARM: COLD holds the older items, HOT the newer)
    expect(c.lru.size[lruOf(cls, WARM)]).toBe(0);
    for (const seg of [COLD, HOT]) {
      for (let id = c.lru.tail[lruOf(cls, seg)]!; id !== NONE; id = c.lru.prevOf(id)) {
        const key = Buffer.alloc(c.itemKeyLength(id));
        c.copyKey(id, key, 0);
        const i = Number(key.toString().slice(1));
        expect(i).toBeGreaterThan(prev);
        prev = i;
      }
    }
  });

  it('drops chained items with a chunk in the moved page and keeps the others whole', () => {
    const c = new Cache(opts({ memoryLimit: 32 * MB, itemSizeMax: 4 * MB }), new ManualClock());
    const big = (i: number): string => String.fromCharCode(65 + i).repeat(700 * 1024 + i);
    for (let i = 0; i < 12; i++) expect(set(c, `big${i}`, big(i))).toBe(Outcome.Stored);
    const largest = c.slabs.geometry.largest;
    expect(c.slabs.classPages[largest]!).toBeGreaterThan(2);
    expect(c.mover.move(largest, 3)).toBe(MoveResult.Ok);
    expect(c.mover.stats.slab_reassign_evictions_nomem).toBeGreaterThan(0);
    let kept = 0;
    for (let i = 0; i < 12; i++) {
      const got = value(c, `big${i}`);
      if (got !== null) {
        kept++;
        expect(got).toBe(big(i));
      }
    }
    expect(kept).toBe(12 - c.mover.stats.slab_reassign_evictions_nomem);
    checkAccounting(c);
  });

  it('drops a chained item whose head is elsewhere but whose continuation chunk is in the moved page', () => {
    const c = new Cache(opts({ memoryLimit: 64 * MB, itemSizeMax: 2 * MB }), new ManualClock());
    const largest = c.slabs.geometry.largest;
    const one = (ch: string): string => ch.repeat(450 * 1024); // one 512 KiB chunk, unchained
    for (const k of ['s1', 's2', 's3', 's4']) set(c, k, one(k[1]!)); // page 0: s1 s2, page 1: s3 s4
    del(c, 's2');
    del(c, 's4'); // free list: page 1, then page 0
    const big = 'B'.repeat(700 * 1024);
    set(c, 'B', big); // head in page 1, continuation in page 0
    const id = c.find(b('B'), 0, 1);
    expect([id >>> 17, c.items.chunkCount(id)]).toEqual([1, 1]);
    expect(c.mover.move(largest, 1)).toBe(MoveResult.Ok); // moves page 0
    expect(value(c, 'B')).toBeNull();
    expect(value(c, 's1')).toBeNull();
    expect(value(c, 's3')).toBe(one('3'));
    checkAccounting(c);
    for (let i = 0; i < 12000; i++) set(c, `t${i}`, 'x');
    set(c, 'n1', one('n'));
    set(c, 'n2', one('n'));
    for (let i = 0; i < 12000; i++) {
      const got = value(c, `t${i}`);
      if (got !== null) expect(got).toBe('x');
    }
    checkAccounting(c);
  });

  it('answers SAME, BADCLASS, NOSPARE and BUSY as memcached would', () => {
    const c = new Cache(opts(), new ManualClock());
    set(c, 'a', 'x');
    const cls = classOf(c, 'a');
    expect(c.mover.move(cls, cls)).toBe(MoveResult.Same);
    expect(c.mover.move(cls, 99)).toBe(MoveResult.BadClass);
    expect(c.mover.move(-2, 3)).toBe(MoveResult.BadClass);
    expect(c.mover.move(cls, 3)).toBe(MoveResult.NoSpare); // one page only
    expect(c.mover.move(-1, 3)).toBe(MoveResult.BadClass); // no class has a spare page
    for (let i = 0; i < 20000; i++) set(c, `k${i}`, 'x');
    c.mover.pin();
    expect(c.mover.move(cls, 3)).toBe(MoveResult.Busy);
    c.mover.unpin();
    expect(c.mover.move(-1, 3)).toBe(MoveResult.Ok);
    expect(c.mover.stats.slabs_moved).toBe(1);
    checkAccounting(c);
  });

  it('dst 0 puts the page in the global pool, where a class past the budget takes it', () => {
    const c = new Cache(opts({ memoryLimit: 3 * MB }), new ManualClock());
    for (let i = 0; i < 40000; i++) set(c, `k${i}`, 'x'.repeat(40));
    const cls = classOf(c, 'k39999');
    expect(c.slabs.classPages[cls]).toBe(3);
    expect(c.mover.move(cls, 0)).toBe(MoveResult.Ok);
    expect(c.slabs.pool.length).toBe(1);
    checkAccounting(c);
    // a new size: its first page is the pooled one, not a fourth page
    expect(set(c, 'big', 'y'.repeat(5000))).toBe(Outcome.Stored);
    expect(c.slabs.pool.length).toBe(0);
    expect(c.slabs.pages.length).toBe(3);
    expect(value(c, 'big')).toBe('y'.repeat(5000));
    // and carving it does not mistake what the old class left in it for items
    for (let i = 0; i < 150; i++) expect(set(c, `big${i}`, String(i).repeat(5000 / String(i).length | 0))).toBe(Outcome.Stored);
    checkAccounting(c);
  });

  it('random stores, deletes and page moves never return wrong bytes (seeded)', () => {
    const rand = seededRandom(12345);
    const rnd = (n: number): number => randomInt(rand, n);
    const c = new Cache(opts({ memoryLimit: 6 * MB, itemSizeMax: 2 * MB }), new ManualClock());
    const model = new Map<string, string>();
    // first two sizes only, so their classes fill several pages; then every size
    const sizes = [900, 3000, 10, 100, 20000, 600 * 1024];
    for (let step = 0; step < 10000; step++) {
      const op = rnd(100);
      const key = `k${rnd(3000)}`;
      if (op < 70) {
        const size = sizes[rnd(step < 5000 ? 2 : sizes.length)]!;
        const val = `${key}@${step}:`.padEnd(size, String.fromCharCode(97 + rnd(26)));
        if (set(c, key, val) === Outcome.Stored) model.set(key, val);
        else model.delete(key);
      } else if (op < 85) {
        del(c, key);
        model.delete(key);
      } else if (op < 97) {
        const got = value(c, key);
        if (got !== null) expect(got).toBe(model.get(key));
      } else {
        c.mover.move(rnd(3) === 0 ? 1 + rnd(c.slabs.geometry.largest) : -1, rnd(4) === 0 ? 0 : 1 + rnd(c.slabs.geometry.largest));
      }
    }
    for (const [k, v] of model) {
      const got = value(c, k);
      if (got !== null) expect(got).toBe(v);
    }
    expect(c.mover.stats.slabs_moved).toBeGreaterThan(5);
    checkAccounting(c);
  });
});
