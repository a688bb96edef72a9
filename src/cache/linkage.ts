// Linkage: an item is live when it is in the hash table and its class's LRU list, and counted
// in curr_items, bytes and its class's mem_requested. Linking, unlinking (which frees the
// chunks), swapping one item for another under the same key, and LRU bumps live here.
import type { Clock } from './clock.js';
import { HashTable } from './hash-table.js';
import { F_FLAGS, F_META, F_NBYTES, F_NCHUNKS, F_NEXT, F_TIME, HEADER_BYTES, IF_ACTIVE, IF_FETCHED, IF_LINKED, memcachedItemSize, NONE, OFF_MASK, PAGE_SHIFT, type ItemId } from './item.js';
import type { ItemMemory } from './item-memory.js';
import { Lru } from './lru.js';
import type { Slabs } from './slabs.js';
import { CacheStats, ClassStats } from './stats.js';

/** memcached's ITEM_UPDATE_INTERVAL: an item's access time moves at most once a minute. */
export const ITEM_UPDATE_INTERVAL = 60;

export class Linkage {
  readonly table: HashTable;
  readonly lru: Lru;
  readonly stats = new CacheStats();
  readonly classStats: ClassStats[];
  /** Count of unlinks, so a store knows whether its earlier lookup is still valid. */
  unlinks = 0;
  readonly #mem: ItemMemory;
  readonly #slabs: Slabs;
  readonly #clock: Clock;
  readonly #useCas: boolean;

  constructor(mem: ItemMemory, slabs: Slabs, clock: Clock, useCas: boolean) {
    this.#mem = mem;
    this.#slabs = slabs;
    this.#clock = clock;
    this.#useCas = useCas;
    const classes = slabs.geometry.sizes.length;
    this.table = new HashTable(mem.pages, mem.pages32, mem.views);
    this.lru = new Lru(classes, mem.pages32);
    this.classStats = slabs.geometry.sizes.map(() => new ClassStats());
  }

  /** Insert into the index and the LRU. */
  link(id: ItemId, hash: number): void {
    const mem = this.#mem;
    this.table.insert(id, hash);
    const cls = mem.slabClass(id);
    this.lru.link(id, cls);
    mem.setIflags(id, mem.iflags(id) | IF_LINKED);
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
    this.lru.unlink(id, cls);
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
    const pSize = memcachedItemSize(pMeta & 0xff, p32[po + F_NBYTES]!, useCas, p32[po + F_FLAGS]!);
    this.lru.unlink(prev, pCls);
    this.classStats[pCls]!.requested -= pSize;
    this.free(prev, pCls);
    const n32 = pages32[id >>> PAGE_SHIFT]!;
    const no = (id & OFF_MASK) << 1;
    const meta = n32[no + F_META]!;
    const cls = (meta >>> 8) & 0xff;
    this.lru.link(id, cls);
    n32[no + F_META] = (meta | (IF_LINKED << 16)) >>> 0;
    const size = memcachedItemSize(meta & 0xff, n32[no + F_NBYTES]!, useCas, n32[no + F_FLAGS]!);
    const s = this.stats;
    s.total_items++;
    s.bytes += size - pSize;
    this.classStats[cls]!.requested += size;
  }

  /** Return an item's chunks (head and continuations) to their free lists. */
  free(id: ItemId, cls: number): void {
    const n = this.#mem.u32(id, F_NCHUNKS);
    if (n > 0) {
      const page = this.#mem.pages[id >>> PAGE_SHIFT]!;
      const at = ((id & OFF_MASK) << 3) + HEADER_BYTES + this.#mem.keyLength(id);
      for (let k = 0; k < n; k++) this.#slabs.free(page.readUInt32LE(at + 4 * k), this.#slabs.geometry.largest);
    }
    this.#slabs.free(id, cls);
  }

  /** Mark an item read: fetched flag, LRU bump, access time (at most once a minute). */
  touchAccess(id: ItemId): void {
    // A read only sets flags in the header it already touched: FETCHED, and ACTIVE, which
    // gives the item a second chance when it reaches the LRU tail (Allocator#reclaimOrEvict).
    // Moving it in the LRU on every read would touch its two neighbours' headers (two more
    // cache misses per get); like memcached, an item moves at most once per ITEM_UPDATE_INTERVAL.
    const mem = this.#mem;
    const fl = mem.iflags(id);
    if ((fl & (IF_FETCHED | IF_ACTIVE)) !== (IF_FETCHED | IF_ACTIVE)) mem.setIflags(id, fl | IF_FETCHED | IF_ACTIVE);
    const now = this.#clock.now();
    if (mem.u32(id, F_TIME) < now - ITEM_UPDATE_INTERVAL) {
      mem.set32(id, F_TIME, now);
      this.lru.bump(id, mem.slabClass(id));
    }
  }

  /** Bump without marking fetched (memcached's add-on-existing behaviour). */
  bumpNoFetch(id: ItemId): void {
    this.lru.bump(id, this.#mem.slabClass(id));
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

  /** Up to `into.length` ids of class `cls` into `into`, from LRU head to tail; returns how many. */
  idsOfClass(cls: number, into: Uint32Array): number {
    const pages32 = this.#mem.pages32;
    let id = this.lru.head[cls]!;
    let n = 0;
    while (id !== NONE && n < into.length) {
      into[n++] = id;
      id = pages32[id >>> PAGE_SHIFT]![((id & OFF_MASK) << 1) + F_NEXT]!;
    }
    return n;
  }

  /** Walk every linked item of a class from LRU head to tail. */
  *itemsOfClass(cls: number): Generator<ItemId> {
    let id = this.lru.head[cls]!;
    while (id !== NONE) {
      const next = this.#mem.u32(id, F_NEXT);
      yield id;
      id = next;
    }
  }
}
