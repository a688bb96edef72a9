// Slab pages and chunk allocation: 1 MiB pages taken lazily from the -m budget, each owned by
// one slab class, carved into fixed-size chunks; freed chunks go on a per-class free list.
// Class sizes follow memcached's slabs_init(): 48-byte header + -n, times -f, 8-byte aligned.
import { F_HNEXT, F_META, MAX_PAGES, NONE, PAGE_SHIFT, type ItemId } from './item.js';

const CHUNK_ALIGN = 8;
const MAX_CLASSES = 63;

export interface SlabGeometry {
  /** chunk size by class id; index 0 unused */
  readonly sizes: readonly number[];
  readonly perSlab: readonly number[];
  /** id of the largest class (chunk = slabChunkMax) */
  readonly largest: number;
}

export function computeSlabClasses(chunkSize: number, factor: number, pageSize: number, chunkMax: number): SlabGeometry {
  const sizes = [0];
  const perSlab = [0];
  let size = 48 + chunkSize;
  let i = 0;
  while (++i < MAX_CLASSES) {
    if (size >= chunkMax / factor) break;
    if (size % CHUNK_ALIGN) size += CHUNK_ALIGN - (size % CHUNK_ALIGN);
    sizes.push(size);
    perSlab.push(Math.floor(pageSize / size));
    size = Math.floor(size * factor);
  }
  sizes.push(chunkMax);
  perSlab.push(Math.floor(pageSize / chunkMax));
  return { sizes, perSlab, largest: sizes.length - 1 };
}

export class Slabs {
  readonly geometry: SlabGeometry;
  readonly pageSize: number;
  /** Page bytes and u32 views over the same memory. */
  readonly pages: Buffer[] = [];
  readonly pages32: Uint32Array[] = [];
  /** DataViews over the same pages, for fast small copies (see bytes.ts). */
  readonly views: DataView[] = [];
  readonly pageClass: number[] = [];
  /**
   * Times a page that held chunks of one class was given to another (or to the pool, or taken
   * from it): an id kept since the count last changed still names a chunk start of its page's
   * class (Linkage#drainBumps relies on it).
   */
  layoutChanges = 0;
  /** Emptied pages of no class (memcached's global page pool, class 0). */
  readonly pool: number[] = [];
  #pageLimit: number;
  readonly #freeHead: Uint32Array;
  readonly freeCount: Uint32Array;
  readonly usedChunks: Float64Array;
  readonly classPages: Uint32Array;
  readonly #curPage: Int32Array;
  readonly #curOff: Uint32Array;
  readonly #sizeToClass: Uint8Array;

  constructor(geometry: SlabGeometry, pageSize: number, memoryLimit: number) {
    if (pageSize !== 1 << (PAGE_SHIFT + 3)) throw new Error('slab page size must be 1 MiB');
    this.geometry = geometry;
    this.pageSize = pageSize;
    this.#pageLimit = 0;
    this.setMemoryLimit(memoryLimit);
    const n = geometry.sizes.length;
    this.#freeHead = new Uint32Array(n).fill(NONE);
    this.freeCount = new Uint32Array(n);
    this.usedChunks = new Float64Array(n);
    this.classPages = new Uint32Array(n);
    this.#curPage = new Int32Array(n).fill(-1);
    this.#curOff = new Uint32Array(n);
    const largestSize = geometry.sizes[geometry.largest] ?? 0;
    this.#sizeToClass = new Uint8Array((largestSize >>> 3) + 1);
    let cls = 1;
    for (let s8 = 0; s8 < this.#sizeToClass.length; s8++) {
      while ((geometry.sizes[cls] ?? Infinity) < s8 * 8) cls++;
      this.#sizeToClass[s8] = cls;
    }
  }

  get pageLimit(): number {
    return this.#pageLimit;
  }

  /** Change the budget (cache_memlimit). Pages already handed out are kept, as in memcached. */
  setMemoryLimit(bytes: number): void {
    this.#pageLimit = Math.max(1, Math.min(MAX_PAGES, Math.floor(bytes / this.pageSize)));
  }

  get totalMalloced(): number {
    return this.pages.length * this.pageSize;
  }

  /** Smallest class whose chunk holds `size` bytes, or 0 when it needs chaining. */
  classFor(size: number): number {
    const s8 = (size + 7) >>> 3;
    return s8 < this.#sizeToClass.length ? (this.#sizeToClass[s8] ?? 0) : 0;
  }

  chunkSize(cls: number): number {
    return this.geometry.sizes[cls] ?? 0;
  }

