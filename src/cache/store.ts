// The one semantic API every protocol calls: get/store/delete/incr/decr/touch/flush over
// items kept in slab pages. Outcomes are values; the protocols turn them into bytes.
// Semantics follow memcached 1.6 (items.c, memcached.c do_store_item/do_add_delta).
import type { Clock } from './clock.js';
import { HashTable } from './hash-table.js';
import { copyByViews, copyBytes, keyViewOf, viewFor } from './bytes.js';
import { hashKey } from './hash.js';
import {
  F_CAS_HI,
  F_CAS_LO,
  F_EXPTIME,
  F_FLAGS,
  F_HASH,
  F_META,
  F_NBYTES,
  F_NCHUNKS,
  F_NEXT,
  F_PREV,
  F_TIME,
  HEADER_BYTES,
  IF_ACTIVE,
  IF_FETCHED,
  IF_KEY_BINARY,
  IF_LINKED,
  IF_STALE,
  IF_WIN_SENT,
  memcachedItemSize,
  NONE,
  OFF_MASK,
  PAGE_SHIFT,
  type ItemId,
} from './item.js';
import { Lru } from './lru.js';
import { parseU64 } from './numbers.js';
import { PageMover } from './page-mover.js';
import { PrefixStats } from './prefix-stats.js';
import { computeSlabClasses, Slabs } from './slabs.js';
import { CacheStats, ClassStats } from './stats.js';

