// Pinned items (Cache#pin): a reply sends a large value straight from its chunks, so until it
// unpins, whatever happens to the item (replaced, deleted, evicted, expired, its page asked
// for by the page mover) its chunks keep their bytes, and they are freed at the last unpin.
import { describe, expect, it } from 'vitest';
import { Cache } from '../../src/cache/cache.js';
import { ManualClock } from '../../src/cache/clock.js';
import { NONE, type ItemId } from '../../src/cache/item.js';
import { MoveResult } from '../../src/cache/page-mover.js';
import { ArithRequest, OpStatus, Outcome } from '../../src/cache/api.js';
import { cacheOptions as opts } from '../helpers/fakes.js';
import { storeValue } from '../support/cache-ops.js';

const MB = 1024 * 1024;
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function find(c: Cache, key: string): ItemId {
  return c.find(b(key), 0, key.length);
}
/** The value as the views a reply would send. */
function viewed(c: Cache, id: ItemId): Buffer {
  const parts: Buffer[] = [];
  c.valueViews(id, (v) => parts.push(v));
  return Buffer.concat(parts);
}
function pattern(len: number, seed: number): Buffer {
  const v = Buffer.alloc(len);
  for (let i = 0; i < len; i++) v[i] = (i * 31 + seed * 7) & 0xff;
  return v;
}
function used(c: Cache): number {
  let n = 0;
  for (let cls = 1; cls < c.slabs.geometry.sizes.length; cls++) n += c.slabs.usedChunks[cls]!;
  return n;
}

