// The command semantics: get/store/delete/incr/decr/touch/flush and the meta extras over
// items kept in slab pages, as memcached 1.6 (items.c, memcached.c do_store_item and
// do_add_delta). Every change a client makes goes through here, and each applied change is
// reported to the change listener (change.ts). Protocols see this class only as CacheApi.
import { Allocator } from './allocator.js';
import type { CacheApi, ArithRequest, MetaDeleteRequest, OpStatus, StoreRequest } from './api.js';
import { CasSequence } from './cas-sequence.js';
import { ChangeHook, ChangeKind, type ChangeListener } from './change.js';
import type { Clock } from './clock.js';
import { Expiry } from './expiry.js';
import type { HashTable } from './hash-table.js';
import { hashKey } from './hash.js';
import { chunkBytes, F_TIME, IF_KEY_BINARY, IF_STALE, IF_WIN_SENT, memcachedItemSize, NONE, type ItemId } from './item.js';

/** The item flags a replayed Meta change carries over. */
const META_MARKS = IF_STALE | IF_WIN_SENT | IF_KEY_BINARY;
import { ItemMemory } from './item-memory.js';
import { MetaCommands } from './meta-commands.js';
import { Linkage } from './linkage.js';
import type { Lru } from './lru.js';
import { LruMaintainer } from './lru-maintainer.js';
import { LruTuning } from './lru-segment.js';
import { parseU64 } from './numbers.js';
import { Miss, Outcome } from './outcome.js';
import { PageMover, type MoveResult, type MoveStats } from './page-mover.js';
import { PrefixStats } from './prefix-stats.js';
import { Restorer } from './restore.js';
import { Storage } from './storage.js';
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
  /** The segmented LRU's settings (default: memcached's, segmented). */
  lru?: LruTuning;
}