export const Outcome = {
  Stored: 0,
  NotStored: 1,
  Exists: 2,
  NotFound: 3,
  TooLarge: 4,
  NoMemory: 5,
  NonNumeric: 6,
  Deleted: 7,
  Touched: 8,
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

export const StoreMode = { Set: 1, Add: 2, Replace: 3, Append: 4, Prepend: 5, Cas: 6 } as const;
export type StoreMode = (typeof StoreMode)[keyof typeof StoreMode];

/** Why the last lookup missed, for get_expired / get_flushed. */
export const Miss = { None: 0, Absent: 1, Expired: 2, Flushed: 3 } as const;

export interface CacheOptions {
  memoryLimit: number;
  itemSizeMax: number;
  chunkSize: number;
  growthFactor: number;
  slabPageSize: number;
  slabChunkMax: number;
  noEvict: boolean;
  useCas: boolean;
}

/** memcached's REALTIME_MAXDELTA: larger exptimes are absolute unix times. */
export const MAX_RELATIVE_EXPTIME = 60 * 60 * 24 * 30;
/** memcached's ITEM_UPDATE_INTERVAL: an item's access time moves at most once a minute. */
const ITEM_UPDATE_INTERVAL = 60;
const U64_MASK = (1n << 64n) - 1n;
const EMPTY = Buffer.alloc(0);
export class Cache {
  readonly slabs: Slabs;
  readonly table: HashTable;
  readonly lru: Lru;
  readonly stats = new CacheStats();
  /** `stats detail` counts, recorded by get/store/delete while enabled. */
  readonly prefixes = new PrefixStats();
  readonly classStats: ClassStats[];
  /** Moves slab pages between classes (`slabs reassign`, the automover). */
  readonly mover: PageMover;
  readonly clock: Clock;
  readonly options: CacheOptions;
  readonly startedAt: number;
  /** flush_all state, as memcached's settings.oldest_live / oldest_cas (unix seconds). */
  oldestLive = 0;
  oldestCas = 0;
  /** Why the last lookup missed (a Miss value). */
  lastMiss: number = Miss.None;
  /** Result of the last incr/decr. */
  lastNumber = 0n;
  /** CAS of the item the last successful store, incr/decr or touch left behind. */
  lastCas = 0;
  #cas = 0;
  /** Count of unlinks, so a store knows whether its earlier lookup is still valid. */
  #unlinks = 0;
  #scratch: Buffer<ArrayBufferLike> = Buffer.allocUnsafe(64 * 1024);
  readonly #pages: Buffer[];
  readonly #pages32: Uint32Array[];
  readonly #views: DataView[];

  constructor(options: CacheOptions, clock: Clock) {
    this.options = options;
    this.clock = clock;
    this.startedAt = clock.now();
    const geometry = computeSlabClasses(options.chunkSize, options.growthFactor, options.slabPageSize, options.slabChunkMax);
    this.slabs = new Slabs(geometry, options.slabPageSize, options.memoryLimit);
    this.#pages = this.slabs.pages;
    this.#pages32 = this.slabs.pages32;
    this.#views = this.slabs.views;
    this.table = new HashTable(this.#pages, this.#pages32, this.#views);
    this.lru = new Lru(geometry.sizes.length, this.#pages32);
    this.classStats = geometry.sizes.map(() => new ClassStats());
    this.mover = new PageMover(this);
  }

  // ---- time -------------------------------------------------------------------------

  /** memcached's realtime(): an exptime from the wire to absolute unix seconds (0 = never). */
  absoluteExptime(exptime: number): number {
    if (exptime === 0) return 0;
    if (exptime < 0) return 1; // already expired
    if (exptime > MAX_RELATIVE_EXPTIME) return exptime <= this.startedAt ? 1 : exptime;
    return this.clock.now() + exptime;
  }

  // ---- item fields --------------------------------------------------------------------

  #u32(id: ItemId, f: number): number {
    return this.#pages32[id >>> PAGE_SHIFT]![((id & OFF_MASK) << 1) + f]!;
  }
  #set32(id: ItemId, f: number, v: number): void {
    this.#pages32[id >>> PAGE_SHIFT]![((id & OFF_MASK) << 1) + f] = v;
  }

  itemFlags(id: ItemId): number {
    return this.#u32(id, F_FLAGS);
  }
  itemValueLength(id: ItemId): number {
    return this.#u32(id, F_NBYTES);
  }
  itemKeyLength(id: ItemId): number {
    return this.#u32(id, F_META) & 0xff;
  }
  itemClass(id: ItemId): number {
    return (this.#u32(id, F_META) >>> 8) & 0xff;
  }
  itemIflags(id: ItemId): number {
    return this.#u32(id, F_META) >>> 16;
  }
  setItemIflags(id: ItemId, flags: number): void {
    const m = this.#u32(id, F_META);
    this.#set32(id, F_META, ((m & 0xffff) | (flags << 16)) >>> 0);
  }
  /** Absolute unix expiry, 0 = never. */
  itemExptime(id: ItemId): number {
    return this.#u32(id, F_EXPTIME);
  }
  setItemExptime(id: ItemId, absolute: number): void {
    this.#set32(id, F_EXPTIME, absolute);
  }
  /** Unix seconds of the last access or update. */
  itemTime(id: ItemId): number {
    return this.#u32(id, F_TIME);
  }
  itemCas(id: ItemId): number {
    return this.#u32(id, F_CAS_HI) * 0x100000000 + this.#u32(id, F_CAS_LO);
  }
  setItemCas(id: ItemId, cas: number): void {
    const p32 = this.#pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    p32[o + F_CAS_LO] = cas >>> 0;
    p32[o + F_CAS_HI] = cas > 0xffffffff ? Math.floor(cas / 0x100000000) >>> 0 : 0;
  }
  /** Give the item a fresh CAS, as any modification does. */
  renewCas(id: ItemId): number {
    const cas = this.nextCas();
    this.setItemCas(id, cas);
    return cas;
  }
  nextCas(): number {
    return this.options.useCas ? ++this.#cas : 0;
  }
  get casCounter(): number {
    return this.#cas;
  }
  /** Continue the CAS sequence above `cas` (snapshot load). */
  raiseCasCounter(cas: number): void {
    if (cas > this.#cas) this.#cas = cas;
  }

  /** Copy the key into dst at off; returns the offset after it. */
  copyKey(id: ItemId, dst: Uint8Array, off: number): number {
    const page = this.#pages[id >>> PAGE_SHIFT]!;
    const start = ((id & OFF_MASK) << 3) + HEADER_BYTES;
    const len = this.itemKeyLength(id);
    copyBytes(page, start, len, dst, off);
    return off + len;
  }

  /** Copy the whole value into dst at off; returns the offset after it. */
  copyValue(id: ItemId, dst: Uint8Array, off: number): number {
    return this.#copyValueRange(id, 0, this.#u32(id, F_NBYTES), dst, off);
  }

  /** The page holding value byte `pos` of an item, and its offset there (set by #locate). */
  #segPage: Buffer = EMPTY;
  #segView: DataView = new DataView(new ArrayBuffer(0));
  #segOff = 0;

  /**
   * Find value byte `pos` of item `id`: sets #segPage/#segOff and returns how many value bytes
   * lie contiguously from there. A chained item keeps the first part of its value in the
   * head chunk after the key and the list of continuation chunk ids, the rest in those chunks.
   */
  #locate(id: ItemId, pos: number): number {
    const page = this.#pages[id >>> PAGE_SHIFT]!;
    const base = (id & OFF_MASK) << 3;
    const klen = this.itemKeyLength(id);
    const n = this.#u32(id, F_NCHUNKS);
    const nbytes = this.#u32(id, F_NBYTES);
    if (n === 0) {
      this.#segPage = page;
      this.#segView = this.#views[id >>> PAGE_SHIFT]!;
      this.#segOff = base + HEADER_BYTES + klen + pos;
      return nbytes - pos;
    }
    const chunk = this.options.slabChunkMax;
    const headCap = chunk - HEADER_BYTES - klen - 4 * n;
    if (pos < headCap) {
      this.#segPage = page;
      this.#segView = this.#views[id >>> PAGE_SHIFT]!;
      this.#segOff = base + HEADER_BYTES + klen + 4 * n + pos;
      return headCap - pos;
    }
    const k = Math.floor((pos - headCap) / chunk);
    const cid = page.readUInt32LE(base + HEADER_BYTES + klen + 4 * k);
    const within = pos - headCap - k * chunk;
    this.#segPage = this.#pages[cid >>> PAGE_SHIFT]!;
    this.#segView = this.#views[cid >>> PAGE_SHIFT]!;
    this.#segOff = ((cid & OFF_MASK) << 3) + within;
    return chunk - within;
  }

  /**
   * Copy the whole value into a DataView at off (the fast path for reply buffers that keep a
   * view); returns the offset after it.
   */
  copyValueToView(id: ItemId, dst: DataView, off: number): number {
    const p32 = this.#pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    const end = p32[o + F_NBYTES]!;
    if (p32[o + F_NCHUNKS] === 0) {
      // one chunk: the value follows the key
      copyByViews(this.#views[id >>> PAGE_SHIFT]!, (o << 2) + HEADER_BYTES + (p32[o + F_META]! & 0xff), dst, off, end);
      return off + end;
    }
    let pos = 0;
    while (pos < end) {
      const take = Math.min(this.#locate(id, pos), end - pos);
      copyByViews(this.#segView, this.#segOff, dst, off, take);
      off += take;
      pos += take;
    }
    return off;
  }

  /** copyKey into a DataView. */
  copyKeyToView(id: ItemId, dst: DataView, off: number): number {
    const len = this.itemKeyLength(id);
    copyByViews(this.#views[id >>> PAGE_SHIFT]!, ((id & OFF_MASK) << 3) + HEADER_BYTES, dst, off, len);
    return off + len;
  }

  #copyValueRange(id: ItemId, from: number, len: number, dst: Uint8Array, off: number): number {
    let pos = from;
    const end = from + len;
    while (pos < end) {
      const take = Math.min(this.#locate(id, pos), end - pos);
      copyBytes(this.#segPage, this.#segOff, take, dst, off);
      off += take;
      pos += take;
    }
    return off;
  }

  #writeValueRange(id: ItemId, from: number, src: Uint8Array, sOff: number, len: number): void {
    this.#srcViewOf(src);
    const base = sOff;
    const p32 = this.#pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    if (p32[o + F_NCHUNKS] === 0) {
      // one chunk: the value follows the key
      copyByViews(this.#srcView, base, this.#views[id >>> PAGE_SHIFT]!, (o << 2) + HEADER_BYTES + (p32[o + F_META]! & 0xff) + from, len);
      return;
    }
    let done = 0;
    while (done < len) {
      const take = Math.min(this.#locate(id, from + done), len - done);
      copyByViews(this.#srcView, base + done, this.#segView, this.#segOff, take);
      done += take;
    }
  }

  /** A DataView over the bytes of `src`: requests from one read share a buffer, so it is made once per read. */
  #srcViewOf(src: Uint8Array): DataView {
    if (src !== this.#srcArray) {
      this.#srcArray = src;
      this.#srcView = viewFor(src);
    }
    return this.#srcView;
  }

  /** The array the last value came from, and a DataView over its bytes. */
  #srcArray: Uint8Array | null = null;
  #srcView: DataView = new DataView(new ArrayBuffer(0));

  /** memcached-style size of an item, for `bytes` and mem_requested. */
  itemSize(id: ItemId): number {
    return memcachedItemSize(this.itemKeyLength(id), this.#u32(id, F_NBYTES), this.options.useCas, this.#u32(id, F_FLAGS));
  }

  // ---- liveness -----------------------------------------------------------------------

  isExpired(id: ItemId, now: number): boolean {
    const exp = this.#u32(id, F_EXPTIME);
    return exp !== 0 && exp <= now;
  }

  /** memcached's item_is_flushed(). */
  isFlushed(id: ItemId, now: number): boolean {
    const oldest = this.oldestLive;
    if (oldest === 0 || oldest > now) return false;
    if (this.#u32(id, F_TIME) <= oldest) return true;
    const oc = this.oldestCas;
    if (oc !== 0) {
      const cas = this.itemCas(id);
      if (cas !== 0 && cas < oc) return true;
    }
    return false;
  }

  /**
   * The live item under a key, or NONE. Expired and flushed items found on the way are
   * unlinked (lazy reclaim), and `lastMiss` says why a lookup missed.
   */
  find(key: Uint8Array, off: number, len: number): ItemId {
    return this.#find(key, off, len, hashKey(key, off, len));
  }

  #find(key: Uint8Array, off: number, len: number, hash: number): ItemId {
    const id = this.table.find(key, off, len, hash);
    if (id === NONE) {
      this.lastMiss = Miss.Absent;
      return NONE;
    }
    const now = this.clock.now();
    if (this.isFlushed(id, now)) {
      this.unlink(id);
      this.lastMiss = Miss.Flushed;
      return NONE;
    }
    if (this.isExpired(id, now)) {
      if ((this.itemIflags(id) & IF_FETCHED) === 0) {
        this.stats.expired_unfetched++;
        this.classStats[this.itemClass(id)]!.expired_unfetched++;
      }
      this.stats.reclaimed++;
      this.classStats[this.itemClass(id)]!.reclaimed++;
      this.unlink(id);
      this.lastMiss = Miss.Expired;
      return NONE;
    }
    this.lastMiss = Miss.None;
    return id;
  }

  /** Mark an item read: fetched flag, LRU bump, access time (at most once a minute). */
  touchAccess(id: ItemId): void {
    // A read only sets flags in the header it already touched: FETCHED, and ACTIVE, which
    // gives the item a second chance when it reaches the LRU tail (#reclaimOrEvict). Moving
    // it in the LRU on every read would touch its two neighbours' headers (two more cache
    // misses per get); like memcached, an item moves at most once per ITEM_UPDATE_INTERVAL.
    const fl = this.itemIflags(id);
    if ((fl & (IF_FETCHED | IF_ACTIVE)) !== (IF_FETCHED | IF_ACTIVE)) this.setItemIflags(id, fl | IF_FETCHED | IF_ACTIVE);
    const now = this.clock.now();
    if (this.#u32(id, F_TIME) < now - ITEM_UPDATE_INTERVAL) {
      this.#set32(id, F_TIME, now);
      this.lru.bump(id, this.itemClass(id));
    }
  }

  // ---- retrieval ----------------------------------------------------------------------

  /** get/gets: the live item or NONE, counting cmd_get/get_hits/get_misses as memcached. */
  get(key: Uint8Array, off: number, len: number): ItemId {
    const s = this.stats;
    s.cmd_get++;
    const id = this.#find(key, off, len, hashKey(key, off, len));
    if (this.prefixes.enabled) this.prefixes.recordGet(key, off, len, id !== NONE);
    if (id === NONE) {
      s.get_misses++;
      if (this.lastMiss === Miss.Expired) s.get_expired++;
      else if (this.lastMiss === Miss.Flushed) s.get_flushed++;
      return NONE;
    }
    s.get_hits++;
    this.classStats[this.itemClass(id)]!.get_hits++;
    this.touchAccess(id);
    return id;
  }

  /** gat/gats and binary GAT: fetch and set a new exptime (CAS unchanged). */
  getAndTouch(key: Uint8Array, off: number, len: number, exptime: number): ItemId {
    const s = this.stats;
    s.cmd_touch++;
    s.cmd_get++;
    const id = this.#find(key, off, len, hashKey(key, off, len));
    if (this.prefixes.enabled) this.prefixes.recordGet(key, off, len, id !== NONE);
    if (id === NONE) {
      s.touch_misses++;
      s.get_misses++;
      if (this.lastMiss === Miss.Expired) s.get_expired++;
      else if (this.lastMiss === Miss.Flushed) s.get_flushed++;
      return NONE;
    }
    s.touch_hits++;
    s.get_hits++;
    this.classStats[this.itemClass(id)]!.touch_hits++;
    this.#set32(id, F_EXPTIME, this.absoluteExptime(exptime));
    this.touchAccess(id);
    return id;
  }

  /** touch: new exptime, CAS unchanged. */
  touch(key: Uint8Array, off: number, len: number, exptime: number): Outcome {
    this.stats.cmd_touch++;
    const id = this.#find(key, off, len, hashKey(key, off, len));
    if (id === NONE) {
      this.stats.touch_misses++;
      return Outcome.NotFound;
    }
    this.stats.touch_hits++;
    this.classStats[this.itemClass(id)]!.touch_hits++;
    this.#set32(id, F_EXPTIME, this.absoluteExptime(exptime));
    this.touchAccess(id);
    this.lastCas = this.itemCas(id);
    return Outcome.Touched;
  }

  // ---- storage ------------------------------------------------------------------------

  /**
   * set/add/replace/append/prepend/cas, as memcached's do_store_item(): StoreMode.Cas
   * compares `cas`; append/prepend compare it when non-zero; the others ignore it.
   * `exptime` is as sent on the wire.
   */
  store(
    mode: StoreMode,
    key: Uint8Array,
    kOff: number,
    kLen: number,
    flags: number,
    exptime: number,
    value: Uint8Array,
    vOff: number,
    vLen: number,
    cas: number,
  ): Outcome {
    const hash = hashKey(key, kOff, kLen);
    // the common case first, in a function small enough for V8 to inline what it calls: a
    // set over a live item that can be overwritten in place (#overwrite)
    if (mode === StoreMode.Set && !this.prefixes.enabled && memcachedItemSize(kLen, vLen, this.options.useCas, flags) <= this.options.itemSizeMax) {
      const old = this.table.find(key, kOff, kLen, hash);
      if (old !== NONE) {
        const now = this.clock.now();
        if (!this.isExpired(old, now) && !this.isFlushed(old, now)) {
          const cls = this.#overwrite(old, kLen, flags, this.absoluteExptime(exptime), value, vOff, vLen, now);
          if (cls !== 0) {
            this.stats.cmd_set++;
            this.classStats[cls]!.cmd_set++;
            return Outcome.Stored;
          }
        }
      }
    }
    return this.#store(mode, key, kOff, kLen, flags, exptime, value, vOff, vLen, cas, hash);
  }

  #store(
    mode: StoreMode,
    key: Uint8Array,
    kOff: number,
    kLen: number,
    flags: number,
    exptime: number,
    value: Uint8Array,
    vOff: number,
    vLen: number,
    cas: number,
    hash: number,
  ): Outcome {
    const s = this.stats;
    s.cmd_set++;
    if (this.prefixes.enabled) this.prefixes.recordSet(key, kOff, kLen);
    if (memcachedItemSize(kLen, vLen, this.options.useCas, flags) > this.options.itemSizeMax) {
      s.store_too_large++;
      // memcached drops the old value of a failed set so stale data does not linger
      if (mode === StoreMode.Set) {
        const old = this.#find(key, kOff, kLen, hash);
        if (old !== NONE) this.unlink(old);
      }
      return Outcome.TooLarge;
    }
    const old = this.#find(key, kOff, kLen, hash);
    // memcached compares a CAS for cas, append and prepend; set/replace/add ignore it
    const compare = mode === StoreMode.Cas || (cas !== 0 && (mode === StoreMode.Append || mode === StoreMode.Prepend));
    if (old === NONE) {
      if (mode === StoreMode.Cas) {
        s.cas_misses++;
        return Outcome.NotFound;
      }
      if (mode === StoreMode.Replace || mode === StoreMode.Append || mode === StoreMode.Prepend) return Outcome.NotStored;
    } else {
      if (mode === StoreMode.Add) {
        // memcached bumps the existing item so it is not evicted soon after
        this.touchAccessNoFetch(old);
        return Outcome.NotStored;
      }
      // a cas of 0 never matches (memcached's CAS_NONE is a failure for the cas command)
      if (compare && (this.itemCas(old) !== cas || (cas === 0 && mode === StoreMode.Cas))) {
        if (mode === StoreMode.Cas) {
          s.cas_badval++;
          this.classStats[this.itemClass(old)]!.cas_badval++;
        }
        return Outcome.Exists;
      }
    }
    let finalFlags = flags;
    let absExp = this.absoluteExptime(exptime);
    if (old !== NONE && mode !== StoreMode.Append && mode !== StoreMode.Prepend && this.#overwrite(old, kLen, flags, absExp, value, vOff, vLen, this.clock.now()) !== 0) {
      if (mode === StoreMode.Cas) {
        s.cas_hits++;
        this.classStats[this.itemClass(old)]!.cas_hits++;
      }
      this.classStats[this.itemClass(old)]!.cmd_set++;
      return Outcome.Stored;
    }
    let total = vLen;
    let oldLen = 0;
    let scratch: Buffer<ArrayBufferLike> = EMPTY;
    if (old !== NONE && (mode === StoreMode.Append || mode === StoreMode.Prepend)) {
      finalFlags = this.itemFlags(old);
      absExp = this.itemExptime(old);
      oldLen = this.itemValueLength(old);
      total = oldLen + vLen;
      if (memcachedItemSize(kLen, total, this.options.useCas, finalFlags) > this.options.itemSizeMax) return Outcome.NotStored;
      // the allocation below may evict the old item, so its value is saved first
      scratch = this.#scratchOf(oldLen);
      this.copyValue(old, scratch, 0);
    }
    const unlinksAt = this.#unlinks;
    const id = this.#allocItem(kLen, total);
    if (id === NONE) {
      if (oldLen > 0 || mode === StoreMode.Append || mode === StoreMode.Prepend) return Outcome.NotStored;
      s.store_no_memory++;
      // as for a set too large: memcached drops the old value rather than keep stale data
      if (mode === StoreMode.Set) {
        const stale = this.table.find(key, kOff, kLen, hash);
        if (stale !== NONE) this.unlink(stale);
      }
      return Outcome.NoMemory;
    }
    this.#writeHeader(id, key, kOff, kLen, total, finalFlags, absExp);
    if (mode === StoreMode.Append && oldLen > 0) {
      this.#writeValueRange(id, 0, scratch, 0, oldLen);
      this.#writeValueRange(id, oldLen, value, vOff, vLen);
    } else if (mode === StoreMode.Prepend && oldLen > 0) {
      this.#writeValueRange(id, 0, value, vOff, vLen);
      this.#writeValueRange(id, vLen, scratch, 0, oldLen);
    } else {
      this.#writeValueRange(id, 0, value, vOff, vLen);
    }
    this.#replace(id, key, kOff, kLen, hash, old, unlinksAt);
    if (mode === StoreMode.Cas) {
      s.cas_hits++;
      this.classStats[this.itemClass(id)]!.cas_hits++;
    }
    this.classStats[this.itemClass(id)]!.cmd_set++;
    return Outcome.Stored;
  }

  /**
   * Replace the value of `old` in its own chunk when the new item needs the same slab class
   * and neither is chained: the same result as memcached's allocate, swap and free (a new CAS
   * and access time, cleared item flags, the item at its LRU head or marked to go there),
   * without the chunk allocation, hash-chain swap and free. The difference, listed in
   * test/diff/differences.md: a full class does not evict its LRU tail to make room for a
   * chunk it then frees. Not with -M, where memcached refuses such a set when the class is
   * full; the allocating path does the same. Returns the item's class, or 0 when the caller
   * must take that path.
   */
  #overwrite(old: ItemId, kLen: number, flags: number, absExp: number, value: Uint8Array, vOff: number, vLen: number, now: number): number {
    const p32 = this.#pages32[old >>> PAGE_SHIFT]!;
    const o = (old & OFF_MASK) << 1;
    const meta = p32[o + F_META]!;
    const cls = (meta >>> 8) & 0xff;
    const oldLen = p32[o + F_NBYTES]!;
    if (p32[o + F_NCHUNKS] !== 0 || this.options.noEvict) return 0;
    // the same value length needs the same class; otherwise look the class up
    if (oldLen !== vLen) {
      const size = HEADER_BYTES + kLen + vLen;
      if (size > this.options.slabChunkMax || this.slabs.classFor(size) !== cls) return 0;
    }
    // memcachedItemSize(new) - memcachedItemSize(old): the key and CAS terms cancel
    const grow = vLen - oldLen + (flags !== 0 ? 4 : 0) - (p32[o + F_FLAGS] !== 0 ? 4 : 0);
    // The stored item belongs at the LRU head. Moving it there touches two neighbours' headers
    // (cache misses that cost a quarter of a set), so an item that moved within the last
    // ITEM_UPDATE_INTERVAL is only marked ACTIVE, as a read marks it: when it reaches the tail
    // it goes back to the head instead of being evicted (#reclaimOrEvict).
    const recent = p32[o + F_TIME]! >= now - ITEM_UPDATE_INTERVAL;
    p32[o + F_TIME] = now;
    p32[o + F_EXPTIME] = absExp;
    p32[o + F_FLAGS] = flags >>> 0;
    p32[o + F_NBYTES] = vLen;
    p32[o + F_META] = (meta & 0xffff) | ((recent ? IF_LINKED | IF_ACTIVE : IF_LINKED) << 16);
    // the value follows the key in this one chunk
    copyByViews(this.#srcViewOf(value), vOff, this.#views[old >>> PAGE_SHIFT]!, (o << 2) + HEADER_BYTES + kLen, vLen);
    this.lastCas = this.renewCas(old);
    if (!recent) this.lru.bump(old, cls);
    const s = this.stats;
    s.total_items++;
    s.bytes += grow;
    this.classStats[cls]!.requested += grow;
    return cls;
  }

  /** Bump without marking fetched (memcached's add-on-existing behaviour). */
  touchAccessNoFetch(id: ItemId): void {
    this.lru.bump(id, this.itemClass(id));
  }

  /**
   * Unlink whatever holds the key now and link the new item with a fresh CAS. `known` is
   * the item found before allocating, valid while nothing was unlinked since `unlinksAt`;
   * otherwise the allocation may have evicted it and the key is looked up again.
   */
  #replace(id: ItemId, key: Uint8Array, kOff: number, kLen: number, hash: number, known = NONE, unlinksAt = -1): void {
    const prev = unlinksAt === this.#unlinks ? known : this.table.find(key, kOff, kLen, hash);
    this.lastCas = this.renewCas(id);
    if (prev === NONE) {
      this.link(id, hash);
      return;
    }
    // the new item takes the old one's place in its hash chain; LRU and stats as unlink + link
    this.#unlinks++;
    this.table.replace(prev, id, hash);
    const p32 = this.#pages32[prev >>> PAGE_SHIFT]!;
    const po = (prev & OFF_MASK) << 1;
    const pMeta = p32[po + F_META]!;
    const pCls = (pMeta >>> 8) & 0xff;
    const useCas = this.options.useCas;
    const pSize = memcachedItemSize(pMeta & 0xff, p32[po + F_NBYTES]!, useCas, p32[po + F_FLAGS]!);
    this.lru.unlink(prev, pCls);
    this.classStats[pCls]!.requested -= pSize;
    this.#freeItem(prev, pCls);
    const n32 = this.#pages32[id >>> PAGE_SHIFT]!;
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

  #scratchOf(len: number): Buffer<ArrayBufferLike> {
    if (this.#scratch.length < len) this.#scratch = Buffer.allocUnsafe(Math.max(len, this.#scratch.length * 2));
    return this.#scratch;
  }

  #writeHeader(id: ItemId, key: Uint8Array, kOff: number, kLen: number, nbytes: number, flags: number, exp: number): void {
    const p32 = this.#pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    p32[o + F_TIME] = this.clock.now();
    p32[o + F_EXPTIME] = exp;
    p32[o + F_FLAGS] = flags >>> 0;
    p32[o + F_NBYTES] = nbytes;
    // keylen and class were set by #allocItem; iflags start clear
    p32[o + F_META] = p32[o + F_META]! & 0xff00 | kLen;
    copyByViews(keyViewOf(key), kOff, this.#views[id >>> PAGE_SHIFT]!, (o << 2) + HEADER_BYTES, kLen);
  }

  /** Insert into the index and the LRU. */
  link(id: ItemId, hash: number): void {
    this.table.insert(id, hash);
    const cls = this.itemClass(id);
    this.lru.link(id, cls);
    this.setItemIflags(id, this.itemIflags(id) | IF_LINKED);
    const size = this.itemSize(id);
    this.stats.curr_items++;
    this.stats.total_items++;
    this.stats.bytes += size;
    this.classStats[cls]!.requested += size;
  }

  /** Remove from index and LRU and free its chunks. */
  unlink(id: ItemId): void {
    this.#unlinks++;
    const cls = this.itemClass(id);
    const size = this.itemSize(id);
    this.table.remove(id);
    this.lru.unlink(id, cls);
    this.stats.curr_items--;
    this.stats.bytes -= size;
    this.classStats[cls]!.requested -= size;
    this.#freeItem(id, cls);
  }

  #freeItem(id: ItemId, cls: number): void {
    const n = this.#u32(id, F_NCHUNKS);
    if (n > 0) {
      const page = this.#pages[id >>> PAGE_SHIFT]!;
      const at = ((id & OFF_MASK) << 3) + HEADER_BYTES + this.itemKeyLength(id);
      for (let k = 0; k < n; k++) this.slabs.free(page.readUInt32LE(at + 4 * k), this.slabs.geometry.largest);
    }
    this.slabs.free(id, cls);
  }

  // ---- allocation and eviction -----------------------------------------------------------

  /** Chunks for an item with a key of kLen and a value of vLen bytes; NONE when out of memory. */
  #allocItem(kLen: number, vLen: number): ItemId {
    const size = HEADER_BYTES + kLen + vLen;
    const chunkMax = this.options.slabChunkMax;
    if (size <= chunkMax) {
      const cls = this.slabs.classFor(size);
      const id = this.#allocChunk(cls);
      if (id === NONE) return NONE;
      this.#set32(id, F_META, (cls << 8) | kLen);
      this.#set32(id, F_NCHUNKS, 0);
      return id;
    }
    const largest = this.slabs.geometry.largest;
    let n = 1;
    while (chunkMax - HEADER_BYTES - kLen - 4 * n + n * chunkMax < vLen) n++;
    const head = this.#allocChunk(largest);
    if (head === NONE) return NONE;
    this.#set32(head, F_META, (largest << 8) | kLen);
    this.#set32(head, F_NCHUNKS, 0);
    const page = this.#pages[head >>> PAGE_SHIFT]!;
    const at = ((head & OFF_MASK) << 3) + HEADER_BYTES + kLen;
    for (let k = 0; k < n; k++) {
      const c = this.#allocChunk(largest);
      if (c === NONE) {
        for (let j = 0; j < k; j++) this.slabs.free(page.readUInt32LE(at + 4 * j), largest);
        this.slabs.free(head, largest);
        return NONE;
      }
      page.writeUInt32LE(c, at + 4 * k);
    }
    this.#set32(head, F_NCHUNKS, n);
    return head;
  }

  #allocChunk(cls: number): ItemId {
    for (let attempt = 0; attempt < 10; attempt++) {
      const id = this.slabs.alloc(cls);
      if (id !== NONE) return id;
      if (!this.#reclaimOrEvict(cls)) break;
    }
    this.classStats[cls]!.outofmemory++;
    return NONE;
  }

  /** Free one chunk's worth in `cls`: an expired item near the LRU tail, else the tail itself. */
  #reclaimOrEvict(cls: number): boolean {
    const now = this.clock.now();
    let id = this.lru.tail[cls]!;
    for (let i = 0; i < 5 && id !== NONE; i++) {
      if (this.isExpired(id, now) || this.isFlushed(id, now)) {
        const cs = this.classStats[cls]!;
        if ((this.itemIflags(id) & IF_FETCHED) === 0) {
          this.stats.expired_unfetched++;
          cs.expired_unfetched++;
        }
        this.stats.reclaimed++;
        cs.reclaimed++;
        this.unlink(id);
        return true;
      }
      id = this.lru.prevOf(id);
    }
    if (this.options.noEvict) return false;
    let tail = this.lru.tail[cls]!;
    if (tail === NONE) return false;
    // second chance: an item read since it last reached the tail goes back to the head. Each
    // rescue clears the mark a read set, so the walk is amortized O(1) per read (CLOCK).
    for (let i = this.lru.size[cls]!; i > 0; i--) {
      const f = this.itemIflags(tail);
      if ((f & IF_ACTIVE) === 0) break;
      this.setItemIflags(tail, f & ~IF_ACTIVE);
      this.lru.bump(tail, cls);
      this.stats.moves_within_lru++;
      tail = this.lru.tail[cls]!;
    }
    const cs = this.classStats[cls]!;
    const fl = this.itemIflags(tail);
    this.stats.evictions++;
    cs.evicted++;
    if (this.itemExptime(tail) !== 0) cs.evicted_nonzero++;
    cs.evicted_time = now - this.itemTime(tail);
    if ((fl & IF_FETCHED) === 0) {
      this.stats.evicted_unfetched++;
      cs.evicted_unfetched++;
    }
    if ((fl & IF_ACTIVE) !== 0) {
      this.stats.evicted_active++;
      cs.evicted_active++;
    }
    this.unlink(tail);
    return true;
  }

  // ---- delete, arithmetic, flush --------------------------------------------------------

  delete(key: Uint8Array, off: number, len: number, cas = 0): Outcome {
    if (this.prefixes.enabled) this.prefixes.recordDelete(key, off, len);
    const id = this.#find(key, off, len, hashKey(key, off, len));
    if (id === NONE) {
      this.stats.delete_misses++;
      return Outcome.NotFound;
    }
    if (cas !== 0 && this.itemCas(id) !== cas) return Outcome.Exists;
    this.stats.delete_hits++;
    this.classStats[this.itemClass(id)]!.delete_hits++;
    this.unlink(id);
    return Outcome.Deleted;
  }

  /**
   * incr/decr: unsigned 64-bit, incr wraps, decr floors at 0. A shorter result is written in
   * place padded with spaces, as memcached does. The new value is left in `lastNumber`.
   */
  incrDecr(key: Uint8Array, off: number, len: number, incr: boolean, delta: bigint, cas = 0): Outcome {
    const id = this.#find(key, off, len, hashKey(key, off, len));
    if (id === NONE) {
      if (incr) this.stats.incr_misses++;
      else this.stats.decr_misses++;
      return Outcome.NotFound;
    }
    if (cas !== 0 && this.itemCas(id) !== cas) return Outcome.Exists;
    const nbytes = this.itemValueLength(id);
    if (nbytes === 0 || this.#u32(id, F_NCHUNKS) !== 0) return Outcome.NonNumeric;
    const buf = this.#scratchOf(nbytes);
    this.copyValue(id, buf, 0);
    const current = parseU64(buf, 0, nbytes);
    if (current === null) return Outcome.NonNumeric;
    let next: bigint;
    if (incr) {
      next = (current + delta) & U64_MASK;
      this.stats.incr_hits++;
      this.classStats[this.itemClass(id)]!.incr_hits++;
    } else {
      next = current < delta ? 0n : current - delta;
      this.stats.decr_hits++;
      this.classStats[this.itemClass(id)]!.decr_hits++;
    }
    this.lastNumber = next;
    const text = Buffer.from(next.toString(), 'latin1');
    if (text.length <= nbytes) {
      const padded = this.#scratchOf(nbytes);
      text.copy(padded, 0);
      padded.fill(0x20, text.length, nbytes);
      this.#writeValueRange(id, 0, padded, 0, nbytes);
      this.lastCas = this.renewCas(id);
      this.touchAccessNoFetch(id);
      return Outcome.Stored;
    }
    const flags = this.itemFlags(id);
    const exp = this.itemExptime(id);
    const hash = hashKey(key, off, len);
    const fresh = this.#allocItem(len, text.length);
    if (fresh === NONE) {
      this.stats.store_no_memory++;
      return Outcome.NoMemory;
    }
    this.#writeHeader(fresh, key, off, len, text.length, flags, exp);
    this.#writeValueRange(fresh, 0, text, 0, text.length);
    this.#replace(fresh, key, off, len, hash);
    return Outcome.Stored;
  }

  /**
   * flush_all [delay], as memcached 1.6: items last updated at or before the flush point
   * (and, with CAS on, items with an older CAS) become invisible once the point is reached.
   */
  flushAll(delay: number): void {
    this.stats.cmd_flush++;
    const now = this.clock.now();
    const newOldest = delay > 0 ? this.absoluteExptime(delay) : now;
    if (this.options.useCas) {
      this.oldestLive = newOldest - 1;
      if (this.oldestLive <= now) this.oldestCas = this.nextCas();
    } else {
      this.oldestLive = newOldest;
    }
  }

  /** cache_memlimit: a new budget in bytes. */
  setMemoryLimit(bytes: number): void {
    this.options.memoryLimit = bytes;
    this.slabs.setMemoryLimit(bytes);
  }

  /** Walk every linked item of a class from LRU head to tail. */
  *itemsOfClass(cls: number): Generator<ItemId> {
    let id = this.lru.head[cls]!;
    while (id !== NONE) {
      const next = this.#u32(id, 2);
      yield id;
      id = next;
    }
  }

  // ---- meta commands: autovivify, stale items, win tokens --------------------------------

  /**
   * mg N / ma N: link a new item holding `value` under the key, client flags 0, no expiry.
   * Counted as no store, as memcached's autovivify is not. NONE when out of memory.
   */
  vivify(key: Uint8Array, off: number, len: number, value: Uint8Array, vOff: number, vLen: number): ItemId {
    if (memcachedItemSize(len, vLen, this.options.useCas) > this.options.itemSizeMax) return NONE;
    const id = this.#allocItem(len, vLen);
    if (id === NONE) return NONE;
    this.#writeHeader(id, key, off, len, vLen, 0, 0);
    this.#writeValueRange(id, 0, value, vOff, vLen);
    this.#replace(id, key, off, len, hashKey(key, off, len));
    return id;
  }

  /**
   * ms: store() plus the meta extras of memcached's do_store_item(). With `invalidate` and a
   * CAS compare (StoreMode.Cas), a CAS older than the item's still stores, but as a stale
   * item that keeps the old TTL and win-sent mark (CAS_STALE). `keyBinary` marks the new
   * item's key as sent in base64, except for append/prepend, whose merged item memcached
   * allocates without that mark. The new CAS is in lastCas when Stored.
   */
  storeMeta(
    mode: StoreMode,
    key: Uint8Array,
    kOff: number,
    kLen: number,
    flags: number,
    exptime: number,
    value: Uint8Array,
    vOff: number,
    vLen: number,
    cas: number,
    invalidate: boolean,
    keyBinary: boolean,
  ): Outcome {
    const hash = hashKey(key, kOff, kLen);
    let stale = false;
    let oldExp = 0;
    let oldIflags = 0;
    if (invalidate && mode === StoreMode.Cas && cas !== 0) {
      const old = this.#find(key, kOff, kLen, hash);
      if (old !== NONE && cas < this.itemCas(old)) {
        stale = true;
        oldExp = this.itemExptime(old);
        oldIflags = this.itemIflags(old);
      }
    }
    const outcome = this.store(stale ? StoreMode.Set : mode, key, kOff, kLen, flags, exptime, value, vOff, vLen, cas);
    if (outcome !== Outcome.Stored) return outcome;
    const id = this.table.find(key, kOff, kLen, hash);
    if (id === NONE) return outcome;
    let fl = this.itemIflags(id);
    if (stale) {
      this.setItemExptime(id, oldExp);
      fl |= IF_STALE | (oldIflags & IF_WIN_SENT);
      this.stats.cas_hits++;
      this.classStats[this.itemClass(id)]!.cas_hits++;
    }
    if (keyBinary && mode !== StoreMode.Append && mode !== StoreMode.Prepend) fl |= IF_KEY_BINARY;
    this.setItemIflags(id, fl);
    return outcome;
  }

  /**
   * md: delete the item, or with `invalidate` keep it as stale: new CAS, win token released
   * for the next reader, and the TTL replaced when `exptime` (as sent) is not null. With
   * `hasCas` the item's CAS must equal `cas`. Deleted (HD), NotFound (NF) or Exists (EX).
   */
  deleteMeta(key: Uint8Array, off: number, len: number, hasCas: boolean, cas: number, invalidate: boolean, exptime: number | null): Outcome {
    const id = this.#find(key, off, len, hashKey(key, off, len));
    if (id === NONE || (hasCas && this.itemCas(id) !== cas)) {
      this.stats.delete_misses++;
      return id === NONE ? Outcome.NotFound : Outcome.Exists;
    }
    if (invalidate) {
      if (exptime !== null) this.setItemExptime(id, this.absoluteExptime(exptime));
      this.setItemIflags(id, (this.itemIflags(id) | IF_STALE) & ~IF_WIN_SENT);
      this.renewCas(id);
      return Outcome.Deleted;
    }
    this.stats.delete_hits++;
    this.classStats[this.itemClass(id)]!.delete_hits++;
    this.unlink(id);
    return Outcome.Deleted;
  }

  // ---- page mover support (src/cache/page-mover.ts) ----------------------------------------

  /** Snapshot writers walking the pages right now; pages do not change class meanwhile. */
  #pagePins = 0;
  pinPages(): void {
    this.#pagePins++;
  }
  unpinPages(): void {
    this.#pagePins--;
  }
  get pagesPinned(): boolean {
    return this.#pagePins > 0;
  }

  /**
   * Move unchained item `id` of class `cls` into the free chunk `to` of the same class (its
   * page is being emptied): its bytes, its place in the hash chain and in the LRU move, and
   * CAS, times and flags stay as they are. The old chunk goes on no free list.
   */
  relocateItem(id: ItemId, to: ItemId, cls: number): void {
    this.#unlinks++;
    const p32 = this.#pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    const bytes = HEADER_BYTES + (p32[o + F_META]! & 0xff) + p32[o + F_NBYTES]!;
    copyBytes(this.#pages[id >>> PAGE_SHIFT]!, o << 2, bytes, this.#pages[to >>> PAGE_SHIFT]!, (to & OFF_MASK) << 3);
    this.table.replace(id, to, p32[o + F_HASH]!);
    this.lru.replace(id, to, cls);
    this.slabs.dropChunk(id, cls);
  }

  // ---- LRU crawler support (src/cache/crawler.ts) ------------------------------------------

  /**
   * True when `id` is a linked item of class `cls`: the index holds it under its own key. The
   * crawler checks a cursor it kept across event-loop turns this way, because the item may
   * have been freed, or its chunk reused, in between.
   */
  isLinkedItemOfClass(id: ItemId, cls: number): boolean {
    const page = this.#pages[id >>> PAGE_SHIFT];
    if (page === undefined) return false;
    const meta = this.#u32(id, F_META);
    if ((meta >>> 16 & IF_LINKED) === 0 || (meta >>> 8 & 0xff) !== cls) return false;
    const klen = meta & 0xff;
    const at = ((id & OFF_MASK) << 3) + HEADER_BYTES;
    if (klen === 0 || at + klen > page.length) return false;
    return this.table.find(page, at, klen, this.#u32(id, F_HASH)) === id;
  }

  /** Continuation chunks of a chained item (0 when the item fits one chunk). */
  itemChunkCount(id: ItemId): number {
    return this.#u32(id, F_NCHUNKS);
  }

  /** The key's 32-bit hash as stored in the item header. */
  itemHash(id: ItemId): number {
    return this.#u32(id, F_HASH);
  }

  /**
   * The crawler's look at one linked item, as memcached's crawler_expired_eval(): an expired
   * or flushed item is unlinked and counted in crawler_reclaimed, and in expired_unfetched
   * when it expired without ever being read. Returns true when the item was freed.
   */
  crawlItem(id: ItemId, now: number): boolean {
    this.stats.crawler_items_checked++;
    const flushed = this.isFlushed(id, now);
    if (!flushed && !this.isExpired(id, now)) return false;
    const cs = this.classStats[this.itemClass(id)]!;
    if (!flushed && (this.itemIflags(id) & IF_FETCHED) === 0) {
      this.stats.expired_unfetched++;
      cs.expired_unfetched++;
    }
    this.stats.crawler_reclaimed++;
    cs.crawler_reclaimed++;
    this.unlink(id);
    return true;
  }

  // ---- snapshot support (src/persistence) ------------------------------------------------

  /**
   * True when `id` is the head chunk of an item that is linked right now. The snapshot writer
   * scans slab pages chunk by chunk, where free chunks, chained continuation chunks and
   * never-carved memory can hold any bytes; only the hash table can say a chunk is live.
   */
  isLinkedItem(id: ItemId, trustFlag = false): boolean {
    const p32 = this.#pages32[id >>> PAGE_SHIFT];
    if (p32 === undefined) return false;
    const o = (id & OFF_MASK) << 1;
    const meta = p32[o + F_META]!;
    const klen = meta & 0xff;
    if (((meta >>> 16) & IF_LINKED) === 0 || klen === 0) return false;
    // a carved chunk of a class below the largest is only ever a whole item or a freed chunk
    // (free() zeroes F_META), so the flag is proof; the caller says when that holds
    if (trustFlag) return true;
    if (((o << 2) + HEADER_BYTES + klen) > this.slabs.pageSize) return false;
    return this.table.find(this.#pages[id >>> PAGE_SHIFT]!, (o << 2) + HEADER_BYTES, klen, p32[o + F_HASH]!) === id;
  }

  /**
   * Put back an item read from a snapshot: absolute exptime, CAS, last-access time and the
   * fetched/active bits as saved. Never evicts (returns NoMemory when its class is full);
   * replaces an item already under the key (a later snapshot record is the newer state).
   * The item is linked at the LRU head; call orderLruByTime() when the load is done.
   * `hash` is the key's hashKey() when the caller has it; `absent` says the caller knows no
   * item holds the key, which spares the lookup (a random walk through item memory).
   */
  restoreItem(
    key: Uint8Array,
    kOff: number,
    kLen: number,
    value: Uint8Array,
    vOff: number,
    vLen: number,
    flags: number,
    exptime: number,
    cas: number,
    time: number,
    iflags: number,
    hash = hashKey(key, kOff, kLen),
    absent = false,
  ): Outcome {
    if (kLen === 0 || kLen > 250) return Outcome.NotStored;
    if (memcachedItemSize(kLen, vLen, this.options.useCas) > this.options.itemSizeMax) return Outcome.TooLarge;
    if (!absent) {
      const old = this.table.find(key, kOff, kLen, hash);
      if (old !== NONE) this.unlink(old);
    }
    const id = this.#allocNoEvict(kLen, vLen);
    if (id === NONE) return Outcome.NoMemory;
    // header fields and key written here rather than by #writeHeader, and an unchained value
    // copied straight in; copyBytes rather than Buffer#copy, whose per-call cost (argument
    // checks, a view) exceeds a byte loop for the short keys and values most items have
    const p32 = this.#pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    p32[o + F_TIME] = time;
    p32[o + F_EXPTIME] = exptime;
    p32[o + F_FLAGS] = flags >>> 0;
    p32[o + F_NBYTES] = vLen;
    p32[o + F_META] = (p32[o + F_META]! & 0xff00) | kLen;
    const page = this.#pages[id >>> PAGE_SHIFT]!;
    const at = (o << 2) + HEADER_BYTES;
    if (p32[o + F_NCHUNKS] !== 0) {
      for (let i = 0; i < kLen; i++) page[at + i] = key[kOff + i]!;
      this.#writeValueRange(id, 0, value, vOff, vLen);
    } else if (key === value && vOff === kOff + kLen && kLen + vLen > 48) {
      // key and value side by side, as in a snapshot record: one native copy for both
      copyBytes(key, kOff, kLen + vLen, page, at);
    } else {
      for (let i = 0; i < kLen; i++) page[at + i] = key[kOff + i]!;
      copyBytes(value, vOff, vLen, page, at + kLen);
    }
    this.link(id, hash);
    p32[o + F_META] = p32[o + F_META]! | ((iflags & (IF_FETCHED | IF_ACTIVE)) << 16);
    if (!this.options.useCas) cas = 0;
    else if (cas === 0) cas = this.nextCas();
    else this.raiseCasCounter(cas);
    p32[o + F_CAS_LO] = cas >>> 0;
    p32[o + F_CAS_HI] = Math.floor(cas / 0x100000000) >>> 0;
    return Outcome.Stored;
  }

  /** #allocItem without eviction or reclaim: a restore must not push out what it just loaded. */
  #allocNoEvict(kLen: number, vLen: number): ItemId {
    const size = HEADER_BYTES + kLen + vLen;
    const chunkMax = this.options.slabChunkMax;
    if (size <= chunkMax) {
      const cls = this.slabs.classFor(size);
      const id = this.slabs.alloc(cls);
      if (id === NONE) return NONE;
      this.#set32(id, F_META, (cls << 8) | kLen);
      this.#set32(id, F_NCHUNKS, 0);
      return id;
    }
    const largest = this.slabs.geometry.largest;
    let n = 1;
    while (chunkMax - HEADER_BYTES - kLen - 4 * n + n * chunkMax < vLen) n++;
    const head = this.slabs.alloc(largest);
    if (head === NONE) return NONE;
    const page = this.#pages[head >>> PAGE_SHIFT]!;
    const at = ((head & OFF_MASK) << 3) + HEADER_BYTES + kLen;
    for (let k = 0; k < n; k++) {
      const c = this.slabs.alloc(largest);
      if (c === NONE) {
        for (let j = 0; j < k; j++) this.slabs.free(page.readUInt32LE(at + 4 * j), largest);
        this.slabs.free(head, largest);
        return NONE;
      }
      page.writeUInt32LE(c, at + 4 * k);
    }
    this.#set32(head, F_META, (largest << 8) | kLen);
    this.#set32(head, F_NCHUNKS, n);
    return head;
  }

  /**
   * Reorder every class's LRU by last-access time, newest at the head (ties keep their
   * current order). Used after a snapshot load, whose records come in slab order.
   */
  orderLruByTime(): void {
    const lru = this.lru;
    for (let cls = 0; cls < lru.head.length; cls++) {
      const n = lru.size[cls]!;
      if (n < 2) continue;
      const ids = new Uint32Array(n);
      const times = new Uint32Array(n);
      let id = lru.head[cls]!;
      for (let i = 0; i < n && id !== NONE; i++) {
        ids[i] = id;
        times[i] = this.#u32(id, F_TIME);
        id = this.#u32(id, F_NEXT);
      }
      const order = sortNewestFirst(times, n);
      let prev = NONE;
      for (let i = 0; i < n; i++) {
        const cur = ids[order[i]!]!;
        this.#set32(cur, F_PREV, prev);
        if (prev !== NONE) this.#set32(prev, F_NEXT, cur);
        prev = cur;
      }
      this.#set32(prev, F_NEXT, NONE);
      lru.head[cls] = ids[order[0]!]!;
      lru.tail[cls] = prev;
    }
  }
}

/**
 * Positions 0..n-1 ordered by descending time, ties by position. Access times are seconds,
 * so they usually span fewer distinct values than there are items: then a counting sort,
 * linear and stable. Otherwise a typed-array sort of packed (age, position) keys when they
 * fit in 53 bits, which is far faster than a comparator sort of millions of entries; and
 * the comparator sort as the last resort.
 */
function sortNewestFirst(times: Uint32Array, n: number): ArrayLike<number> {
  let max = 0;
  let min = 0xffffffff;
  for (let i = 0; i < n; i++) {
    const t = times[i]!;
    if (t > max) max = t;
    if (t < min) min = t;
  }
  const range = max - min + 1;
  if (range <= 4 * n + 4096) {
    // starts[age] = first output slot of that age (age 0 = newest)
    const starts = new Uint32Array(range + 1);
    for (let i = 0; i < n; i++) starts[max - times[i]! + 1]!++;
    for (let a = 1; a <= range; a++) starts[a]! += starts[a - 1]!;
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[starts[max - times[i]!]!++] = i;
    return out;
  }
  const posBits = Math.max(1, Math.ceil(Math.log2(n + 1)));
  if ((max - min + 1) * 2 ** posBits < 2 ** 53) {
    const scale = 2 ** posBits;
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = (max - times[i]!) * scale + i;
    keys.sort();
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = keys[i]! % scale;
    return out;
  }
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => times[b]! - times[a]! || a - b);
  return order;
}
