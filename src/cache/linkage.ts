// Linkage: an item is live when it is in the hash table and one of its class's LRU lists, and
// counted in curr_items, bytes and its class's mem_requested. Linking, unlinking (which frees
// the chunks), swapping one item for another under the same key, moves between LRU segments
// and what a read does to an item's LRU place (memcached's do_item_bump) live here.
import type { Clock } from './clock.js';
import { HashTable } from './hash-table.js';
import { F_META, F_NBYTES, F_NEXT, F_TIME, HEADER_BYTES, IF_ACTIVE, IF_FETCHED, IF_LINKED, M_FLAGS, memcachedItemSize, NONE, OFF_MASK, PAGE_SHIFT, type ItemId } from './item.js';
import type { ItemMemory } from './item-memory.js';
import { Lru } from './lru.js';
import { COLD, HOT, IF_SEGMENT, lruOf, LruTuning, SEGMENTS, segmentFlags, segmentOf, WARM } from './lru-segment.js';
import type { Slabs } from './slabs.js';
import { CacheStats, ClassStats } from './stats.js';

/** memcached's ITEM_UPDATE_INTERVAL: an item's access time moves at most once a minute. */
export const ITEM_UPDATE_INTERVAL = 60;
/**
 * COLD items read a second time wait here for the maintainer to move them to WARM (memcached's
 * per-thread lru_bump_buf holds 512); when it is full the read is not counted as a bump.
 */
const BUMP_QUEUE = 1024;

/** A class's lists from most to least recent. */
const CLASS_ORDER = [HOT, WARM, COLD] as const;

export class Linkage {
  readonly table: HashTable;
  /** The lists, one per (class, segment): lruOf(cls, seg). */
  readonly lru: Lru;
  readonly tuning: LruTuning;
  /** Reads by the list their item was on (stats items hits_to_hot/warm/cold). */
  readonly hits: Float64Array;
  readonly stats = new CacheStats();
  readonly classStats: ClassStats[];
  /** Count of unlinks, so a store knows whether its earlier lookup is still valid. */
  unlinks = 0;
  readonly #mem: ItemMemory;
  readonly #slabs: Slabs;
  readonly #clock: Clock;
  readonly #useCas: boolean;
  readonly #bumps = new Uint32Array(BUMP_QUEUE);
  #bumpCount = 0;
  /** Slabs#layoutChanges when the first id of the queue was taken. */
  #bumpLayout = 0;

  constructor(mem: ItemMemory, slabs: Slabs, clock: Clock, useCas: boolean, tuning = new LruTuning()) {
    this.#mem = mem;
    this.#slabs = slabs;
    this.#clock = clock;
    this.#useCas = useCas;
    this.tuning = tuning;
    const classes = slabs.geometry.sizes.length;
    this.table = new HashTable(mem.pages, mem.pages32, mem.views);
    this.lru = new Lru(classes * SEGMENTS, mem.pages32);
    this.hits = new Float64Array(classes * SEGMENTS);
    this.classStats = slabs.geometry.sizes.map(() => new ClassStats());
  }

  /** Where a new item goes: HOT, or COLD when the LRU is flat (memcached's do_item_alloc). */
  get newSegment(): number {
    return this.tuning.segmented ? HOT : COLD;
  }

  /** Items of class `cls` on all its lists. */
  count(cls: number): number {
    const size = this.lru.size;
    const l = cls << 2;
    return size[l]! + size[l + 1]! + size[l + 2]!;
  }

  /** Insert into the index and the LRU: at the head of segment `seg` (default: newSegment). */
  link(id: ItemId, hash: number, seg = this.newSegment): void {
    const mem = this.#mem;
    this.table.insert(id, hash);
    const cls = mem.slabClass(id);
    this.lru.link(id, lruOf(cls, seg));
    mem.setIflags(id, (mem.iflags(id) & ~IF_SEGMENT) | IF_LINKED | segmentFlags(seg));
    const size = mem.size(id);
    this.stats.curr_items++;
    this.stats.total_items++;
    this.stats.bytes += size;
    this.classStats[cls]!.requested += size;
  }

