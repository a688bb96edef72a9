// Allocation and eviction: chunks for a new item (one chunk, or a head chunk and continuation
// chunks of the largest class for a value over slab_chunk_max), making room when a class is
// full by reclaiming an expired item near its COLD tail or evicting that tail (memcached's
// do_item_alloc_pull; the LRU side is LruMaintainer#makeRoom).
import { chunkBytes, continuationChunks, F_META, flagLayout, M_CHAINED, NONE, OFF_MASK, PAGE_SHIFT, type ItemId } from './item.js';
import type { ItemMemory } from './item-memory.js';
import type { Linkage } from './linkage.js';
import type { LruMaintainer } from './lru-maintainer.js';
import type { Slabs } from './slabs.js';
/** How many times an allocation frees a chunk and tries again before giving up. */
const ALLOC_TRIES = 10;

export class Allocator {
  readonly #mem: ItemMemory;
  readonly #slabs: Slabs;
  readonly #links: Linkage;
  readonly #maintainer: LruMaintainer;
  readonly #chunkMax: number;
  readonly #noEvict: boolean;

  constructor(mem: ItemMemory, slabs: Slabs, links: Linkage, maintainer: LruMaintainer, chunkMax: number, noEvict: boolean) {
    this.#mem = mem;
    this.#slabs = slabs;
    this.#links = links;
    this.#maintainer = maintainer;
    this.#chunkMax = chunkMax;
    this.#noEvict = noEvict;
  }

  /**
   * Chunks for an item with a key of kLen bytes, a value of vLen bytes and these client flags
   * (2 or 4 more bytes when not 0); NONE when out of memory. Sets the item's key length, class and
   * layout bits; writeHeader must get the same flags. With `evict` false nothing is reclaimed
   * or evicted (a restore must not push out what it just loaded) and outofmemory is not counted.
   */
  alloc(kLen: number, vLen: number, flags: number, evict: boolean): ItemId {
    const size = chunkBytes(kLen, vLen, flags);
    const chunkMax = this.#chunkMax;
    const mem = this.#mem;
    const layout = flagLayout(flags >>> 0);
    if (size <= chunkMax) {
      const cls = this.#slabs.classFor(size);
      const id = this.#chunk(cls, evict);
      if (id === NONE) return NONE;
      mem.set32(id, F_META, layout | (cls << 8) | kLen);
      return id;
    }
    const largest = this.#slabs.geometry.largest;
    const n = continuationChunks(size, chunkMax);
    const head = this.#chunk(largest, evict);
    if (head === NONE) return NONE;
    // set before the continuation chunks are taken (an eviction they cause reads headers),
    // without M_CHAINED until the chunk id list is complete
    mem.set32(head, F_META, layout | (largest << 8) | kLen);
    const page = mem.pages[head >>> PAGE_SHIFT]!;
    const at = mem.chainListAt(head);
    for (let k = 0; k < n; k++) {
      const c = this.#chunk(largest, evict);
      if (c === NONE) {
        for (let j = 0; j < k; j++) this.#slabs.free(page.readUInt32LE(at + 4 * j), largest);
        this.#slabs.free(head, largest);
        return NONE;
      }
      page.writeUInt32LE(c, at + 4 * k);
    }
    mem.set32(head, F_META, layout | M_CHAINED | (largest << 8) | kLen);
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

  /** Free one chunk's worth in `cls` (LruMaintainer#makeRoom). */
  #reclaimOrEvict(cls: number): boolean {
    return this.#maintainer.makeRoom(cls, this.#noEvict);
  }
}
