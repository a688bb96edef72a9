// The LRU crawler driven step by step with a ManualClock: what it frees, what it keeps, what it
// counts, and that a step stays within its item budget.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/cache/clock.js';
import { LruCrawler } from '../../src/cache/crawler.js';
import { NONE } from '../../src/cache/item.js';
import { cacheOptions } from '../helpers/fakes.js';
import { Cache } from '../../src/cache/cache.js';
import { storeValue } from '../support/cache-ops.js';

const MB = 1024 * 1024;
const opts = cacheOptions;
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function set(c: Cache, key: string, size: number, exptime = 0): void {
  const k = b(key);
  const v = Buffer.alloc(size, 0x61);
  storeValue(c, k, v, { exptime });
}
function has(c: Cache, key: string): boolean {
  const k = b(key);
  return c.find(k, 0, k.length) !== NONE;
}
/** Present in the index, without the lazy expiry a lookup through the Cache would do. */
function resident(c: Cache, key: string): boolean {
  const k = b(key);
  for (let cls = 1; cls < c.slabs.geometry.sizes.length; cls++) {
    for (const id of c.itemsOfClass(cls)) {
      const buf = Buffer.alloc(c.itemKeyLength(id));
      c.copyKey(id, buf, 0);
      if (buf.equals(k)) return true;
    }
  }
  return false;
}
/** Steps until the pass in progress ends; bounded. */
function finishPass(crawler: LruCrawler, budget = 1000): number {
  let total = 0;
  for (let i = 0; i < 100_000; i++) {
    const n = crawler.step(budget);
    total += n;
    if (!crawler.crawling) return total;
  }
  throw new Error('pass did not end');
}