  /** Remove from index and LRU and free its chunks. */
  unlink(id: ItemId): void {
    this.unlinks++;
    const cls = this.#mem.slabClass(id);
    const size = this.#mem.size(id);
    this.table.remove(id);
    this.lru.unlink(id, lruOf(cls, segmentOf(this.#mem.iflags(id))));
    this.stats.curr_items--;
    this.stats.bytes -= size;
    this.classStats[cls]!.requested -= size;
    this.free(id, cls);
  }

  /**
   * Put the unlinked item `id` in the place of the linked item `prev` under the same key: it
   * takes prev's place in its hash chain; LRU and stats as unlink + link.
   */
  swap(prev: ItemId, id: ItemId, hash: number): void {
    this.unlinks++;
    this.table.replace(prev, id, hash);
    const pages32 = this.#mem.pages32;
    const p32 = pages32[prev >>> PAGE_SHIFT]!;
    const po = (prev & OFF_MASK) << 1;
    const pMeta = p32[po + F_META]!;
    const pCls = (pMeta >>> 8) & 0xff;
    const useCas = this.#useCas;
    // M_FLAGS stands for the client flags: the size only asks whether they are 0
    const pSize = memcachedItemSize(pMeta & 0xff, p32[po + F_NBYTES]!, useCas, pMeta & M_FLAGS);
    this.lru.unlink(prev, lruOf(pCls, segmentOf(pMeta >>> 16)));
    this.classStats[pCls]!.requested -= pSize;
    this.free(prev, pCls);
    const n32 = pages32[id >>> PAGE_SHIFT]!;
    const no = (id & OFF_MASK) << 1;
    const meta = n32[no + F_META]!;
    const cls = (meta >>> 8) & 0xff;
    const seg = this.newSegment;
    this.lru.link(id, lruOf(cls, seg));
    n32[no + F_META] = ((meta & ~(IF_SEGMENT << 16)) | ((IF_LINKED | segmentFlags(seg)) << 16)) >>> 0;
    const size = memcachedItemSize(meta & 0xff, n32[no + F_NBYTES]!, useCas, meta & M_FLAGS);
    const s = this.stats;
    s.total_items++;
    s.bytes += size - pSize;
    this.classStats[cls]!.requested += size;
  }

  /**
   * Items a reply is sending straight from their chunks (the socket has not taken the bytes
   * yet), with how many replies pin each. Few are pinned at once, so a side map, not a header
   * field. A pinned item is never written in place, moved or evicted, and unlinking it leaves
   * its chunks to the last unpin (memcached's item refcount).
   */
  readonly pins = new Map<ItemId, number>();
  /** Pinned items that were unlinked meanwhile, with their class: freed at their last unpin. */
  readonly unlinkedPinned = new Map<ItemId, number>();

  isPinned(id: ItemId): boolean {
    return this.pins.size !== 0 && this.pins.has(id);
  }

  pin(id: ItemId): void {
    this.pins.set(id, (this.pins.get(id) ?? 0) + 1);
  }

  unpin(id: ItemId): void {
    const n = this.pins.get(id);
    if (n === undefined) return;
    if (n > 1) {
      this.pins.set(id, n - 1);
      return;
    }
    this.pins.delete(id);
    const cls = this.unlinkedPinned.get(id);
    if (cls === undefined) return;
    this.unlinkedPinned.delete(id);
    this.#freeChunks(id, cls);
  }

  /**
   * Return an item's chunks (head and continuations) to their free lists; for a pinned item,
   * at its last unpin (it is marked unlinked now, its bytes stay as they are until then).
   */
  free(id: ItemId, cls: number): void {
    if (this.pins.size !== 0 && this.pins.has(id)) {
      const mem = this.#mem;
      mem.setIflags(id, mem.iflags(id) & ~IF_LINKED);
      this.unlinkedPinned.set(id, cls);
      return;
    }
    this.#freeChunks(id, cls);
  }

  #freeChunks(id: ItemId, cls: number): void {
    const n = this.#mem.chunkCount(id);
    if (n > 0) {
      const page = this.#mem.pages[id >>> PAGE_SHIFT]!;
      const at = this.#mem.chainListAt(id);
      for (let k = 0; k < n; k++) this.#slabs.free(page.readUInt32LE(at + 4 * k), this.#slabs.geometry.largest);
    }
    this.#slabs.free(id, cls);
  }

  /**
   * Mark an item read. Segmented (memcached's do_item_bump): the first read sets FETCHED, the
   * second ACTIVE; an ACTIVE item in HOT or WARM only gets a new access time (the maintainer
   * acts on the mark when the item reaches its list's tail), one in COLD is queued for the
   * maintainer to move to WARM. A read never moves an item between lists itself, which keeps
   * it off its neighbours' headers. Flat: FETCHED and ACTIVE at once, and a move to the head
   * at most once per ITEM_UPDATE_INTERVAL (the rest is the eviction's second chance).
   */
  touchAccess(id: ItemId): void {
    const mem = this.#mem;
    const fl = mem.iflags(id);
    this.hits[lruOf(mem.slabClass(id), segmentOf(fl))]!++;
    if (!this.tuning.segmented) {
      if ((fl & (IF_FETCHED | IF_ACTIVE)) !== (IF_FETCHED | IF_ACTIVE)) mem.setIflags(id, fl | IF_FETCHED | IF_ACTIVE);
      const now = this.#clock.now();
      if (mem.u32(id, F_TIME) < now - ITEM_UPDATE_INTERVAL) {
        mem.set32(id, F_TIME, now);
        this.lru.bump(id, lruOf(mem.slabClass(id), segmentOf(fl)));
      }
      return;
    }
    if ((fl & IF_ACTIVE) !== 0) {
      // an overwrite in place can mark an item ACTIVE before any read (Storage#overwrite)
      if ((fl & IF_FETCHED) === 0) mem.setIflags(id, fl | IF_FETCHED);
      return;
    }
    if ((fl & IF_FETCHED) === 0) {
      mem.setIflags(id, fl | IF_FETCHED);
      return;
    }
    if (segmentOf(fl) !== COLD) {
      mem.setIflags(id, fl | IF_ACTIVE);
      mem.set32(id, F_TIME, this.#clock.now());
    } else if (this.#bumpCount < BUMP_QUEUE) {
      mem.setIflags(id, fl | IF_ACTIVE);
      if (this.#bumpCount === 0) this.#bumpLayout = this.#slabs.layoutChanges;
      this.#bumps[this.#bumpCount++] = id;
    } else {
      this.stats.lru_bumps_dropped++;
    }
  }

  /**
   * An update that is not a read (add over an existing item, incr/decr in place): memcached's
   * do_item_update. Segmented: an ACTIVE COLD item moves to WARM, any other gets a new access
   * time. Flat: to the head of its list.
   */
  bumpNoFetch(id: ItemId): void {
    const mem = this.#mem;
    const cls = mem.slabClass(id);
    if (!this.tuning.segmented) {
      this.lru.bump(id, lruOf(cls, segmentOf(mem.iflags(id))));
      return;
    }
    mem.set32(id, F_TIME, this.#clock.now());
    const fl = mem.iflags(id);
    if (segmentOf(fl) === COLD && (fl & IF_ACTIVE) !== 0) this.#coldToWarm(id, cls, fl);
  }

  /** An item overwritten in place (Storage#overwrite) goes to the head of HOT, as a new item would. */
  relinkNew(id: ItemId, cls: number): void {
    const fl = this.#mem.iflags(id);
    const seg = segmentOf(fl);
    const to = this.newSegment;
    if (seg === to) this.lru.bump(id, lruOf(cls, seg));
    else this.moveTo(id, cls, seg, to);
  }

  /** Move a linked item from segment `from` to the head of segment `to` (flags follow). */
  moveTo(id: ItemId, cls: number, from: number, to: number): void {
    this.lru.move(id, lruOf(cls, from), lruOf(cls, to));
    const mem = this.#mem;
    mem.setIflags(id, (mem.iflags(id) & ~IF_SEGMENT) | segmentFlags(to));
  }

  /**
   * An ACTIVE COLD item to WARM's head with a new access time and the mark cleared (memcached's
   * do_item_update on a queued bump; an item the maintainer or an eviction moves first gets the
   * same time when memcached processes its bump after).
   */
  coldToWarm(id: ItemId, cls: number): void {
    this.#coldToWarm(id, cls, this.#mem.iflags(id));
  }

  #coldToWarm(id: ItemId, cls: number, fl: number): void {
    const mem = this.#mem;
    this.lru.move(id, lruOf(cls, COLD), lruOf(cls, WARM));
    mem.setIflags(id, (fl & ~(IF_SEGMENT | IF_ACTIVE)) | segmentFlags(WARM));
    mem.set32(id, F_TIME, this.#clock.now());
    this.stats.moves_to_warm++;
    this.classStats[cls]!.moves_to_warm++;
  }

  /**
   * Move the COLD items read twice since the last call to WARM (memcached's
   * lru_maintainer_bumps). A queued id may have been freed or its chunk reused since: only a
   * linked item still in COLD and still ACTIVE moves. Returns how many were queued.
   *
   * While no page has changed class since the first id was queued, each id still names the
   * start of a chunk of its page's class, and that chunk's header is true: freeing clears it
   * (Slabs#free) and a new item writes it whole. Its own flags then say whether it is linked.
   * Only the largest class hands chunks out as continuations of chained items, whose bytes are
   * value data; there, and after a page moved, the id is checked against the index.
   */
  drainBumps(): number {
    const n = this.#bumpCount;
    if (n === 0) return 0;
    const mem = this.#mem;
    const slabs = this.#slabs;
    const pageClass = slabs.pageClass;
    const pages32 = mem.pages32;
    const largest = slabs.geometry.largest;
    const trusted = slabs.layoutChanges === this.#bumpLayout;
    const bumps = this.#bumps;
    for (let i = 0; i < n; i++) {
      const id = bumps[i]!;
      const page = id >>> PAGE_SHIFT;
      const p32 = pages32[page];
      if (p32 === undefined) continue;
      const meta = p32[((id & OFF_MASK) << 1) + F_META]!;
      const fl = meta >>> 16;
      if ((fl & (IF_LINKED | IF_ACTIVE)) !== (IF_LINKED | IF_ACTIVE) || segmentOf(fl) !== COLD) continue;
      const cls = (meta >>> 8) & 0xff;
      if (trusted && pageClass[page] === cls && cls !== largest) this.#coldToWarm(id, cls, fl);
      else if (this.isLinkedItemOfClass(id, cls)) this.#coldToWarm(id, cls, mem.iflags(id));
    }
    this.#bumpCount = 0;
    return n;
  }

  /**
   * True when `id` is a linked item of class `cls`: the index holds it under its own key. The
   * crawler checks a cursor it kept across event-loop turns this way (and a dump the ids it
   * took at its start), because the item may have been freed, or its chunk reused, in between.
   */
  isLinkedItemOfClass(id: ItemId, cls: number): boolean {
    const mem = this.#mem;
    const page = mem.pages[id >>> PAGE_SHIFT];
    if (page === undefined) return false;
    const meta = mem.u32(id, F_META);
    if (((meta >>> 16) & IF_LINKED) === 0 || ((meta >>> 8) & 0xff) !== cls) return false;
    const klen = meta & 0xff;
    const at = ((id & OFF_MASK) << 3) + HEADER_BYTES;
    if (klen === 0 || at + klen > page.length) return false;
    return this.table.find(page, at, klen, mem.hash(id)) === id;
  }

  /** Up to `into.length` ids of list `list` (lruOf) into `into`, from head to tail; returns how many. */
  idsOfList(list: number, into: Uint32Array): number {
    const pages32 = this.#mem.pages32;
    let id = this.lru.head[list] ?? NONE;
    let n = 0;
    while (id !== NONE && n < into.length) {
      into[n++] = id;
      id = pages32[id >>> PAGE_SHIFT]![((id & OFF_MASK) << 1) + F_NEXT]!;
    }
    return n;
  }

  /** Up to `into.length` ids of class `cls` into `into`: HOT, WARM then COLD, each head to tail. */
  idsOfClass(cls: number, into: Uint32Array): number {
    let n = 0;
    for (const seg of CLASS_ORDER) n += this.idsOfList(lruOf(cls, seg), into.subarray(n));
    return n;
  }

  /** Walk every linked item of a class: HOT, WARM then COLD, each from head to tail. */
  *itemsOfClass(cls: number): Generator<ItemId> {
    for (const seg of CLASS_ORDER) {
      let id = this.lru.head[lruOf(cls, seg)] ?? NONE;
      while (id !== NONE) {
        const next = this.#mem.u32(id, F_NEXT);
        yield id;
        id = next;
      }
    }
  }
}
