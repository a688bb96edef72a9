// The command semantics: get/store/delete/incr/decr/touch/flush and the meta extras over
// items kept in slab pages, as memcached 1.6 (items.c, memcached.c do_store_item and
// do_add_delta). Every change a client makes goes through here, and each applied change is
// reported to the change listener (change.ts). Protocols see this class only as CacheApi.
import { Allocator } from './allocator.js';
import { copyByViews } from './bytes.js';
import type { CacheApi, ArithRequest, MetaDeleteRequest, OpStatus, StoreRequest } from './api.js';
import { CasSequence } from './cas-sequence.js';
import { Change, ChangeKind, type ChangeListener } from './change.js';
import type { Clock } from './clock.js';
import { Expiry } from './expiry.js';
import type { HashTable } from './hash-table.js';
import { hashKey } from './hash.js';
import {
  F_EXPTIME,
  F_FLAGS,
  F_META,
  F_NBYTES,
  F_NCHUNKS,
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
import { ItemMemory } from './item-memory.js';
import { ITEM_UPDATE_INTERVAL, Linkage } from './linkage.js';
import type { Lru } from './lru.js';
import { parseU64 } from './numbers.js';
import { Miss, Outcome, StoreMode } from './outcome.js';
import { PageMover, type MoveResult, type MoveStats } from './page-mover.js';
import { PrefixStats } from './prefix-stats.js';
import { Restorer } from './restore.js';
import { computeSlabClasses, Slabs } from './slabs.js';
import type { CacheStats, ClassStats } from './stats.js';

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

const U64_MASK = (1n << 64n) - 1n;
const EMPTY = Buffer.alloc(0);

export class Cache implements CacheApi {
  readonly slabs: Slabs;
  readonly table: HashTable;
  readonly lru: Lru;
  readonly stats: CacheStats;
  readonly classStats: ClassStats[];
  /** `stats detail` counts, recorded by get/store/delete while enabled. */
  readonly prefixes = new PrefixStats();
  /** Moves slab pages between classes (`slabs reassign`, the automover). */
  readonly mover: PageMover;
  readonly clock: Clock;
  readonly options: CacheOptions;
  readonly startedAt: number;
  /** Item bytes and fields; internal readers (snapshot writer, crawler) use it directly. */
  readonly items: ItemMemory;
  readonly expiry: Expiry;
  readonly links: Linkage;
  readonly restorer: Restorer;
  readonly #mem: ItemMemory;
  readonly #exp: Expiry;
  readonly #links: Linkage;
  readonly #alloc: Allocator;
  readonly #cas: CasSequence;
  #listener: ChangeListener | null = null;
  readonly #change = new Change();
  #scratch: Buffer<ArrayBufferLike> = Buffer.allocUnsafe(64 * 1024);

  constructor(options: CacheOptions, clock: Clock) {
    this.options = options;
    this.clock = clock;
    const geometry = computeSlabClasses(options.chunkSize, options.growthFactor, options.slabPageSize, options.slabChunkMax);
    this.slabs = new Slabs(geometry, options.slabPageSize, options.memoryLimit);
    this.#cas = new CasSequence(options.useCas);
    this.#mem = this.items = new ItemMemory(this.slabs, options.slabChunkMax, options.useCas);
    this.#exp = this.expiry = new Expiry(clock, this.#mem, this.#cas);
    this.startedAt = this.#exp.startedAt;
    this.#links = this.links = new Linkage(this.#mem, this.slabs, clock, options.useCas);
    this.table = this.#links.table;
    this.lru = this.#links.lru;
    this.stats = this.#links.stats;
    this.classStats = this.#links.classStats;
    this.#alloc = new Allocator(this.#mem, this.slabs, this.#links, this.#exp, options.slabChunkMax, options.noEvict);
    this.restorer = new Restorer(this.#mem, this.#links, this.#alloc, this.#cas, options.itemSizeMax);
    this.mover = new PageMover(this.slabs, this.#mem, this.#links);
  }

  // ---- the change hook --------------------------------------------------------------------

  /** Register the one change listener (the journal), at startup; null removes it. */
  setChangeListener(listener: ChangeListener | null): void {
    this.#listener = listener;
  }

  #emitItem(kind: ChangeKind, id: ItemId): void {
    const c = this.#change;
    c.kind = kind;
    c.id = id;
    c.key = EMPTY;
    c.keyOff = 0;
    c.keyLen = 0;
    this.#listener!.onChange(c, this);
  }

  #emitDelete(key: Uint8Array, off: number, len: number): void {
    const c = this.#change;
    c.kind = ChangeKind.Delete;
    c.id = NONE;
    c.key = key;
    c.keyOff = off;
    c.keyLen = len;
    this.#listener!.onChange(c, this);
  }

  #emitBatch(kind: ChangeKind): void {
    const c = this.#change;
    c.kind = kind;
    c.id = NONE;
    c.key = EMPTY;
    c.keyOff = 0;
    c.keyLen = 0;
    this.#listener!.onChange(c, this);
  }

  /**
   * Run `apply`, which makes several changes, as one: the listener sees them between a
   * BatchBegin and a BatchEnd. Nothing else can run in between (one event loop).
   */
  batch<T>(apply: () => T): T {
    if (this.#listener === null) return apply();
    this.#emitBatch(ChangeKind.BatchBegin);
    try {
      return apply();
    } finally {
      this.#emitBatch(ChangeKind.BatchEnd);
    }
  }

  // ---- time ---------------------------------------------------------------------------------

  /** memcached's realtime(): an exptime from the wire to absolute unix seconds (0 = never). */
  absoluteExptime(exptime: number): number {
    return this.#exp.absoluteExptime(exptime);
  }
  get oldestLive(): number {
    return this.#exp.oldestLive;
  }
  get oldestCas(): number {
    return this.#exp.oldestCas;
  }
  isExpired(id: ItemId, now: number): boolean {
    return this.#exp.isExpired(id, now);
  }
  isFlushed(id: ItemId, now: number): boolean {
    return this.#exp.isFlushed(id, now);
  }

  // ---- item reads (an id stays valid until the next change) -----------------------------------

  itemFlags(id: ItemId): number {
    return this.#mem.flags(id);
  }
  itemValueLength(id: ItemId): number {
    return this.#mem.valueLength(id);
  }
  itemKeyLength(id: ItemId): number {
    return this.#mem.keyLength(id);
  }
  itemClass(id: ItemId): number {
    return this.#mem.slabClass(id);
  }
  itemIflags(id: ItemId): number {
    return this.#mem.iflags(id);
  }
  itemExptime(id: ItemId): number {
    return this.#mem.exptime(id);
  }
  itemTime(id: ItemId): number {
    return this.#mem.time(id);
  }
  itemCas(id: ItemId): number {
    return this.#mem.cas(id);
  }
  itemSize(id: ItemId): number {
    return this.#mem.size(id);
  }
  copyKey(id: ItemId, dst: Uint8Array, off: number): number {
    return this.#mem.copyKey(id, dst, off);
  }
  copyKeyToView(id: ItemId, dst: DataView, off: number): number {
    return this.#mem.copyKeyToView(id, dst, off);
  }
  copyValue(id: ItemId, dst: Uint8Array, off: number): number {
    return this.#mem.copyValue(id, dst, off);
  }
  copyValueToView(id: ItemId, dst: DataView, off: number): number {
    return this.#mem.copyValueToView(id, dst, off);
  }
  get casCounter(): number {
    return this.#cas.current;
  }
  /** True when an item of this key, value and flags fits the -I limit. */
  fits(kLen: number, vLen: number, flags: number): boolean {
    return memcachedItemSize(kLen, vLen, this.options.useCas, flags) <= this.options.itemSizeMax;
  }
  *itemsOfClass(cls: number): Generator<ItemId> {
    yield* this.#links.itemsOfClass(cls);
  }

  // ---- lookups ----------------------------------------------------------------------------------

  /**
   * The live item under a key, or NONE, counting nothing but lazy reclaims: expired and
   * flushed items found on the way are unlinked, and `st.miss` says why a lookup missed.
   */
  find(key: Uint8Array, off: number, len: number, st?: OpStatus): ItemId {
    const id = this.#find(key, off, len, hashKey(key, off, len));
    if (st !== undefined) st.miss = this.#miss;
    return id;
  }

  /** Why the last #find missed. */
  #miss: Miss = Miss.None;

  #find(key: Uint8Array, off: number, len: number, hash: number): ItemId {
    const id = this.table.find(key, off, len, hash);
    if (id === NONE) {
      this.#miss = Miss.Absent;
      return NONE;
    }
    const now = this.clock.now();
    if (this.#exp.isFlushed(id, now)) {
      this.#links.unlink(id);
      this.#miss = Miss.Flushed;
      return NONE;
    }
    if (this.#exp.isExpired(id, now)) {
      const cls = this.#mem.slabClass(id);
      if ((this.#mem.iflags(id) & IF_FETCHED) === 0) {
        this.stats.expired_unfetched++;
        this.classStats[cls]!.expired_unfetched++;
      }
      this.stats.reclaimed++;
      this.classStats[cls]!.reclaimed++;
      this.#links.unlink(id);
      this.#miss = Miss.Expired;
      return NONE;
    }
    this.#miss = Miss.None;
    return id;
  }

  /** Mark an item read: fetched flag, LRU bump, access time (at most once a minute). */
  touchAccess(id: ItemId): void {
    this.#links.touchAccess(id);
  }

  /** get/gets: the live item or NONE, counting cmd_get/get_hits/get_misses as memcached. */
  get(key: Uint8Array, off: number, len: number): ItemId {
    const s = this.stats;
    s.cmd_get++;
    const id = this.#find(key, off, len, hashKey(key, off, len));
    if (this.prefixes.enabled) this.prefixes.recordGet(key, off, len, id !== NONE);
    if (id === NONE) {
      s.get_misses++;
      if (this.#miss === Miss.Expired) s.get_expired++;
      else if (this.#miss === Miss.Flushed) s.get_flushed++;
      return NONE;
    }
    s.get_hits++;
    this.classStats[this.#mem.slabClass(id)]!.get_hits++;
    this.#links.touchAccess(id);
    return id;
  }

  /** gat/gats: fetch and set a new exptime (CAS unchanged). */
  getAndTouch(key: Uint8Array, off: number, len: number, exptime: number): ItemId {
    const s = this.stats;
    s.cmd_touch++;
    s.cmd_get++;
    const id = this.#find(key, off, len, hashKey(key, off, len));
    if (this.prefixes.enabled) this.prefixes.recordGet(key, off, len, id !== NONE);
    if (id === NONE) {
      s.touch_misses++;
      s.get_misses++;
      if (this.#miss === Miss.Expired) s.get_expired++;
      else if (this.#miss === Miss.Flushed) s.get_flushed++;
      return NONE;
    }
    s.touch_hits++;
    s.get_hits++;
    this.classStats[this.#mem.slabClass(id)]!.touch_hits++;
    this.#mem.setExptime(id, this.#exp.absoluteExptime(exptime));
    this.#links.touchAccess(id);
    if (this.#listener !== null) this.#emitItem(ChangeKind.Meta, id);
    return id;
  }

  /** touch: new exptime, CAS unchanged; `st.cas` is the item's CAS. */
  touch(key: Uint8Array, off: number, len: number, exptime: number, st?: OpStatus): Outcome {
    this.stats.cmd_touch++;
    const id = this.#find(key, off, len, hashKey(key, off, len));
    if (id === NONE) {
      this.stats.touch_misses++;
      return Outcome.NotFound;
    }
    this.stats.touch_hits++;
    this.classStats[this.#mem.slabClass(id)]!.touch_hits++;
    this.#mem.setExptime(id, this.#exp.absoluteExptime(exptime));
    this.#links.touchAccess(id);
    if (st !== undefined) st.cas = this.#mem.cas(id);
    if (this.#listener !== null) this.#emitItem(ChangeKind.Meta, id);
    return Outcome.Touched;
  }

  // ---- storage ------------------------------------------------------------------------------

  /**
   * set/add/replace/append/prepend/cas, as memcached's do_store_item(): StoreMode.Cas
   * compares `cas`; append/prepend compare it when non-zero; the others ignore it.
   * `exptime` is as sent on the wire. The new CAS is left in `st.cas` when Stored.
   */
  store(r: StoreRequest, st: OpStatus): Outcome {
    const kLen = r.kLen;
    const hash = hashKey(r.key, r.kOff, kLen);
    // the common case first, in a function small enough for V8 to inline what it calls: a
    // set over a live item that can be overwritten in place (#overwrite)
    if (r.mode === StoreMode.Set && !this.prefixes.enabled && memcachedItemSize(kLen, r.vLen, this.options.useCas, r.flags) <= this.options.itemSizeMax) {
      const old = this.table.find(r.key, r.kOff, kLen, hash);
      if (old !== NONE) {
        const now = this.clock.now();
        if (!this.#exp.isExpired(old, now) && !this.#exp.isFlushed(old, now)) {
          const cls = this.#overwrite(old, kLen, r.flags, this.#exp.absoluteExptime(r.exptime), r.value, r.vOff, r.vLen, now, st);
          if (cls !== 0) {
            this.stats.cmd_set++;
            this.classStats[cls]!.cmd_set++;
            if (this.#listener !== null) this.#emitItem(ChangeKind.Item, old);
            return Outcome.Stored;
          }
        }
      }
    }
    const outcome = this.#store(r, hash, st);
    if (outcome === Outcome.Stored && this.#listener !== null) this.#emitItem(ChangeKind.Item, this.table.find(r.key, r.kOff, kLen, hash));
    return outcome;
  }

  #store(r: StoreRequest, hash: number, st: OpStatus): Outcome {
    const { mode, key, kOff, kLen, flags, value, vOff, vLen, cas } = r;
    const s = this.stats;
    s.cmd_set++;
    if (this.prefixes.enabled) this.prefixes.recordSet(key, kOff, kLen);
    if (memcachedItemSize(kLen, vLen, this.options.useCas, flags) > this.options.itemSizeMax) {
      s.store_too_large++;
      // memcached drops the old value of a failed set so stale data does not linger
      if (mode === StoreMode.Set) this.#drop(key, kOff, kLen, hash);
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
        this.#links.bumpNoFetch(old);
        return Outcome.NotStored;
      }
      // a cas of 0 never matches (memcached's CAS_NONE is a failure for the cas command)
      if (compare && (this.#mem.cas(old) !== cas || (cas === 0 && mode === StoreMode.Cas))) {
        if (mode === StoreMode.Cas) {
          s.cas_badval++;
          this.classStats[this.#mem.slabClass(old)]!.cas_badval++;
        }
        return Outcome.Exists;
      }
    }
    let finalFlags = flags;
    let absExp = this.#exp.absoluteExptime(r.exptime);
    if (old !== NONE && mode !== StoreMode.Append && mode !== StoreMode.Prepend && this.#overwrite(old, kLen, flags, absExp, value, vOff, vLen, this.clock.now(), st) !== 0) {
      if (mode === StoreMode.Cas) {
        s.cas_hits++;
        this.classStats[this.#mem.slabClass(old)]!.cas_hits++;
      }
      this.classStats[this.#mem.slabClass(old)]!.cmd_set++;
      return Outcome.Stored;
    }
    let total = vLen;
    let oldLen = 0;
    let scratch: Buffer<ArrayBufferLike> = EMPTY;
    if (old !== NONE && (mode === StoreMode.Append || mode === StoreMode.Prepend)) {
      finalFlags = this.#mem.flags(old);
      absExp = this.#mem.exptime(old);
      oldLen = this.#mem.valueLength(old);
      total = oldLen + vLen;
      if (memcachedItemSize(kLen, total, this.options.useCas, finalFlags) > this.options.itemSizeMax) return Outcome.NotStored;
      // the allocation below may evict the old item, so its value is saved first
      scratch = this.#scratchOf(oldLen);
      this.#mem.copyValue(old, scratch, 0);
    }
    const unlinksAt = this.#links.unlinks;
    const id = this.#alloc.alloc(kLen, total, true);
    if (id === NONE) {
      if (oldLen > 0 || mode === StoreMode.Append || mode === StoreMode.Prepend) return Outcome.NotStored;
      s.store_no_memory++;
      // as for a set too large: memcached drops the old value rather than keep stale data
      if (mode === StoreMode.Set) this.#drop(key, kOff, kLen, hash);
      return Outcome.NoMemory;
    }
    const mem = this.#mem;
    mem.writeHeader(id, key, kOff, kLen, total, finalFlags, absExp, this.clock.now());
    if (mode === StoreMode.Append && oldLen > 0) {
      mem.writeValueRange(id, 0, scratch, 0, oldLen);
      mem.writeValueRange(id, oldLen, value, vOff, vLen);
    } else if (mode === StoreMode.Prepend && oldLen > 0) {
      mem.writeValueRange(id, 0, value, vOff, vLen);
      mem.writeValueRange(id, vLen, scratch, 0, oldLen);
    } else {
      mem.writeValueRange(id, 0, value, vOff, vLen);
    }
    st.cas = this.#replace(id, key, kOff, kLen, hash, old, unlinksAt);
    if (mode === StoreMode.Cas) {
      s.cas_hits++;
      this.classStats[mem.slabClass(id)]!.cas_hits++;
    }
    this.classStats[mem.slabClass(id)]!.cmd_set++;
    return Outcome.Stored;
  }

  /** Unlink whatever live or dead item holds the key (a failed set must not leave the old value). */
  #drop(key: Uint8Array, kOff: number, kLen: number, hash: number): void {
    const stale = this.table.find(key, kOff, kLen, hash);
    if (stale === NONE) return;
    this.#links.unlink(stale);
    if (this.#listener !== null) this.#emitDelete(key, kOff, kLen);
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
  #overwrite(old: ItemId, kLen: number, flags: number, absExp: number, value: Uint8Array, vOff: number, vLen: number, now: number, st: OpStatus): number {
    const mem = this.#mem;
    const p32 = mem.pages32[old >>> PAGE_SHIFT]!;
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
    // it goes back to the head instead of being evicted (Allocator#reclaimOrEvict).
    const recent = p32[o + F_TIME]! >= now - ITEM_UPDATE_INTERVAL;
    p32[o + F_TIME] = now;
    p32[o + F_EXPTIME] = absExp;
    p32[o + F_FLAGS] = flags >>> 0;
    p32[o + F_NBYTES] = vLen;
    p32[o + F_META] = (meta & 0xffff) | ((recent ? IF_LINKED | IF_ACTIVE : IF_LINKED) << 16);
    // the value follows the key in this one chunk
    copyByViews(mem.srcViewOf(value), vOff, mem.views[old >>> PAGE_SHIFT]!, (o << 2) + HEADER_BYTES + kLen, vLen);
    const cas = this.#cas.next();
    mem.setCas(old, cas);
    st.cas = cas;
    if (!recent) this.lru.bump(old, cls);
    const s = this.stats;
    s.total_items++;
    s.bytes += grow;
    this.classStats[cls]!.requested += grow;
    return cls;
  }

  /**
   * Unlink whatever holds the key now and link the new item with a fresh CAS (returned).
   * `known` is the item found before allocating, valid while nothing was unlinked since
   * `unlinksAt`; otherwise the allocation may have evicted it and the key is looked up again.
   */
  #replace(id: ItemId, key: Uint8Array, kOff: number, kLen: number, hash: number, known = NONE, unlinksAt = -1): number {
    const prev = unlinksAt === this.#links.unlinks ? known : this.table.find(key, kOff, kLen, hash);
    const cas = this.#cas.next();
    this.#mem.setCas(id, cas);
    if (prev === NONE) this.#links.link(id, hash);
    else this.#links.swap(prev, id, hash);
    return cas;
  }

  #scratchOf(len: number): Buffer<ArrayBufferLike> {
    if (this.#scratch.length < len) this.#scratch = Buffer.allocUnsafe(Math.max(len, this.#scratch.length * 2));
    return this.#scratch;
  }

  /**
   * A store refused before its value was read (too large for -I): memcached drops the item
   * under the key so an old value does not outlive the failed write. `countTooLarge` counts
   * store_too_large as the text and meta protocols do (binary does not in 1.6.18).
   */
  refuseTooLarge(key: Uint8Array, off: number, len: number, countTooLarge: boolean): void {
    if (countTooLarge) this.stats.store_too_large++;
    this.dropStale(key, off, len);
  }

  /** Drop the live item under a key after a failed store (reported as a delete). */
  dropStale(key: Uint8Array, off: number, len: number): void {
    const id = this.#find(key, off, len, hashKey(key, off, len));
    if (id === NONE) return;
    this.#links.unlink(id);
    if (this.#listener !== null) this.#emitDelete(key, off, len);
  }

  // ---- delete, arithmetic, flush ------------------------------------------------------------

  delete(key: Uint8Array, off: number, len: number, cas = 0): Outcome {
    if (this.prefixes.enabled) this.prefixes.recordDelete(key, off, len);
    const id = this.#find(key, off, len, hashKey(key, off, len));
    if (id === NONE) {
      this.stats.delete_misses++;
      return Outcome.NotFound;
    }
    if (cas !== 0 && this.#mem.cas(id) !== cas) return Outcome.Exists;
    this.stats.delete_hits++;
    this.classStats[this.#mem.slabClass(id)]!.delete_hits++;
    this.#links.unlink(id);
    if (this.#listener !== null) this.#emitDelete(key, off, len);
    return Outcome.Deleted;
  }

  /**
   * incr/decr: unsigned 64-bit, incr wraps, decr floors at 0. A shorter result is written in
   * place padded with spaces, as memcached does. The new value is left in `st.number`, the
   * new CAS in `st.cas`, and `st.inPlace` says whether the number stayed in its item.
   */
  incrDecr(r: ArithRequest, st: OpStatus): Outcome {
    const { key, keyOff: off, keyLen: len, incr, delta, cas } = r;
    const id = this.#find(key, off, len, hashKey(key, off, len));
    if (id === NONE) {
      if (incr) this.stats.incr_misses++;
      else this.stats.decr_misses++;
      return Outcome.NotFound;
    }
    const mem = this.#mem;
    if (cas !== 0 && mem.cas(id) !== cas) return Outcome.Exists;
    const nbytes = mem.valueLength(id);
    if (nbytes === 0 || mem.chunkCount(id) !== 0) return Outcome.NonNumeric;
    const buf = this.#scratchOf(nbytes);
    mem.copyValue(id, buf, 0);
    const current = parseU64(buf, 0, nbytes);
    if (current === null) return Outcome.NonNumeric;
    let next: bigint;
    if (incr) {
      next = (current + delta) & U64_MASK;
      this.stats.incr_hits++;
      this.classStats[mem.slabClass(id)]!.incr_hits++;
    } else {
      next = current < delta ? 0n : current - delta;
      this.stats.decr_hits++;
      this.classStats[mem.slabClass(id)]!.decr_hits++;
    }
    st.number = next;
    const text = Buffer.from(next.toString(), 'latin1');
    if (text.length <= nbytes) {
      const padded = this.#scratchOf(nbytes);
      text.copy(padded, 0);
      padded.fill(0x20, text.length, nbytes);
      mem.writeValueRange(id, 0, padded, 0, nbytes);
      const c = this.#cas.next();
      mem.setCas(id, c);
      st.cas = c;
      st.id = id;
      st.inPlace = true;
      this.#links.bumpNoFetch(id);
      if (this.#listener !== null) this.#emitItem(ChangeKind.Item, id);
      return Outcome.Stored;
    }
    const flags = mem.flags(id);
    const exp = mem.exptime(id);
    const hash = hashKey(key, off, len);
    const fresh = this.#alloc.alloc(len, text.length, true);
    if (fresh === NONE) {
      this.stats.store_no_memory++;
      return Outcome.NoMemory;
    }
    mem.writeHeader(fresh, key, off, len, text.length, flags, exp, this.clock.now());
    mem.writeValueRange(fresh, 0, text, 0, text.length);
    st.cas = this.#replace(fresh, key, off, len, hash);
    st.id = fresh;
    st.inPlace = false;
    if (this.#listener !== null) this.#emitItem(ChangeKind.Item, fresh);
    return Outcome.Stored;
  }

  /** flush_all [delay] (see Expiry#flush). */
  flushAll(delay: number): void {
    this.stats.cmd_flush++;
    this.#exp.flush(delay);
    if (this.#listener !== null) {
      const c = this.#change;
      c.kind = ChangeKind.Flush;
      c.id = NONE;
      c.key = EMPTY;
      c.keyOff = 0;
      c.keyLen = 0;
      c.delay = delay;
      c.oldestLive = this.#exp.oldestLive;
      c.oldestCas = this.#exp.oldestCas;
      this.#listener.onChange(c, this);
    }
  }

  /** A flush_all refused by -F still counts in cmd_flush, as in memcached. */
  countRefusedFlush(): void {
    this.stats.cmd_flush++;
  }

  /** Put back a flush point read from a snapshot or journal (no report). */
  restoreFlush(oldestLive: number, oldestCas: number): void {
    if (oldestLive > this.#exp.oldestLive) {
      this.#exp.oldestLive = oldestLive;
      this.#exp.oldestCas = oldestCas;
    }
  }

  /** Continue the CAS sequence above `cas` (snapshot and journal load). */
  raiseCasCounter(cas: number): void {
    this.#cas.raise(cas);
  }

  /** cache_memlimit: a new budget in bytes. */
  setMemoryLimit(bytes: number): void {
    this.options.memoryLimit = bytes;
    this.slabs.setMemoryLimit(bytes);
  }

  // ---- meta commands: autovivify, TTL changes, stale items, win tokens ------------------------

  /**
   * mg N / ma N: link a new item holding `value` under the key, client flags 0, no expiry.
   * Counted as no store, as memcached's autovivify is not. NONE when out of memory.
   */
  vivify(key: Uint8Array, off: number, len: number, value: Uint8Array, vOff: number, vLen: number): ItemId {
    if (memcachedItemSize(len, vLen, this.options.useCas) > this.options.itemSizeMax) return NONE;
    const id = this.#alloc.alloc(len, vLen, true);
    if (id === NONE) return NONE;
    this.#mem.writeHeader(id, key, off, len, vLen, 0, 0, this.clock.now());
    this.#mem.writeValueRange(id, 0, value, vOff, vLen);
    this.#replace(id, key, off, len, hashKey(key, off, len));
    if (this.#listener !== null) this.#emitItem(ChangeKind.Item, id);
    return id;
  }

  /** mg T, mg N, ma T/N: set a live item's exptime (as sent on the wire); CAS unchanged. */
  setItemTtl(id: ItemId, exptime: number): void {
    this.#mem.setExptime(id, this.#exp.absoluteExptime(exptime));
    if (this.#listener !== null) this.#emitItem(ChangeKind.Meta, id);
  }

  /** mg W: this client won the right to recache the item; later readers see Z. */
  markWinSent(id: ItemId): void {
    this.#mem.setIflags(id, this.#mem.iflags(id) | IF_WIN_SENT);
    if (this.#listener !== null) this.#emitItem(ChangeKind.Meta, id);
  }

  /** memcached's do_item_get() counts lookups that found an expired or flushed item. */
  countMissReason(miss: Miss): void {
    if (miss === Miss.Expired) this.stats.get_expired++;
    else if (miss === Miss.Flushed) this.stats.get_flushed++;
  }

  /**
   * The counters of one mg: a miss (id NONE), a hit that changed the TTL (counted as a touch)
   * or a plain hit, as memcached's process_mget_command().
   */
  countMetaGet(id: ItemId, touched: boolean): void {
    const st = this.stats;
    if (id === NONE) {
      st.cmd_get++;
      st.get_misses++;
      return;
    }
    const cs = this.classStats[this.#mem.slabClass(id)]!;
    if (touched) {
      st.cmd_touch++;
      st.touch_hits++;
      cs.touch_hits++;
    } else {
      st.cmd_get++;
      st.get_hits++;
      cs.get_hits++;
    }
  }

  /**
   * ms: store() plus the meta extras of memcached's do_store_item(). With `invalidate` and a
   * CAS compare (StoreMode.Cas), a CAS older than the item's still stores, but as a stale
   * item that keeps the old TTL and win-sent mark (CAS_STALE). `keyBinary` marks the new
   * item's key as sent in base64, except for append/prepend, whose merged item memcached
   * allocates without that mark.
   */
  storeMeta(r: StoreRequest, st: OpStatus): Outcome {
    const { key, kOff, kLen, mode, cas } = r;
    const hash = hashKey(key, kOff, kLen);
    let stale = false;
    let oldExp = 0;
    let oldIflags = 0;
    if (r.invalidate && mode === StoreMode.Cas && cas !== 0) {
      const old = this.#find(key, kOff, kLen, hash);
      if (old !== NONE && cas < this.#mem.cas(old)) {
        stale = true;
        oldExp = this.#mem.exptime(old);
        oldIflags = this.#mem.iflags(old);
      }
    }
    if (stale) r.mode = StoreMode.Set;
    // the item's final state is reported once, below
    const listener = this.#listener;
    this.#listener = null;
    let outcome: Outcome;
    try {
      outcome = this.store(r, st);
    } finally {
      this.#listener = listener;
      r.mode = mode;
    }
    if (outcome !== Outcome.Stored) return outcome;
    const id = this.table.find(key, kOff, kLen, hash);
    if (id === NONE) return outcome;
    let fl = this.#mem.iflags(id);
    if (stale) {
      this.#mem.setExptime(id, oldExp);
      fl |= IF_STALE | (oldIflags & IF_WIN_SENT);
      this.stats.cas_hits++;
      this.classStats[this.#mem.slabClass(id)]!.cas_hits++;
    }
    if (r.keyBinary && mode !== StoreMode.Append && mode !== StoreMode.Prepend) fl |= IF_KEY_BINARY;
    this.#mem.setIflags(id, fl);
    if (listener !== null) this.#emitItem(ChangeKind.Item, id);
    return outcome;
  }

  /**
   * md: delete the item, or with `invalidate` keep it as stale: new CAS, win token released
   * for the next reader, and the TTL replaced when `exptime` (as sent) is not null. With
   * `hasCas` the item's CAS must equal `cas`. Deleted (HD), NotFound (NF) or Exists (EX).
   */
  deleteMeta(r: MetaDeleteRequest): Outcome {
    const { key, keyOff: off, keyLen: len } = r;
    const id = this.#find(key, off, len, hashKey(key, off, len));
    if (id === NONE || (r.hasCas && this.#mem.cas(id) !== r.cas)) {
      this.stats.delete_misses++;
      return id === NONE ? Outcome.NotFound : Outcome.Exists;
    }
    if (r.invalidate) {
      if (r.exptime !== null) this.#mem.setExptime(id, this.#exp.absoluteExptime(r.exptime));
      this.#mem.setIflags(id, (this.#mem.iflags(id) | IF_STALE) & ~IF_WIN_SENT);
      this.#mem.setCas(id, this.#cas.next());
      if (this.#listener !== null) this.#emitItem(ChangeKind.Meta, id);
      return Outcome.Deleted;
    }
    this.stats.delete_hits++;
    this.classStats[this.#mem.slabClass(id)]!.delete_hits++;
    this.#links.unlink(id);
    if (this.#listener !== null) this.#emitDelete(key, off, len);
    return Outcome.Deleted;
  }

  // ---- counters kept for the front ends ---------------------------------------------------

  /** One more meta command (`me`, counted in cmd_meta... as memcached's). */
  countMeta(): void {
    this.stats.cmd_meta++;
  }
  /** An authentication attempt and whether it failed. */
  countAuth(failed: boolean): void {
    this.stats.auth_cmds++;
    if (failed) this.stats.auth_errors++;
  }
  /** `slabs reassign`: move one page of class `src` (-1: any) to `dst`. */
  reassign(src: number, dst: number): MoveResult {
    return this.mover.move(src, dst);
  }
  get moveStats(): MoveStats {
    return this.mover.stats;
  }
  /** `stats detail on|off|dump`: per-prefix counts. */
  setDetail(on: boolean): void {
    this.prefixes.enabled = on;
  }
  clearDetail(): void {
    this.prefixes.clear();
  }
  detailDump(): string {
    return this.prefixes.dump();
  }
  /** `stats reset`. */
  resetStats(): void {
    this.stats.reset();
  }
}
