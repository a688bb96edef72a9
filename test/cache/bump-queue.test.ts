// The queue of COLD items read twice (Linkage#drainBumps): an id waits there until the
// maintainer's next pass, and by then its item may be gone, its chunk may hold another item,
// or its page may belong to another class. Only an item that is still linked, in COLD and
// ACTIVE moves to WARM; anything else in the queue is skipped without touching the lists.
import { describe, expect, it } from 'vitest';
import { Outcome } from '../../src/cache/api.js';
import { Cache } from '../../src/cache/cache.js';
import { ManualClock } from '../../src/cache/clock.js';
import { HEADER_BYTES, IF_ACTIVE, IF_LINKED, NONE } from '../../src/cache/item.js';
import { COLD, HOT, lruOf, segmentOf, WARM } from '../../src/cache/lru-segment.js';
import { MoveResult } from '../../src/cache/page-mover.js';
import { storeValue } from '../support/cache-ops.js';
import { cacheOptions as opts } from '../helpers/fakes.js';

const MB = 1024 * 1024;
const key = (i: number): string => `k${String(i).padStart(7, '0')}`; // 8 bytes
const idOf = (c: Cache, k: string): number => c.find(Buffer.from(k), 0, k.length);
const read = (c: Cache, k: string): boolean => c.get(Buffer.from(k), 0, k.length) !== NONE;
const segOf = (c: Cache, k: string): number => segmentOf(c.itemIflags(idOf(c, k)));

function value(c: Cache, k: string): Buffer | null {
  const id = idOf(c, k);
  if (id === NONE) return null;
  const out = Buffer.alloc(c.itemValueLength(id));
  c.copyValue(id, out, 0);
  return out;
}

/** Linked items of every class add up to curr_items, list by list. */
function listsAddUp(c: Cache): void {
  let n = 0;
  for (let cls = 1; cls < c.slabs.geometry.sizes.length; cls++) n += c.links.count(cls);
  expect(n).toBe(c.stats.curr_items);
}

/** Items 0..n-1 with 100-byte values, settled by one pass (HOT past its share goes to COLD). */
function filled(n: number): Cache {
  const c = new Cache(opts({ memoryLimit: 16 * MB }), new ManualClock());
  for (let i = 0; i < n; i++) expect(storeValue(c, key(i), 'x'.repeat(100))).toBe(Outcome.Stored);
  c.maintainer.tick();
  return c;
}

describe('the COLD bump queue', () => {
  it('moves nothing for a queued item deleted before the pass (pinned or not), nor for a new item in its chunk', () => {
    const c = filled(100);
    expect(segOf(c, key(0))).toBe(COLD);
    expect(segOf(c, key(1))).toBe(COLD);
    const reused = idOf(c, key(1));
    for (const i of [0, 1, 2, 3]) {
      read(c, key(i));
      read(c, key(i));
    }
    // a reply is sending key 3 from its chunk: deleted, it keeps its header but not "linked"
    const pinned = idOf(c, key(3));
    c.pin(pinned);
    expect(c.delete(Buffer.from(key(3)), 0, 8)).toBe(Outcome.Deleted);
    expect(c.delete(Buffer.from(key(0)), 0, 8)).toBe(Outcome.Deleted);
    expect(c.delete(Buffer.from(key(1)), 0, 8)).toBe(Outcome.Deleted);
    // the free list hands out the last freed chunk first
    expect(storeValue(c, 'newitem1', 'y'.repeat(100))).toBe(Outcome.Stored);
    expect(idOf(c, 'newitem1')).toBe(reused);
    read(c, 'newitem1');
    read(c, 'newitem1'); // ACTIVE, but in HOT: not queued, and not COLD when the pass comes
    c.maintainer.tick();
    expect(c.stats.moves_to_warm).toBe(1); // key 2 only
    expect(segOf(c, key(2))).toBe(WARM);
    expect(segOf(c, 'newitem1')).not.toBe(COLD);
    listsAddUp(c);
    c.unpin(pinned);
    listsAddUp(c);
  });

  it('after its page moved to another class, a queued id that now points into values moves nothing', () => {
    const c = filled(8000);
    const src = c.itemClass(idOf(c, key(0)));
    expect(c.slabs.classPages[src]).toBe(2);
    expect(segOf(c, key(0))).toBe(COLD);
    // the first page's COLD items, read twice: queued
    const page0 = idOf(c, key(0)) >>> 17;
    let queued = 0;
    for (let i = 0; i < 8000 && queued < 500; i++) {
      const id = idOf(c, key(i));
      if (id >>> 17 !== page0 || segOf(c, key(i)) !== COLD) continue;
      read(c, key(i));
      read(c, key(i));
      expect(c.itemIflags(id) & IF_ACTIVE).toBe(IF_ACTIVE);
      queued++;
    }
    expect(queued).toBe(500);
    // a class of 900-byte values gets the page; their bytes read as "linked, ACTIVE, COLD, of
    // this class" at every 4-byte boundary
    const dstKey = (i: number): string => `d${String(i).padStart(7, '0')}`;
    expect(storeValue(c, dstKey(0), 'z'.repeat(900))).toBe(Outcome.Stored);
    const dst = c.itemClass(idOf(c, dstKey(0)));
    expect(c.mover.move(src, dst)).toBe(MoveResult.Ok);
    const forged = Buffer.alloc(900);
    for (let o = 0; o < 900; o += 4) forged.writeUInt32LE((8 | (dst << 8) | ((IF_LINKED | IF_ACTIVE) << 16)) >>> 0, o);
    expect((HEADER_BYTES + 8) % 4).toBe(0);
    let stored = 1;
    while (c.slabs.usedChunks[dst]! < c.slabs.classPages[dst]! * Math.floor(MB / c.slabs.chunkSize(dst))) {
      expect(storeValue(c, dstKey(stored), forged)).toBe(Outcome.Stored);
      stored++;
    }
    c.maintainer.tick();
    // no item of the new class was read: none of them may have moved to WARM
    expect(c.classStats[dst]!.moves_to_warm).toBe(0);
    for (let i = 1; i < stored; i++) expect(value(c, dstKey(i))?.equals(forged)).toBe(true);
    expect(c.lru.size[lruOf(dst, WARM)]).toBe(0);
    expect(c.lru.size[lruOf(dst, HOT)]! + c.lru.size[lruOf(dst, COLD)]!).toBe(stored);
    listsAddUp(c);
  });
});