describe('pinned items', () => {
  it('views give the value of a one-chunk and a chained item without a copy', () => {
    const c = new Cache(opts({ itemSizeMax: 4 * MB }), new ManualClock());
    for (const [key, len] of [['small', 100], ['mid', 100_000], ['big', 3 * MB + 123]] as const) {
      const v = pattern(len, len);
      expect(storeValue(c, key, v)).toBe(Outcome.Stored);
      const id = find(c, key);
      const parts: Buffer[] = [];
      c.valueViews(id, (p) => parts.push(p));
      expect(Buffer.concat(parts).equals(v)).toBe(true);
      // slices of the slab pages themselves
      for (const p of parts) expect(c.slabs.pages.some((page) => page.buffer === p.buffer)).toBe(true);
      if (len > MB) expect(parts.length).toBeGreaterThan(1);
    }
  });

  it('a replaced or deleted pinned item keeps its bytes until the last unpin, then its chunks are free', () => {
    const c = new Cache(opts({ itemSizeMax: 4 * MB }), new ManualClock());
    for (const len of [100_000, 2 * MB + 5]) {
      const old = pattern(len, 1);
      storeValue(c, 'k', old);
      const base = used(c);
      const id = find(c, 'k');
      c.pin(id);
      c.pin(id);
      // a same-size set would be written in place; pinned, it takes a new item
      const next = pattern(len, 2);
      expect(storeValue(c, 'k', next)).toBe(Outcome.Stored);
      const fresh = find(c, 'k');
      expect(fresh).not.toBe(id);
      expect(viewed(c, fresh).equals(next)).toBe(true);
      expect(viewed(c, id).equals(old)).toBe(true);
      expect(c.stats.curr_items).toBe(1);
      expect(used(c)).toBe(2 * base);
      // a third version; the pinned old one is still intact
      expect(storeValue(c, 'k', pattern(len + 1, 3))).toBe(Outcome.Stored);
      c.delete(b('k'), 0, 1);
      expect(c.stats.curr_items).toBe(0);
      expect(used(c)).toBe(base);
      c.unpin(id);
      expect(viewed(c, id).equals(old)).toBe(true);
      expect(used(c)).toBe(base);
      c.unpin(id);
      expect(used(c)).toBe(0);
      expect(c.links.pins.size).toBe(0);
    }
  });

  it('incr on a pinned item makes a new item instead of writing in place', () => {
    const c = new Cache(opts(), new ManualClock());
    storeValue(c, 'n', '100');
    const id = find(c, 'n');
    c.pin(id);
    const r = new ArithRequest();
    r.key = b('n');
    r.keyLen = 1;
    r.delta = 5n;
    const st = new OpStatus();
    expect(c.incrDecr(r, st)).toBe(Outcome.Stored);
    expect(st.inPlace).toBe(false);
    expect(viewed(c, id).toString()).toBe('100');
    expect(viewed(c, find(c, 'n')).toString()).toBe('105');
    c.unpin(id);
    expect(c.slabs.usedChunks[c.itemClass(find(c, 'n'))]).toBe(1);
  });

  it('an expired pinned item is reclaimed from the index and freed at its unpin', () => {
    const clock = new ManualClock();
    const c = new Cache(opts(), clock);
    storeValue(c, 'e', pattern(50_000, 4), { exptime: 10 });
    const id = find(c, 'e');
    c.pin(id);
    clock.advance(20);
    expect(find(c, 'e')).toBe(NONE);
    expect(viewed(c, id).equals(pattern(50_000, 4))).toBe(true);
    expect(used(c)).toBe(1);
    c.unpin(id);
    expect(used(c)).toBe(0);
  });

  it('eviction passes over pinned items at the COLD tail and keeps their bytes', () => {
    const c = new Cache(opts({ memoryLimit: 4 * MB, itemSizeMax: MB }), new ManualClock());
    const len = 200_000;
    const pinned: Array<[ItemId, Buffer]> = [];
    for (let i = 0; i < 3; i++) {
      const v = pattern(len, i);
      storeValue(c, `p${i}`, v);
      const id = find(c, `p${i}`);
      c.pin(id);
      pinned.push([id, v]);
    }
    // many more than fit: every store evicts something, never a pinned item
    for (let i = 0; i < 100; i++) expect(storeValue(c, `f${i}`, pattern(len, 100 + i))).toBe(Outcome.Stored);
    expect(c.stats.evictions).toBeGreaterThan(50);
    for (const [id, v] of pinned) expect(viewed(c, id).equals(v)).toBe(true);
    for (let i = 0; i < 3; i++) expect(find(c, `p${i}`)).toBe(pinned[i]![0]);
    for (const [id] of pinned) c.unpin(id);
    // unpinned, they go like any other
    for (let i = 100; i < 200; i++) storeValue(c, `f${i}`, pattern(len, 100 + i));
    for (let i = 0; i < 3; i++) expect(find(c, `p${i}`)).toBe(NONE);
  });

  it('the page mover reports Busy for a page holding a pinned item, linked or not, and moves it after', () => {
    const c = new Cache(opts({ memoryLimit: 16 * MB }), new ManualClock());
    const v = (i: number): Buffer => pattern(900, i);
    for (let i = 0; i < 2400; i++) storeValue(c, `k${String(i).padStart(5, '0')}`, v(i));
    const cls = c.itemClass(find(c, 'k00000'));
    for (let i = 1000; i < 2400; i++) c.delete(b(`k${String(i).padStart(5, '0')}`), 0, 6);
    const id = find(c, 'k00003');
    c.pin(id);
    expect(c.mover.move(cls, 1)).toBe(MoveResult.Busy);
    // replaced while pinned: no longer linked, still in the page, still Busy
    storeValue(c, 'k00003', v(9999));
    expect(c.mover.move(cls, 1)).toBe(MoveResult.Busy);
    expect(viewed(c, id).equals(v(3))).toBe(true);
    c.unpin(id);
    expect(c.mover.move(cls, 1)).toBe(MoveResult.Ok);
    for (let i = 0; i < 1000; i++) {
      const got = find(c, `k${String(i).padStart(5, '0')}`);
      expect(viewed(c, got).equals(i === 3 ? v(9999) : v(i))).toBe(true);
    }
  });

  it('the page mover waits for a pinned chained item with a chunk in the page, deleted or not', () => {
    const c = new Cache(opts({ memoryLimit: 32 * MB, itemSizeMax: 4 * MB }), new ManualClock());
    // 1.2 MiB: a head chunk and two continuations of 512 KiB, so chains cross pages
    for (let i = 0; i < 12; i++) storeValue(c, `big${i}`, pattern(1200 * 1024 + i, i));
    const largest = c.slabs.geometry.largest;
    const page = c.slabs.firstPageOf(largest);
    const pageBuf = c.slabs.pages[page]!;
    let victim = NONE;
    for (let i = 0; i < 12 && victim === NONE; i++) {
      const id = find(c, `big${i}`);
      c.valueViews(id, (p) => {
        const inPage = p.buffer === pageBuf.buffer && p.byteOffset >= pageBuf.byteOffset && p.byteOffset < pageBuf.byteOffset + pageBuf.length;
        if (inPage) victim = id;
      });
    }
    expect(victim).not.toBe(NONE);
    const before = viewed(c, victim);
    c.pin(victim);
    expect(c.mover.move(largest, 1)).toBe(MoveResult.Busy);
    c.delete(b('big0'), 0, 4);
    for (let i = 1; i < 12; i++) c.delete(b(`big${i}`), 0, 4 + (i > 9 ? 1 : 0));
    expect(c.stats.curr_items).toBe(0);
    expect(c.mover.move(largest, 1)).toBe(MoveResult.Busy);
    expect(viewed(c, victim).equals(before)).toBe(true);
    c.unpin(victim);
    expect(c.mover.move(largest, 1)).toBe(MoveResult.Ok);
  });
});