  /**
   * A free chunk of class `cls`, or NONE when the class has none and the budget is spent. As
   * in memcached's do_slabs_newslab(), a class that has no page yet gets its first one even
   * past the budget, so a cache filled with one size of item can still store other sizes.
   */
  alloc(cls: number): ItemId {
    const head = this.#freeHead[cls] ?? NONE;
    if (head !== NONE) {
      this.#freeHead[cls] = this.#u32(head, F_HNEXT);
      this.freeCount[cls]!--;
      this.usedChunks[cls]!++;
      return head;
    }
    const size = this.geometry.sizes[cls] ?? 0;
    let page = this.#curPage[cls] ?? -1;
    let off = this.#curOff[cls] ?? 0;
    if (page < 0 || off + size > this.pageSize) {
      const pooled = this.pool.pop();
      if (pooled !== undefined) {
        page = pooled;
        this.pageClass[page] = cls;
        this.layoutChanges++;
        this.classPages[cls]!++;
        this.#curPage[cls] = page;
      } else if ((this.pages.length >= this.#pageLimit && this.classPages[cls]! > 0) || this.pages.length >= MAX_PAGES) {
        return NONE;
      } else {
        page = this.#newPage(cls);
      }
      off = 0;
    }
    this.#curOff[cls] = off + size;
    this.usedChunks[cls]!++;
    return ((page << PAGE_SHIFT) | (off >>> 3)) >>> 0;
  }

  free(id: ItemId, cls: number): void {
    const p32 = this.pages32[id >>> PAGE_SHIFT]!;
    const o = (id & 0x1ffff) << 1;
    p32[o + F_META] = 0;
    p32[o + F_HNEXT] = this.#freeHead[cls] ?? NONE;
    this.#freeHead[cls] = id;
    this.freeCount[cls]!++;
    this.usedChunks[cls]!--;
  }

  /** A chunk from the class's free list only (no carving, no new page); NONE when empty. */
  allocFree(cls: number): ItemId {
    const head = this.#freeHead[cls] ?? NONE;
    if (head === NONE) return NONE;
    this.#freeHead[cls] = this.#u32(head, F_HNEXT);
    this.freeCount[cls]!--;
    this.usedChunks[cls]!++;
    return head;
  }

  // ---- moving a page to another class (src/cache/page-mover.ts) ----------------------------

  /** The lowest-numbered page of a class (memcached moves the first page of its list), or -1. */
  firstPageOf(cls: number): number {
    return this.pageClass.indexOf(cls);
  }

  /** Chunks of `page` that `cls` has carved (all of them unless it is still being carved). */
  carvedChunks(page: number, cls: number): number {
    const size = this.geometry.sizes[cls] ?? 1;
    if (this.#curPage[cls] === page) return Math.floor((this.#curOff[cls] ?? 0) / size);
    return Math.floor(this.pageSize / size);
  }

  /** Carve no more chunks from `page` (it is leaving its class). */
  stopCarving(page: number, cls: number): void {
    if (this.#curPage[cls] === page) this.#curPage[cls] = -1;
  }

  /** Take every chunk of `page` off the class's free list; returns how many there were. */
  detachFreeChunks(page: number, cls: number): number {
    let removed = 0;
    let prev = NONE;
    let id = this.#freeHead[cls] ?? NONE;
    while (id !== NONE) {
      const next = this.#u32(id, F_HNEXT);
      if (id >>> PAGE_SHIFT === page) {
        if (prev === NONE) this.#freeHead[cls] = next;
        else this.pages32[prev >>> PAGE_SHIFT]![((prev & 0x1ffff) << 1) + F_HNEXT] = next;
        removed++;
      } else {
        prev = id;
      }
      id = next;
    }
    this.freeCount[cls]! -= removed;
    return removed;
  }

  /**
   * Forget a chunk of a page that is leaving its class: it holds nothing now (its item was
   * moved or dropped) and goes on no free list.
   */
  dropChunk(id: ItemId, cls: number): void {
    this.pages32[id >>> PAGE_SHIFT]![((id & 0x1ffff) << 1) + F_META] = 0;
    this.usedChunks[cls]!--;
  }

  /**
   * Hand an emptied page of class `src` to `dst`, all its chunks free; dst 0 puts it in the
   * global pool, where the next class that needs a page takes it (even past the budget).
   */
  givePage(page: number, src: number, dst: number): void {
    this.pageClass[page] = dst;
    this.layoutChanges++;
    this.classPages[src]!--;
    if (dst === 0) {
      this.pool.push(page);
      return;
    }
    this.classPages[dst]!++;
    const size = this.geometry.sizes[dst] ?? this.pageSize;
    const n = Math.floor(this.pageSize / size);
    const p32 = this.pages32[page]!;
    // pushed from the end so the free list hands them out in page order
    for (let k = n - 1; k >= 0; k--) {
      const off = k * size;
      const o = off >>> 2;
      p32[o + F_META] = 0;
      p32[o + F_HNEXT] = this.#freeHead[dst] ?? NONE;
      this.#freeHead[dst] = ((page << PAGE_SHIFT) | (off >>> 3)) >>> 0;
    }
    this.freeCount[dst]! += n;
  }

  /** Chunks of a class not yet carved from its current page. */
  unCarved(cls: number): number {
    const page = this.#curPage[cls] ?? -1;
    if (page < 0) return 0;
    const size = this.geometry.sizes[cls] ?? 1;
    return Math.floor((this.pageSize - (this.#curOff[cls] ?? 0)) / size);
  }

  #newPage(cls: number): number {
    const buf = Buffer.allocUnsafeSlow(this.pageSize);
    const page = this.pages.length;
    this.pages.push(buf);
    this.pages32.push(new Uint32Array(buf.buffer, buf.byteOffset, this.pageSize >>> 2));
    this.views.push(new DataView(buf.buffer, buf.byteOffset, this.pageSize));
    this.pageClass.push(cls);
    this.#curPage[cls] = page;
    this.classPages[cls]!++;
    return page;
  }

  #u32(id: ItemId, field: number): number {
    return this.pages32[id >>> PAGE_SHIFT]![((id & 0x1ffff) << 1) + field]!;
  }
}