describe('LruCrawler', () => {
  it('frees expired items and keeps live ones', () => {
    const clock = new ManualClock();
    const c = new Cache(opts(), clock);
    for (let i = 0; i < 50; i++) set(c, `short${i}`, 100, 10);
    for (let i = 0; i < 50; i++) set(c, `long${i}`, 100, 1000);
    for (let i = 0; i < 50; i++) set(c, `never${i}`, 100, 0);
    const crawler = new LruCrawler(c);
    clock.advance(11);
    expect(finishPass(crawler)).toBe(150);
    expect(c.stats.curr_items).toBe(100);
    expect(c.stats.crawler_reclaimed).toBe(50);
    expect(c.stats.crawler_items_checked).toBe(150);
    expect(c.stats.expired_unfetched).toBe(50);
    // the lazy-expiry counter is not the crawler's
    expect(c.stats.reclaimed).toBe(0);
    expect(c.stats.crawler_starts).toBe(1);
    expect(resident(c, 'short0')).toBe(false);
    expect(resident(c, 'long0')).toBe(true);
    expect(resident(c, 'never49')).toBe(true);
    expect(has(c, 'long7')).toBe(true);
  });

  it('counts per class, and expired_unfetched only for items never read', () => {
    const clock = new ManualClock();
    const c = new Cache(opts(), clock);
    for (let i = 0; i < 10; i++) set(c, `s${i}`, 10, 5);
    for (let i = 0; i < 20; i++) set(c, `m${i}`, 2000, 5);
    for (let i = 0; i < 5; i++) set(c, `keep${i}`, 2000, 0);
    // read three small ones: they expire fetched
    for (let i = 0; i < 3; i++) {
      const k = b(`s${i}`);
      expect(c.get(k, 0, k.length)).not.toBe(NONE);
    }
    const small = c.slabs.classFor(48 + 2 + 10);
    const medium = c.slabs.classFor(48 + 2 + 2000);
    expect(small).not.toBe(medium);
    clock.advance(5);
    const crawler = new LruCrawler(c);
    finishPass(crawler);
    const cs = c.classStats;
    expect(cs[small]!.crawler_reclaimed).toBe(10);
    expect(cs[small]!.expired_unfetched).toBe(7);
    expect(cs[medium]!.crawler_reclaimed).toBe(20);
    expect(cs[medium]!.expired_unfetched).toBe(20);
    expect(crawler.checkedByClass[small]).toBe(10);
    expect(crawler.checkedByClass[medium]).toBe(25);
    expect(c.links.count(small)).toBe(0);
    expect(c.links.count(medium)).toBe(5);
    expect(c.slabs.usedChunks[medium]).toBe(5);
    expect(c.stats.expired_unfetched).toBe(27);
  });

  it('frees flushed items without counting them as expired_unfetched', () => {
    const clock = new ManualClock();
    const c = new Cache(opts(), clock);
    for (let i = 0; i < 30; i++) set(c, `k${i}`, 50);
    clock.advance(1);
    c.flushAll(0);
    clock.advance(1);
    set(c, 'after', 50);
    const crawler = new LruCrawler(c);
    finishPass(crawler);
    expect(c.stats.crawler_reclaimed).toBe(30);
    expect(c.stats.expired_unfetched).toBe(0);
    expect(c.stats.curr_items).toBe(1);
    expect(resident(c, 'after')).toBe(true);
  });

  it('stops within its item budget and resumes where it left off', () => {
    const clock = new ManualClock();
    const c = new Cache(opts(), clock);
    for (let i = 0; i < 1000; i++) set(c, `k${i}`, 100, i % 2 === 0 ? 10 : 0);
    clock.advance(20);
    const crawler = new LruCrawler(c);
    const steps: number[] = [];
    for (let i = 0; i < 100 && (steps.length === 0 || crawler.crawling); i++) {
      const before = c.stats.crawler_items_checked;
      const n = crawler.step(64);
      expect(n).toBeLessThanOrEqual(64);
      expect(c.stats.crawler_items_checked - before).toBe(n);
      steps.push(n);
    }
    expect(crawler.crawling).toBe(false);
    expect(steps.slice(0, -1).every((n) => n === 64)).toBe(true);
    expect(steps.reduce((a, n) => a + n, 0)).toBe(1000);
    expect(c.stats.crawler_reclaimed).toBe(500);
    expect(c.stats.curr_items).toBe(500);
    expect(crawler.step(0)).toBe(0);
  });

  it('starts its class over when the cursor was freed and its chunk reused', () => {
    const clock = new ManualClock();
    const c = new Cache(opts(), clock);
    for (let i = 0; i < 200; i++) set(c, `k${i}`, 100, 10);
    clock.advance(11);
    const crawler = new LruCrawler(c);
    expect(crawler.step(10)).toBe(10);
    // k0..k9 are gone and the cursor is k10: free it and let a new item take its chunk
    const k10 = b('k10');
    c.delete(k10, 0, k10.length);
    set(c, 'fresh', 100, 0);
    finishPass(crawler);
    expect(c.stats.crawler_reclaimed).toBe(199);
    expect(c.stats.curr_items).toBe(1);
    expect(resident(c, 'fresh')).toBe(true);
  });

  it('starts its class over when the cursor was read (bumped to the head)', () => {
    const clock = new ManualClock();
    const c = new Cache(opts(), clock);
    for (let i = 0; i < 100; i++) set(c, `k${i}`, 100, i === 5 ? 0 : 10);
    clock.advance(11);
    const crawler = new LruCrawler(c);
    expect(crawler.step(5)).toBe(5);
    const k5 = b('k5');
    expect(c.get(k5, 0, k5.length)).not.toBe(NONE);
    finishPass(crawler);
    expect(c.stats.crawler_reclaimed).toBe(99);
    expect(resident(c, 'k5')).toBe(true);
  });

  it('does not start a class over when a step ends right before its head', () => {
    const clock = new ManualClock();
    const c = new Cache(opts(), clock);
    for (let i = 0; i < 10; i++) set(c, `k${i}`, 100, 0);
    const crawler = new LruCrawler(c);
    expect(crawler.step(9)).toBe(9);
    expect(crawler.step(100)).toBe(1);
    expect(crawler.crawling).toBe(false);
    expect(c.stats.crawler_items_checked).toBe(10);
  });

  it('starts a new pass after one ends and counts lru_crawler_starts', () => {
    const clock = new ManualClock();
    const c = new Cache(opts(), clock);
    set(c, 'a', 10, 100);
    const crawler = new LruCrawler(c);
    finishPass(crawler);
    finishPass(crawler);
    expect(c.stats.crawler_starts).toBe(2);
    expect(crawler.passes).toBe(2);
    expect(c.stats.curr_items).toBe(1);
    clock.advance(100);
    finishPass(crawler);
    expect(c.stats.curr_items).toBe(0);
    expect(c.stats.crawler_items_checked).toBe(3);
  });

  it('runs from timers in slices, yielding to the event loop, until stopped', async () => {
    const clock = new ManualClock();
    const c = new Cache(opts({ memoryLimit: 256 * MB }), clock);
    for (let i = 0; i < 100_000; i++) set(c, `k${i}`, 20, i % 4 === 0 ? 10 : 0);
    clock.advance(11);
    const crawler = new LruCrawler(c, { minIntervalMs: 1, sliceMs: 0.5 });
    crawler.start();
    let turns = 0;
    for (let i = 0; i < 2000 && crawler.passes === 0; i++) {
      await new Promise((r) => setImmediate(r));
      turns++;
    }
    crawler.stop();
    expect(crawler.passes).toBe(1);
    // 100k items do not fit in one half-millisecond slice, so the event loop ran in between
    expect(turns).toBeGreaterThan(1);
    expect(c.stats.crawler_reclaimed).toBe(25_000);
    expect(c.stats.curr_items).toBe(75_000);
    const checked = c.stats.crawler_items_checked;
    await new Promise((r) => setTimeout(r, 20));
    expect(c.stats.crawler_items_checked).toBe(checked);
  });
});

