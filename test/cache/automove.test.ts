// The slab automover (memcached's slab_automove.c algorithm), stepped by hand with a
// ManualClock: memory follows the item sizes in use, and nothing moves while it should not.
import { describe, expect, it } from 'vitest';
import { SlabAutomover, type AutomoveSettings } from '../../src/cache/automove.js';
import { ManualClock } from '../../src/cache/clock.js';
import { NONE } from '../../src/cache/item.js';
import { Outcome } from '../../src/cache/api.js';
import { Cache } from '../../src/cache/cache.js';
import { storeValue } from '../support/cache-ops.js';
import { cacheOptions as opts } from '../helpers/fakes.js';

const MB = 1024 * 1024;

function set(c: Cache, key: string, size: number): number {
  const k = Buffer.from(key);
  const v = Buffer.alloc(size, 0x61);
  return storeValue(c, k, v, { vLen: size });
}
const classOf = (c: Cache, key: string): number => c.itemClass(c.find(Buffer.from(key), 0, key.length));

describe('slab automover', () => {
  it('moves pages from a class of old items to a class that keeps evicting young ones', () => {
    const clock = new ManualClock();
    const c = new Cache(opts({ memoryLimit: 8 * MB }), clock);
    const settings: AutomoveSettings = { level: 1, ratio: 0.8, window: 30 };
    const mover = new SlabAutomover(c, () => settings);
    // yesterday's workload: 100-byte items fill the budget
    for (let i = 0; i < 80000; i++) set(c, `old${String(i).padStart(6, '0')}`, 100);
    const oldCls = classOf(c, 'old079999');
    expect(c.slabs.classPages[oldCls]).toBe(8);
    // the LRU maintainer (a timer in the daemon) moves them out of HOT: the automover reads COLD's age
    c.maintainer.tick();
    clock.advance(3600);
    // today's: 2000-byte items, which get one page and evict within it
    let n = 0;
    let moved = 0;
    let firstAt = -1;
    for (let sec = 0; sec < 120; sec++) {
      for (let i = 0; i < 300; i++) expect(set(c, `new${String(n++).padStart(6, '0')}`, 2000)).toBe(Outcome.Stored);
      clock.advance(1);
      c.maintainer.tick();
      if (mover.step() !== null) {
        moved++;
        if (firstAt < 0) firstAt = sec;
      }
    }
    const newCls = classOf(c, `new${String(n - 1).padStart(6, '0')}`);
    expect(moved).toBeGreaterThan(0);
    expect(c.mover.stats.slabs_moved).toBe(moved);
    expect(c.slabs.classPages[newCls]).toBe(1 + moved);
    expect(c.slabs.classPages[oldCls]).toBe(8 - moved);
    // nothing before a full window had passed: the first move came after 30 runs
    expect(firstAt).toBeGreaterThanOrEqual(30);
  });

  it('level 0 moves nothing', () => {
    const clock = new ManualClock();
    const c = new Cache(opts({ memoryLimit: 8 * MB }), clock);
    const settings: AutomoveSettings = { level: 0, ratio: 0.8, window: 30 };
    const mover = new SlabAutomover(c, () => settings);
    for (let i = 0; i < 80000; i++) set(c, `old${String(i).padStart(6, '0')}`, 100);
    clock.advance(3600);
    for (let sec = 0; sec < 60; sec++) {
      for (let i = 0; i < 300; i++) set(c, `new${String(sec * 300 + i).padStart(6, '0')}`, 2000);
      clock.advance(1);
      expect(mover.step()).toBeNull();
    }
    expect(c.mover.stats.slabs_moved).toBe(0);
  });

  it('gives a page to the global pool when a quiet class holds over 2.5 pages of free chunks', () => {
    const clock = new ManualClock();
    const c = new Cache(opts({ memoryLimit: 16 * MB }), clock);
    const mover = new SlabAutomover(c, () => ({ level: 1, ratio: 0.8, window: 5 }));
    const key = (i: number): string => `k${String(i).padStart(6, '0')}`;
    for (let i = 0; i < 40000; i++) set(c, key(i), 100);
    const cls = classOf(c, key(0));
    const pages = c.slabs.classPages[cls]!;
    for (let i = 0; i < 40000; i++) c.delete(Buffer.from(key(i)), 0, key(i).length);
    for (let sec = 0; sec < 6; sec++) {
      clock.advance(1);
      mover.step();
    }
    expect(c.slabs.classPages[cls]).toBeLessThan(pages);
    expect(c.slabs.pool.length).toBeGreaterThan(0);
    expect(c.links.count(cls)).toBe(0);
  });
});
