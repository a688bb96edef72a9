// The sealed cache API every front end receives: commands in, outcomes out. Front ends read
// items through it and change the cache only through its methods; none writes an item field,
// links or unlinks an item, or keeps a cache counter of its own. Every change made through
// these methods is reported to the change listener (change.ts) in the order applied.
import type { LruTuning } from './lru-segment.js';
import type { ItemReader } from './change.js';
import type { Clock } from './clock.js';
import type { ItemId } from './item.js';
import type { MoveResult, MoveStats } from './page-mover.js';
import { Miss, StoreMode, type Outcome } from './outcome.js';
import type { SlabGeometry } from './slabs.js';
import type { CacheStats, ClassStats } from './stats.js';

export { Miss, Outcome, StoreMode } from './outcome.js';
export type { DurabilityGate } from './change.js';
export { NONE, IF_FETCHED, IF_KEY_BINARY, IF_STALE, IF_WIN_SENT, type ItemId } from './item.js';

const EMPTY = Buffer.alloc(0);

/** A store of any kind; the caller fills one and reuses it (no allocation per request). */
export class StoreRequest {
  mode: StoreMode = StoreMode.Set;
  key: Uint8Array = EMPTY;
  kOff = 0;
  kLen = 0;
  flags = 0;
  /** As sent on the wire (memcached's rules: relative up to 30 days, else absolute). */
  exptime = 0;
  value: Uint8Array = EMPTY;
  vOff = 0;
  vLen = 0;
  /**
   * The value as pieces instead (an HTTP body as it arrived), written into the item in turn,
   * each byte copied once; `value`/`vOff` are then ignored and `vLen` is the pieces' total.
   * null (the protocols' case) means the value is `value[vOff, vOff + vLen)`.
   */
  chunks: readonly Uint8Array[] | null = null;
  /** Compared by StoreMode.Cas, and by append/prepend when not 0. */
  cas = 0;
  /** ms I: a CAS older than the item's stores a stale item instead of failing. */
  invalidate = false;
  /** ms b: the key was sent in base64, replies re-encode it. */
  keyBinary = false;
}

/** incr/decr. */
export class ArithRequest {
  key: Uint8Array = EMPTY;
  keyOff = 0;
  keyLen = 0;
  incr = true;
  delta = 0n;
  /** Compared when not 0. */
  cas = 0;
}

/** md. */
export class MetaDeleteRequest {
  key: Uint8Array = EMPTY;
  keyOff = 0;
  keyLen = 0;
  hasCas = false;
  cas = 0;
  /** I: keep the item as stale instead of removing it. */
  invalidate = false;
  /** T with I: the new exptime as sent, or null to keep it. */
  exptime: number | null = null;
}

/** What a command leaves for its reply besides the Outcome; reused by the caller. */
export class OpStatus {
  /** The CAS of the item a successful store, incr/decr or touch left behind. */
  cas = 0;
  /** incr/decr: the new value. */
  number = 0n;
  /** store, incr/decr: the item now holding the value; incr/decr: whether it stayed in place. */
  id: ItemId = 0;
  inPlace = false;
  /** find: why it missed. */
  miss: Miss = Miss.None;
}

/** Slab figures `stats slabs` and `stats items` report. */
export interface SlabsReport {
  readonly geometry: SlabGeometry;
  readonly pool: readonly number[];
  readonly classPages: Uint32Array;
  readonly freeCount: Uint32Array;
  readonly usedChunks: Float64Array;
  readonly totalMalloced: number;
  chunkSize(cls: number): number;
  unCarved(cls: number): number;
}

export interface CacheLimits {
  readonly itemSizeMax: number;
  readonly memoryLimit: number;
  readonly useCas: boolean;
  readonly noEvict: boolean;
  readonly slabChunkMax: number;
}

export interface CacheApi extends ItemReader {
  readonly clock: Clock;
  readonly startedAt: number;
  readonly options: CacheLimits;