const U64_MASK = (1n << 64n) - 1n;

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
  /** HOT/WARM/COLD upkeep; the daemon runs it from a timer (start()). */
  readonly maintainer: LruMaintainer;
  readonly #alloc: Allocator;
  readonly #cas: CasSequence;
  readonly #hook: ChangeHook = new ChangeHook(this);
  readonly #meta: MetaCommands;
  readonly #storage: Storage;
  #scratch: Buffer<ArrayBufferLike> = Buffer.allocUnsafe(64);
  /**
   * Told of each flush_all after it set the flush point, whichever front end sent it: the LRU
   * crawler, which then sweeps the flushed items out once the point is reached.
   */
  onFlush: (() => void) | null = null;

  constructor(options: CacheOptions, clock: Clock) {
    this.options = options;
    this.clock = clock;
    const geometry = computeSlabClasses(options.chunkSize, options.growthFactor, options.slabPageSize, options.slabChunkMax);
    this.slabs = new Slabs(geometry, options.slabPageSize, options.memoryLimit);
    this.#cas = new CasSequence(options.useCas);
    this.items = new ItemMemory(this.slabs, options.slabChunkMax, options.useCas);
    this.links = new Linkage(this.items, this.slabs, clock, options.useCas, options.lru ?? new LruTuning());
    this.expiry = new Expiry(clock, this.items, this.#cas, this.links);
    this.startedAt = this.expiry.startedAt;
    this.table = this.links.table;
    this.lru = this.links.lru;
    this.stats = this.links.stats;
    this.classStats = this.links.classStats;
    this.maintainer = new LruMaintainer(this.items, this.links, this.expiry);
    this.#alloc = new Allocator(this.items, this.slabs, this.links, this.maintainer, options.slabChunkMax, options.noEvict);
    this.restorer = new Restorer(this.items, this.links, this.#alloc, this.#cas, options.itemSizeMax);
    this.mover = new PageMover(this.slabs, this.items, this.links);
    this.#storage = new Storage(options, {
      mem: this.items,
      exp: this.expiry,
      links: this.links,
      alloc: this.#alloc,
      cas: this.#cas,
      hook: this.#hook,
      slabs: this.slabs,
      prefixes: this.prefixes,
    });
    this.#meta = new MetaCommands(this, this.items, this.links, this.#hook);
  }

  // ---- the change hook --------------------------------------------------------------------

  /** Register the one change listener (the journal), at startup; null removes it. */
  setChangeListener(listener: ChangeListener | null): void {
    this.#hook.listener = listener;
  }

  /**
   * Run `apply`, which makes several changes, as one: the listener sees them between a
   * BatchBegin and a BatchEnd. Nothing else can run in between (one event loop).
   */
  batch<T>(apply: () => T): T {
    if (this.#hook.listener === null) return apply();
    this.#hook.bracket(ChangeKind.BatchBegin);
    try {
      return apply();
    } finally {
      this.#hook.bracket(ChangeKind.BatchEnd);
    }
  }

  // ---- time ---------------------------------------------------------------------------------

  /** memcached's realtime(): an exptime from the wire to absolute unix seconds (0 = never). */
  absoluteExptime(exptime: number): number {
    return this.expiry.absoluteExptime(exptime);
  }
  get oldestLive(): number {
    return this.expiry.oldestLive;
  }
  get oldestCas(): number {
    return this.expiry.oldestCas;
  }
  isExpired(id: ItemId, now: number): boolean {
    return this.expiry.isExpired(id, now);
  }
  isFlushed(id: ItemId, now: number): boolean {
    return this.expiry.isFlushed(id, now);
  }

  // ---- item reads (an id stays valid until the next change) -----------------------------------

  itemFlags(id: ItemId): number {
    return this.items.flags(id);
  }
  itemValueLength(id: ItemId): number {
    return this.items.valueLength(id);
  }
  itemKeyLength(id: ItemId): number {
    return this.items.keyLength(id);
  }
  itemClass(id: ItemId): number {
    return this.items.slabClass(id);
  }
  itemIflags(id: ItemId): number {
    return this.items.iflags(id);
  }
  itemExptime(id: ItemId): number {
    return this.items.exptime(id);
  }
  itemTime(id: ItemId): number {
    return this.items.time(id);
  }
  itemCas(id: ItemId): number {
    return this.items.cas(id);
  }
  itemSize(id: ItemId): number {
    return this.items.size(id);
  }
  copyKey(id: ItemId, dst: Uint8Array, off: number): number {
    return this.items.copyKey(id, dst, off);
  }
  copyKeyToView(id: ItemId, dst: DataView, off: number): number {
    return this.items.copyKeyToView(id, dst, off);
  }
  copyValue(id: ItemId, dst: Uint8Array, off: number): number {
    return this.items.copyValue(id, dst, off);
  }
  copyValueToView(id: ItemId, dst: DataView, off: number): number {
    return this.items.copyValueToView(id, dst, off);
  }
  copyValueRange(id: ItemId, from: number, len: number, dst: Uint8Array, off: number): number {
    return this.items.copyValueRange(id, from, len, dst, off);
  }
  valueViews(id: ItemId, visit: (view: Buffer) => void): void {
    this.items.valueViews(id, visit);
  }
  pin(id: ItemId): void {
    this.links.pin(id);
  }
  unpin(id: ItemId): void {
    this.links.unpin(id);
  }
  isSameVersion(id: ItemId, cls: number, cas: number): boolean {
    return this.links.isLinkedItemOfClass(id, cls) && this.items.cas(id) === cas;
  }
  get casCounter(): number {
    return this.#cas.current;
  }
  /** True when an item of this key, value and flags fits the -I limit. */
  fits(kLen: number, vLen: number, flags: number): boolean {
    return memcachedItemSize(kLen, vLen, this.options.useCas, flags) <= this.options.itemSizeMax;
  }
  classForItem(kLen: number, vLen: number, flags: number): number {
    return this.slabs.classFor(chunkBytes(kLen, vLen, flags)) || this.slabs.geometry.largest;
  }
  get lastMiss(): Miss {
    return this.expiry.miss;
  }
  setEvictionObserver(observer: ((id: ItemId) => void) | null): void {
    this.maintainer.onEvict = observer;
  }
  idsOfClass(cls: number, into: Uint32Array): number {
    return this.links.idsOfClass(cls, into);
  }
  idsOfList(list: number, into: Uint32Array): number {
    return this.links.idsOfList(list, into);
  }
  get lruHits(): Float64Array {
    return this.links.hits;
  }
  get lruTuning(): LruTuning {
    return this.links.tuning;
  }
  *itemsOfClass(cls: number): Generator<ItemId> {
    yield* this.links.itemsOfClass(cls);
  }
  isLinkedItemOfClass(id: ItemId, cls: number): boolean {
    return this.links.isLinkedItemOfClass(id, cls);
  }

  // ---- lookups ----------------------------------------------------------------------------------

  /**
   * The live item under a key, or NONE, counting nothing but lazy reclaims: expired and
   * flushed items found on the way are unlinked, and `st.miss` says why a lookup missed.
   */
  find(key: Uint8Array, off: number, len: number, st?: OpStatus): ItemId {
    const id = this.#find(key, off, len, hashKey(key, off, len));
    if (st !== undefined) st.miss = this.expiry.miss;
    return id;
  }

  #find(key: Uint8Array, off: number, len: number, hash: number): ItemId {
    return this.expiry.find(key, off, len, hash);
  }

  /** Mark an item read: fetched flag, LRU bump, access time (at most once a minute). */
  touchAccess(id: ItemId): void {
    this.links.touchAccess(id);
  }

  /** get/gets: the live item or NONE, counting cmd_get/get_hits/get_misses as memcached. */
  get(key: Uint8Array, off: number, len: number): ItemId {
    const s = this.stats;
    s.cmd_get++;
    const id = this.#find(key, off, len, hashKey(key, off, len));
    if (this.prefixes.enabled) this.prefixes.recordGet(key, off, len, id !== NONE);
    if (id === NONE) {
      s.get_misses++;
      if (this.expiry.miss === Miss.Expired) s.get_expired++;
      else if (this.expiry.miss === Miss.Flushed) s.get_flushed++;
      return NONE;
    }
    s.get_hits++;
    this.classStats[this.items.slabClass(id)]!.get_hits++;
    this.links.touchAccess(id);
    return id;
  }

  /**
   * gat/gats: fetch and set a new exptime (CAS unchanged). memcached 1.6.18 counts these as
   * touches only: cmd_touch and touch_hits/touch_misses, none of the get_* counters.
   */
  getAndTouch(key: Uint8Array, off: number, len: number, exptime: number): ItemId {
    const s = this.stats;
    s.cmd_touch++;
    const id = this.#find(key, off, len, hashKey(key, off, len));
    if (this.prefixes.enabled) this.prefixes.recordGet(key, off, len, id !== NONE);
    if (id === NONE) {
      s.touch_misses++;
      return NONE;
    }
    s.touch_hits++;
    this.classStats[this.items.slabClass(id)]!.touch_hits++;
    this.items.setExptime(id, this.expiry.absoluteExptime(exptime));
    this.links.touchAccess(id);
    if (this.#hook.listener !== null) this.#hook.item(ChangeKind.Meta, id);
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
    this.classStats[this.items.slabClass(id)]!.touch_hits++;
    this.items.setExptime(id, this.expiry.absoluteExptime(exptime));
    this.links.touchAccess(id);
    if (st !== undefined) st.cas = this.items.cas(id);
    if (this.#hook.listener !== null) this.#hook.item(ChangeKind.Meta, id);
    return Outcome.Touched;
  }

  // ---- storage (storage.ts) -----------------------------------------------------------------

  /**
   * set/add/replace/append/prepend/cas (see Storage#store); the new CAS is left in `st.cas`
   * when Stored.
   */
  store(r: StoreRequest, st: OpStatus): Outcome {
    return this.#storage.store(r, st);
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
    this.links.unlink(id);
    if (this.#hook.listener !== null) this.#hook.deleted(key, off, len);
  }

  // ---- delete, arithmetic, flush ------------------------------------------------------------

  delete(key: Uint8Array, off: number, len: number, cas = 0): Outcome {
    if (this.prefixes.enabled) this.prefixes.recordDelete(key, off, len);
    const id = this.#find(key, off, len, hashKey(key, off, len));
    if (id === NONE) {
      this.stats.delete_misses++;
      return Outcome.NotFound;
    }
    if (cas !== 0 && this.items.cas(id) !== cas) return Outcome.Exists;
    this.stats.delete_hits++;
    this.classStats[this.items.slabClass(id)]!.delete_hits++;
    this.links.unlink(id);
    if (this.#hook.listener !== null) this.#hook.deleted(key, off, len);
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
    const mem = this.items;
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
    // a pinned item's bytes are on their way to a client: the new number goes in a new item
    if (text.length <= nbytes && !this.links.isPinned(id)) {
      const padded = this.#scratchOf(nbytes);
      text.copy(padded, 0);
      padded.fill(0x20, text.length, nbytes);
      mem.writeValueRange(id, 0, padded, 0, nbytes);
      const c = this.#cas.next();
      mem.setCas(id, c);
      st.cas = c;
      st.id = id;
      st.inPlace = true;
      this.links.bumpNoFetch(id);
      if (this.#hook.listener !== null) this.#hook.item(ChangeKind.Item, id);
      return Outcome.Stored;
    }
    const flags = mem.flags(id);
    const exp = mem.exptime(id);
    const hash = hashKey(key, off, len);
    const fresh = this.#alloc.alloc(len, text.length, flags, true);
    if (fresh === NONE) {
      this.stats.store_no_memory++;
      return Outcome.NoMemory;
    }
    mem.writeHeader(fresh, key, off, len, text.length, flags, exp, this.clock.now());
    mem.writeValueRange(fresh, 0, text, 0, text.length);
    st.cas = this.#storage.linkNew(fresh, key, off, len, hash);
    st.id = fresh;
    st.inPlace = false;
    if (this.#hook.listener !== null) this.#hook.item(ChangeKind.Item, fresh);
    return Outcome.Stored;
  }

  /** flush_all [delay] (see Expiry#flush). */
  flushAll(delay: number): void {
    this.stats.cmd_flush++;
    this.expiry.flush(delay);
    if (this.#hook.listener !== null) this.#hook.flushed(delay, this.expiry.oldestLive, this.expiry.oldestCas);
    this.onFlush?.();
  }

  /** A flush_all refused by -F still counts in cmd_flush, as in memcached. */
  countRefusedFlush(): void {
    this.stats.cmd_flush++;
  }

  /** Put back a flush point read from a snapshot or journal (no report). */
  restoreFlush(oldestLive: number, oldestCas: number): void {
    if (oldestLive > this.expiry.oldestLive) {
      this.expiry.oldestLive = oldestLive;
      this.expiry.oldestCas = oldestCas;
    }
  }

  /**
   * Replay of a Meta change onto the live item `id`: its exptime, CAS, access time and the meta
   * marks (stale, win sent, base64 key) as they were. Not reported.
   */
  restoreMeta(id: ItemId, exptime: number, cas: number, iflags: number, time: number): void {
    const mem = this.items;
    mem.setExptime(id, exptime);
    mem.setCas(id, this.options.useCas ? cas : 0);
    this.#cas.raise(cas);
    const keep = mem.iflags(id) & ~META_MARKS;
    mem.setIflags(id, keep | (iflags & META_MARKS));
    mem.set32(id, F_TIME, time);
  }

  // ---- refusing writes (the journal cannot write) ----------------------------------------------

  #refusal: string | null = null;
  /** Why changes are refused right now, or null. Front ends check it before a change. */
  get writeRefusal(): string | null {
    return this.#refusal;
  }
  setWriteRefusal(reason: string | null): void {
    this.#refusal = reason;
  }

  /** Set the flush point a replayed flush_all reported (journal replay; no report). */
  setFlushPoint(oldestLive: number, oldestCas: number): void {
    this.expiry.oldestLive = oldestLive;
    this.expiry.oldestCas = oldestCas;
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

  // ---- meta commands (meta-commands.ts) ------------------------------------------------------

  /** mg N / ma N: a new item under the key (see MetaCommands#vivify). */
  vivify(key: Uint8Array, off: number, len: number, value: Uint8Array, vOff: number, vLen: number): ItemId {
    return this.#meta.vivify(key, off, len, value, vOff, vLen);
  }
  setItemTtl(id: ItemId, exptime: number): void {
    this.#meta.setItemTtl(id, exptime);
  }
  markWinSent(id: ItemId): void {
    this.#meta.markWinSent(id);
  }
  countMissReason(miss: Miss): void {
    this.#meta.countMissReason(miss);
  }
  countMetaGet(id: ItemId, touched: boolean): void {
    this.#meta.countMetaGet(id, touched);
  }
  storeMeta(r: StoreRequest, st: OpStatus): Outcome {
    return this.#meta.storeMeta(r, st);
  }
  deleteMeta(r: MetaDeleteRequest): Outcome {
    return this.#meta.deleteMeta(r);
  }

  /**
   * Allocate, fill and link a new item under the key (flags 0, no expiry) in place of any
   * item there, with a fresh CAS; NONE when it does not fit or memory is out. Not reported:
   * the caller reports the change it is part of.
   */
  insertNew(key: Uint8Array, off: number, len: number, value: Uint8Array, vOff: number, vLen: number): ItemId {
    if (memcachedItemSize(len, vLen, this.options.useCas) > this.options.itemSizeMax) return NONE;
    const id = this.#alloc.alloc(len, vLen, 0, true);
    if (id === NONE) return NONE;
    this.items.writeHeader(id, key, off, len, vLen, 0, 0, this.clock.now());
    this.items.writeValueRange(id, 0, value, vOff, vLen);
    this.#storage.linkNew(id, key, off, len, hashKey(key, off, len));
    return id;
  }

  /** The next CAS number (0 with -C). */
  nextCas(): number {
    return this.#cas.next();
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
  /**
   * A store whose value arrived without its "\r\n" (CLIENT_ERROR bad data chunk): memcached
   * had allocated the item and counts it in cmd_set; nothing is stored.
   */
  countBadChunk(): void {
    this.stats.cmd_set++;
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
