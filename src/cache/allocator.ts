// Allocation and eviction: chunks for a new item (one chunk, or a head chunk and continuation
// chunks of the largest class for a value over slab_chunk_max), making room when a class is
// full by reclaiming an expired item near its LRU tail or evicting the tail (memcached's
// lru_pull_tail with a second chance for items read since they last reached the tail).
import type { Expiry } from './expiry.js';
import { F_META, F_NCHUNKS, HEADER_BYTES, IF_ACTIVE, IF_FETCHED, NONE, OFF_MASK, PAGE_SHIFT, type ItemId } from './item.js';
import type { ItemMemory } from './item-memory.js';
import type { Linkage } from './linkage.js';
import type { Slabs } from './slabs.js';

/** How many items from the tail an allocation looks at for an expired one to reclaim. */
const RECLAIM_SEARCH = 5;
/** How many times an allocation frees a chunk and tries again before giving up. */
const ALLOC_TRIES = 10;

export class Allocator {
  readonly #mem: ItemMemory;
  readonly #slabs: Slabs;
  readonly #links: Linkage;
  readonly #expiry: Expiry;
  readonly #chunkMax: number;
  readonly #noEvict: boolean;
  /** Told of each item evicted, before it is unlinked (Cache.setEvictionObserver). */
  onEvict: ((id: ItemId) => void) | null = null;

  constructor(mem: ItemMemory, slabs: Slabs, links: Linkage, expiry: Expiry, chunkMax: number, noEvict: boolean) {
    this.#mem = mem;
    this.#slabs = slabs;
    this.#links = links;
    this.#expiry = expiry;
    this.#chunkMax = chunkMax;
    this.#noEvict = noEvict;
  }

  /**
   * Chunks for an item with a key of kLen and a value of vLen bytes; NONE when out of memory.
   * With `evict` false nothing is reclaimed or evicted (a restore must not push out what it
   * just loaded) and outofmemory is not counted.
   */
  alloc(kLen: number, vLen: number, evict: boolean): ItemId {
    const size = HEADER_BYTES + kLen + vLen;
    const chunkMax = this.#chunkMax;
    const mem = this.#mem;
    if (size <= chunkMax) {
      const cls = this.#slabs.classFor(size);
      const id = this.#chunk(cls, evict);
      if (id === NONE) return NONE;
      mem.set32(id, F_META, (cls << 8) | kLen);
      mem.set32(id, F_NCHUNKS, 0);
      return id;
    }
    const largest = this.#slabs.geometry.largest;
    let n = 1;
    while (chunkMax - HEADER_BYTES - kLen - 4 * n + n * chunkMax < vLen) n++;
    const head = this.#chunk(largest, evict);
    if (head === NONE) return NONE;
    // set before the continuation chunks are taken: an eviction they cause reads headers
    mem.set32(head, F_META, (largest << 8) | kLen);
    mem.set32(head, F_NCHUNKS, 0);
    const page = mem.pages[head >>> PAGE_SHIFT]!;
    const at = ((head & OFF_MASK) << 3) + HEADER_BYTES + kLen;
    for (let k = 0; k < n; k++) {
      const c = this.#chunk(largest, evict);
      if (c === NONE) {
        for (let j = 0; j < k; j++) this.#slabs.free(page.readUInt32LE(at + 4 * j), largest);
        this.#slabs.free(head, largest);
        return NONE;
      }
      page.writeUInt32LE(c, at + 4 * k);
    }
    mem.set32(head, F_NCHUNKS, n);
    return head;
  }

  #chunk(cls: number, evict: boolean): ItemId {
    if (!evict) return this.#slabs.alloc(cls);
    for (let attempt = 0; attempt < ALLOC_TRIES; attempt++) {
      const id = this.#slabs.alloc(cls);
      if (id !== NONE) return id;
      if (!this.#reclaimOrEvict(cls)) break;
    }
    this.#links.classStats[cls]!.outofmemory++;
    return NONE;
  }

  /** Free one chunk's worth in `cls`: an expired item near the LRU tail, else the tail itself. */
  #reclaimOrEvict(cls: number): boolean {
    const mem = this.#mem;
    const links = this.#links;
    const lru = links.lru;
    const stats = links.stats;
    const cs = links.classStats[cls]!;
    const now = this.#expiry.clock.now();
    let id = lru.tail[cls]!;
    for (let i = 0; i < RECLAIM_SEARCH && id !== NONE; i++) {
      if (this.#expiry.isExpired(id, now) || this.#expiry.isFlushed(id, now)) {
        if ((mem.iflags(id) & IF_FETCHED) === 0) {
          stats.expired_unfetched++;
          cs.expired_unfetched++;
        }
        stats.reclaimed++;
        cs.reclaimed++;
        links.unlink(id);
        return true;
      }
      id = lru.prevOf(id);
    }
    if (this.#noEvict) return false;
    let tail = lru.tail[cls]!;
    if (tail === NONE) return false;
    // second chance: an item read since it last reached the tail goes back to the head. Each
    // rescue clears the mark a read set, so the walk is amortized O(1) per read (CLOCK).
    for (let i = lru.size[cls]!; i > 0; i--) {
      const f = mem.iflags(tail);
      if ((f & IF_ACTIVE) === 0) break;
      mem.setIflags(tail, f & ~IF_ACTIVE);
      lru.bump(tail, cls);
      stats.moves_within_lru++;
      tail = lru.tail[cls]!;
    }
    const fl = mem.iflags(tail);
    stats.evictions++;
    cs.evicted++;
    if (mem.exptime(tail) !== 0) cs.evicted_nonzero++;
    cs.evicted_time = now - mem.time(tail);
    if ((fl & IF_FETCHED) === 0) {
      stats.evicted_unfetched++;
      cs.evicted_unfetched++;
    }
    if ((fl & IF_ACTIVE) !== 0) {
      stats.evicted_active++;
      cs.evicted_active++;
    }
    this.onEvict?.(tail);
    links.unlink(tail);
    return true;
  }
}