  // -- reads: counted as memcached counts them; an ItemId stays valid until the next change
  get(key: Uint8Array, off: number, len: number): ItemId;
  find(key: Uint8Array, off: number, len: number, st?: OpStatus): ItemId;
  itemClass(id: ItemId): number;
  itemSize(id: ItemId): number;
  copyKeyToView(id: ItemId, dst: DataView, off: number): number;
  copyValueToView(id: ItemId, dst: DataView, off: number): number;
  /** Copy value bytes [from, from + len) into dst at off (a slice of a value sent in parts); returns the offset after them. */
  copyValueRange(id: ItemId, from: number, len: number, dst: Uint8Array, off: number): number;
  /**
   * The value as slices of the slab pages in order, without a copy. They stay valid only
   * while nothing changes, unless the item is pinned: a reply that hands them to a socket
   * pins the item first and unpins it once the socket has taken the bytes.
   */
  valueViews(id: ItemId, visit: (view: Buffer) => void): void;
  /**
   * Keep item `id`'s chunks as they are until unpin(): it can still be deleted, replaced,
   * evicted or expire (it leaves the index and LRU at once), but its chunks are freed, and so
   * its bytes change, only at the last unpin; meanwhile it is never written in place, moved
   * by the page mover or chosen for eviction (memcached's item reference count).
   */
  pin(id: ItemId): void;
  unpin(id: ItemId): void;
  /**
   * `id` is still the linked item of class `cls` with CAS `cas`, i.e. the same version of the
   * same item (CAS is unique per version), for a value read in slices across event-loop turns.
   * Without CAS (-C, every CAS 0) a version cannot be told apart: this is then only "linked".
   */
  isSameVersion(id: ItemId, cls: number, cas: number): boolean;
  itemsOfClass(cls: number): Iterable<ItemId>;
  /** Up to `into.length` ids of a class (HOT, WARM, COLD; each head first), without a generator; returns how many. */
  idsOfClass(cls: number, into: Uint32Array): number;
  /** Up to `into.length` ids of one LRU list (lruOf(class, segment)), head first; returns how many. */
  idsOfList(list: number, into: Uint32Array): number;
  /**
   * `id` is still a linked item of class `cls`: for an id kept across event-loop turns, whose
   * item may have been freed, moved, or its chunk reused since (any id is safe to ask about).
   */
  isLinkedItemOfClass(id: ItemId, cls: number): boolean;
  absoluteExptime(exptime: number): number;
  isExpired(id: ItemId, now: number): boolean;
  isFlushed(id: ItemId, now: number): boolean;
  fits(kLen: number, vLen: number, flags: number): boolean;
  /** The slab class an item with these key and value lengths and client flags takes (the largest when chained). */
  classForItem(kLen: number, vLen: number, flags: number): number;
  /** Why the most recent lookup (get, find, a store's or a delete's) missed: Miss.None after a hit. */
  readonly lastMiss: Miss;
  /**
   * Be told of each item evicted to make room, just before it goes (the `watch evictions`
   * stream); null stops it. The id can be read through this API during the call only.
   */
  setEvictionObserver(observer: ((id: ItemId) => void) | null): void;
  /** Mark an item read (fetched, LRU position); not a change. */
  touchAccess(id: ItemId): void;

  // -- changes
  /** Why changes are refused right now (the journal cannot write), or null. */
  readonly writeRefusal: string | null;
  getAndTouch(key: Uint8Array, off: number, len: number, exptime: number): ItemId;
  touch(key: Uint8Array, off: number, len: number, exptime: number, st?: OpStatus): Outcome;
  store(r: StoreRequest, st: OpStatus): Outcome;
  storeMeta(r: StoreRequest, st: OpStatus): Outcome;
  refuseTooLarge(key: Uint8Array, off: number, len: number, countTooLarge: boolean): void;
  dropStale(key: Uint8Array, off: number, len: number): void;
  delete(key: Uint8Array, off: number, len: number, cas?: number): Outcome;
  deleteMeta(r: MetaDeleteRequest): Outcome;
  incrDecr(r: ArithRequest, st: OpStatus): Outcome;
  vivify(key: Uint8Array, off: number, len: number, value: Uint8Array, vOff: number, vLen: number): ItemId;
  setItemTtl(id: ItemId, exptime: number): void;
  markWinSent(id: ItemId): void;
  flushAll(delay: number): void;
  /** Run several changes as one (reported between BatchBegin and BatchEnd). */
  batch<T>(apply: () => T): T;

  // -- counters and administration
  countMissReason(miss: Miss): void;
  countMetaGet(id: ItemId, touched: boolean): void;
  countRefusedFlush(): void;
  countBadChunk(): void;
  countMeta(): void;
  countAuth(failed: boolean): void;
  resetStats(): void;
  setMemoryLimit(bytes: number): void;
  reassign(src: number, dst: number): MoveResult;
  setDetail(on: boolean): void;
  clearDetail(): void;
  detailDump(): string;

  // -- reporting (read only)
  readonly stats: Readonly<CacheStats>;
  readonly classStats: readonly Readonly<ClassStats>[];
  readonly slabs: SlabsReport;
  readonly moveStats: Readonly<MoveStats>;
  /** The LRU lists, indexed by lruOf(class, segment) (lru-segment.ts). */
  readonly lru: { readonly size: Float64Array; readonly tail: Uint32Array };
  /** Reads by the list their item was on, indexed as `lru`. */
  readonly lruHits: Float64Array;
  /** The segmented LRU's settings; `lru tune` and `lru mode` change them. */
  readonly lruTuning: LruTuning;
  readonly table: { readonly power: number; readonly bytes: number };
  readonly casCounter: number;
  readonly oldestLive: number;
}
