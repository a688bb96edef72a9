// Moving a slab page from one class to another, as memcached's slab rebalancer does for
// `slabs reassign` and the automover: the page's live items move to free chunks of their
// class when there are any ("rescues") and are dropped otherwise ("evictions_nomem"), then the
// page is carved for the new class. Done in one synchronous step: a page holds at most a few
// thousand items, each a copy of under a page's worth of bytes.
import { copyBytes } from './bytes.js';
import { F_META, F_NBYTES, flagBytes, HEADER_BYTES, IF_LINKED, NONE, OFF_MASK, PAGE_SHIFT, makeId, type ItemId } from './item.js';
import type { ItemMemory } from './item-memory.js';
import { lruOf, segmentOf } from './lru-segment.js';
import type { Linkage } from './linkage.js';
import type { Slabs } from './slabs.js';

export const MoveResult = { Ok: 0, NoSpare: 1, Busy: 2, BadClass: 3, Same: 4 } as const;
export type MoveResult = (typeof MoveResult)[keyof typeof MoveResult];

/** memcached's slab_reassign_* and slabs_moved counters. */
export class MoveStats {
  slabs_moved = 0;
  slab_reassign_rescues = 0;
  slab_reassign_evictions_nomem = 0;
  slab_reassign_chunk_rescues = 0;
}

export class PageMover {
  readonly stats = new MoveStats();
  readonly #slabs: Slabs;
  readonly #mem: ItemMemory;
  readonly #links: Linkage;
  /** Round-robin position for `slabs reassign -1 <dst>`, as slabs_reassign_pick_any(). */
  #pick = 0;
  /** Snapshot writers walking the pages right now; pages do not change class meanwhile. */
  #pins = 0;

  constructor(slabs: Slabs, mem: ItemMemory, links: Linkage) {
    this.#slabs = slabs;
    this.#mem = mem;
    this.#links = links;
  }

  pin(): void {
    this.#pins++;
  }
  unpin(): void {
    this.#pins--;
  }
  get pinned(): boolean {
    return this.#pins > 0;
  }

  /** A class other than dst with a page to spare, in turn; -1 when none has. */
  pickSource(dst: number): number {
    const slabs = this.#slabs;
    const n = slabs.geometry.sizes.length - 1;
    for (let tries = n; tries > 0; tries--) {
      this.#pick = this.#pick >= n ? 1 : this.#pick + 1;
      if (this.#pick !== dst && slabs.classPages[this.#pick]! > 1) return this.#pick;
    }
    return -1;
  }

  /** Move one page of class `src` (-1: any class with a spare page) to class `dst`. */
  move(src: number, dst: number): MoveResult {
    const slabs = this.#slabs;
    const classes = slabs.geometry.sizes.length;
    if (src === dst) return MoveResult.Same;
    if (src === -1) src = this.pickSource(dst);
    // class 0 is memcached's global page pool: a valid source (never with pages to spare
    // here) and destination
    if (src < 0 || src >= classes || dst < 0 || dst >= classes) return MoveResult.BadClass;
    if (slabs.classPages[src]! < 2) return MoveResult.NoSpare;
    if (this.#pins > 0) return MoveResult.Busy;
    const page = slabs.firstPageOf(src);
    // a reply is sending an item from this page: try again later, as memcached's rebalancer
    // waits for an item's references to go
    if (this.#holdsPinned(page)) return MoveResult.Busy;
    const carved = slabs.carvedChunks(page, src);
    slabs.stopCarving(page, src);
    slabs.detachFreeChunks(page, src);
    if (src === slabs.geometry.largest) this.#emptyLargest(page, src);
    else this.#empty(page, src, carved);
    // chunks of the page that evictions put back on the free list
    slabs.detachFreeChunks(page, src);
    slabs.givePage(page, src, dst);
    this.stats.slabs_moved++;
    return MoveResult.Ok;
  }

  /** Items of a class below the largest: one chunk each, whole in the page. */
  #empty(page: number, cls: number, carved: number): void {
    const slabs = this.#slabs;
    const size = slabs.chunkSize(cls);
    const p32 = slabs.pages32[page]!;
    // free chunks elsewhere in the class take the items until there are none left; after
    // that an evicted item's chunk (of this page) is on the free list, so stop rescuing
    let spare = true;
    for (let k = 0; k < carved; k++) {
      const off = k * size;
      if (((p32[(off >>> 2) + F_META]! >>> 16) & IF_LINKED) === 0) continue;
      const id: ItemId = makeId(page, off);
      const to = spare ? slabs.allocFree(cls) : NONE;
      if (to !== NONE) {
        this.#relocate(id, to, cls);
        this.stats.slab_reassign_rescues++;
      } else {
        spare = false;
        this.#links.unlink(id);
        this.stats.slab_reassign_evictions_nomem++;
      }
    }
  }

  /** The largest class holds chained items whose chunks may lie in any of its pages. */
  #emptyLargest(page: number, cls: number): void {
    const doomed: ItemId[] = [];
    for (const id of this.#links.itemsOfClass(cls)) {
      if (id >>> PAGE_SHIFT === page || this.#chainTouches(id, page)) doomed.push(id);
    }
    for (const id of doomed) {
      this.#links.unlink(id);
      this.stats.slab_reassign_evictions_nomem++;
    }
  }

  /** Some pinned item (linked or not) has its head or a continuation chunk in `page`. */
  #holdsPinned(page: number): boolean {
    for (const id of this.#links.pins.keys()) {
      if (id >>> PAGE_SHIFT === page || this.#chainTouches(id, page)) return true;
    }
    return false;
  }

  #chainTouches(id: ItemId, page: number): boolean {
    const n = this.#mem.chunkCount(id);
    if (n === 0) return false;
    // the continuation chunk ids follow the key and flags in the head chunk
    const at = this.#mem.chainListAt(id);
    const head = this.#slabs.pages[id >>> PAGE_SHIFT]!;
    for (let k = 0; k < n; k++) if (head.readUInt32LE(at + 4 * k) >>> PAGE_SHIFT === page) return true;
    return false;
  }

  /**
   * Move unchained item `id` of class `cls` into the free chunk `to` of the same class (its
   * page is being emptied): its bytes, its place in the hash chain and in the LRU move, and
   * CAS, times and flags stay as they are. The old chunk goes on no free list.
   */
  #relocate(id: ItemId, to: ItemId, cls: number): void {
    const mem = this.#mem;
    this.#links.unlinks++;
    const p32 = mem.pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    const meta = p32[o + F_META]!;
    const bytes = HEADER_BYTES + (meta & 0xff) + flagBytes(meta) + p32[o + F_NBYTES]!;
    copyBytes(mem.pages[id >>> PAGE_SHIFT]!, o << 2, bytes, mem.pages[to >>> PAGE_SHIFT]!, (to & OFF_MASK) << 3);
    this.#links.table.replace(id, to, mem.hash(id));
    this.#links.lru.replace(id, to, lruOf(cls, segmentOf(p32[o + F_META]! >>> 16)));
    this.#slabs.dropChunk(id, cls);
  }
}