/** Waits (real time, for the crawler's timers) until `cond` holds; false after `ms`. */
async function within(ms: number, cond: () => boolean): Promise<boolean> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

describe('LruCrawler after flush_all', () => {
  // a minIntervalMs far away: only the flush can have started the sweep
  const idle = { minIntervalMs: 600_000 };

  it('sweeps flushed items out at once, without waiting for its next pass', async () => {
    const clock = new ManualClock();
    const c = new Cache(opts({ memoryLimit: 64 * MB }), clock);
    for (let i = 0; i < 20_000; i++) set(c, `k${i}`, 20);
    clock.advance(1);
    const crawler = new LruCrawler(c, idle);
    crawler.start();
    try {
      c.flushAll(0);
      expect(await within(2000, () => c.stats.curr_items === 0)).toBe(true);
      expect(c.stats.crawler_reclaimed).toBe(20_000);
      expect(c.stats.crawler_starts).toBe(1);
    } finally {
      crawler.stop();
    }
  });

  it('waits for a delayed flush point, then sweeps', async () => {
    const clock = new ManualClock();
    const c = new Cache(opts({ memoryLimit: 64 * MB }), clock);
    for (let i = 0; i < 1000; i++) set(c, `k${i}`, 20);
    const crawler = new LruCrawler(c, idle);
    crawler.start();
    try {
      c.flushAll(10);
      // not before the flush point (memcached's oldest_live, delay - 1 s with CAS on)
      await new Promise((r) => setTimeout(r, 150));
      expect(c.stats.curr_items).toBe(1000);
      expect(c.stats.crawler_starts).toBe(0);
      clock.advance(8);
      await new Promise((r) => setTimeout(r, 150));
      expect(c.stats.curr_items).toBe(1000);
      clock.advance(1);
      // the crawler looks at the clock once a second until the last second
      expect(await within(2500, () => c.stats.curr_items === 0)).toBe(true);
      set(c, 'after', 20);
      await new Promise((r) => setTimeout(r, 150));
      expect(c.stats.curr_items).toBe(1);
    } finally {
      crawler.stop();
    }
  });

  it('starts over when the flush lands in the middle of a pass', async () => {
    const clock = new ManualClock();
    const c = new Cache(opts({ memoryLimit: 64 * MB }), clock);
    for (let i = 0; i < 1000; i++) set(c, `k${i}`, 20);
    clock.advance(1);
    const crawler = new LruCrawler(c, idle);
    crawler.start();
    try {
      // half of the class walked, nothing freed: those items are behind the cursor
      expect(crawler.step(500)).toBe(500);
      expect(crawler.crawling).toBe(true);
      c.flushAll(0);
      expect(await within(2000, () => c.stats.curr_items === 0)).toBe(true);
      expect(c.stats.crawler_reclaimed).toBe(1000);
    } finally {
      crawler.stop();
    }
  });

  it('a stopped crawler no longer hears of flushes', async () => {
    const clock = new ManualClock();
    const c = new Cache(opts(), clock);
    for (let i = 0; i < 100; i++) set(c, `k${i}`, 20);
    clock.advance(1);
    const crawler = new LruCrawler(c, idle);
    crawler.start();
    crawler.stop();
    expect(c.onFlush).toBe(null);
    c.flushAll(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.stats.crawler_starts).toBe(0);
  });
});
