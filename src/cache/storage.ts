// Storage: set/add/replace/append/prepend/cas as memcached's do_store_item(), with the
// in-place overwrite that spares a set of the same size class its allocation, and linking a
// new item in place of the old one under its key.
import type { Allocator } from './allocator.js';
import type { OpStatus, StoreRequest } from './api.js';
import { copyByViews } from './bytes.js';
import type { CasSequence } from './cas-sequence.js';
import { ChangeKind, type ChangeHook } from './change.js';
import type { Expiry } from './expiry.js';
import { hashKey } from './hash.js';
import { chunkBytes, F_EXPTIME, F_META, F_NBYTES, F_TIME, flagBytes, flagLayout, HEADER_BYTES, IF_ACTIVE, IF_LINKED, M_CHAINED, M_FLAGS, M_HASH_TAG, memcachedItemSize, NONE, OFF_MASK, PAGE_SHIFT, writeFlags, type ItemId } from './item.js';
import type { ItemMemory } from './item-memory.js';
import { ITEM_UPDATE_INTERVAL, type Linkage } from './linkage.js';
import { IF_SEGMENT } from './lru-segment.js';
import { Outcome, StoreMode } from './outcome.js';
import type { PrefixStats } from './prefix-stats.js';
import type { Slabs } from './slabs.js';

const EMPTY = Buffer.alloc(0);

/** The limits a store checks. */
export interface StorageOptions {
  readonly itemSizeMax: number;
  readonly useCas: boolean;
  readonly noEvict: boolean;
  readonly slabChunkMax: number;
}

export class Storage {
  readonly options: StorageOptions;
  readonly #mem: ItemMemory;
  readonly #exp: Expiry;
  readonly #links: Linkage;
  readonly #alloc: Allocator;
  readonly #cas: CasSequence;
  readonly #hook: ChangeHook;
  readonly #slabs: Slabs;
  readonly #prefixes: PrefixStats;
  #scratch: Buffer<ArrayBufferLike> = Buffer.allocUnsafe(64 * 1024);

  constructor(
    options: StorageOptions,
    parts: { mem: ItemMemory; exp: Expiry; links: Linkage; alloc: Allocator; cas: CasSequence; hook: ChangeHook; slabs: Slabs; prefixes: PrefixStats },
  ) {
    this.options = options;
    this.#mem = parts.mem;
    this.#exp = parts.exp;
    this.#links = parts.links;
    this.#alloc = parts.alloc;
    this.#cas = parts.cas;
    this.#hook = parts.hook;
    this.#slabs = parts.slabs;
    this.#prefixes = parts.prefixes;
  }

  /**
   * set/add/replace/append/prepend/cas, as memcached's do_store_item(): StoreMode.Cas
   * compares `cas`; append/prepend compare it when non-zero; the others ignore it.
   * `exptime` is as sent on the wire. When Stored, `st.cas` is the new CAS and `st.id` the item.
   */
  store(r: StoreRequest, st: OpStatus): Outcome {
    const kLen = r.kLen;
    const hash = hashKey(r.key, r.kOff, kLen);
    // the common case first, in a function small enough for V8 to inline what it calls: a
    // set over a live item that can be overwritten in place (#overwrite)
    if (r.mode === StoreMode.Set && r.chunks === null && !this.#prefixes.enabled && memcachedItemSize(kLen, r.vLen, this.options.useCas, r.flags) <= this.options.itemSizeMax) {
      const old = this.#links.table.find(r.key, r.kOff, kLen, hash);
      if (old !== NONE) {
        const now = this.#exp.clock.now();
        if (!this.#exp.isExpired(old, now) && !this.#exp.isFlushed(old, now)) {
          const cls = this.#overwrite(old, kLen, r.flags, this.#exp.absoluteExptime(r.exptime), r.value, r.vOff, r.vLen, now, st);
          if (cls !== 0) {
            this.#links.stats.cmd_set++;
            this.#links.classStats[cls]!.cmd_set++;
            if (this.#hook.listener !== null) this.#hook.item(ChangeKind.Item, old);
            return Outcome.Stored;
          }
        }
      }
    }
    const outcome = this.#store(r, hash, st);
    if (outcome === Outcome.Stored && this.#hook.listener !== null) this.#hook.item(ChangeKind.Item, st.id);
    return outcome;
  }

  #store(r: StoreRequest, hash: number, st: OpStatus): Outcome {
    const { mode, key, kOff, kLen, flags, value, vOff, vLen, cas } = r;
    // pieces that do not add up to vLen would write past the item's chunks
    if (r.chunks !== null && totalLength(r.chunks) !== vLen) throw new RangeError(`StoreRequest: chunks of ${totalLength(r.chunks)} bytes, vLen ${vLen}`);
    const s = this.#links.stats;
    if (this.#prefixes.enabled) this.#prefixes.recordSet(key, kOff, kLen);
    // cmd_set counts, as memcached's set_cmds, the stores whose item could be allocated (it
    // allocates before it reads the value): not one too large or out of memory, but one that
    // then ends NOT_STORED, EXISTS or NOT_FOUND (memcached-ts checks those before allocating)
    if (memcachedItemSize(kLen, vLen, this.options.useCas, flags) > this.options.itemSizeMax) {
      s.store_too_large++;
      // memcached drops the old value of a failed set so stale data does not linger
      if (mode === StoreMode.Set) this.#drop(key, kOff, kLen, hash);
      return Outcome.TooLarge;
    }
    s.cmd_set++;
    const old = this.#exp.find(key, kOff, kLen, hash);
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
          this.#links.classStats[this.#mem.slabClass(old)]!.cas_badval++;
        }
        return Outcome.Exists;
      }
    }
    let finalFlags = flags;
    let absExp = this.#exp.absoluteExptime(r.exptime);
    if (old !== NONE && mode !== StoreMode.Append && mode !== StoreMode.Prepend && r.chunks === null && this.#overwrite(old, kLen, flags, absExp, value, vOff, vLen, this.#exp.clock.now(), st) !== 0) {
      if (mode === StoreMode.Cas) {
        s.cas_hits++;
        this.#links.classStats[this.#mem.slabClass(old)]!.cas_hits++;
      }
      this.#links.classStats[this.#mem.slabClass(old)]!.cmd_set++;
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
    const id = this.#alloc.alloc(kLen, total, finalFlags, true);
    if (id === NONE) {
      if (oldLen > 0 || mode === StoreMode.Append || mode === StoreMode.Prepend) return Outcome.NotStored;
      s.cmd_set--;
      s.store_no_memory++;
      // as for a set too large: memcached drops the old value rather than keep stale data
      if (mode === StoreMode.Set) this.#drop(key, kOff, kLen, hash);
      return Outcome.NoMemory;
    }
    const mem = this.#mem;
    mem.writeHeader(id, key, kOff, kLen, total, finalFlags, absExp, this.#exp.clock.now());
    if (mode === StoreMode.Append && oldLen > 0) {
      mem.writeValueRange(id, 0, scratch, 0, oldLen);
      this.#writeValue(id, oldLen, r);
    } else if (mode === StoreMode.Prepend && oldLen > 0) {
      this.#writeValue(id, 0, r);
      mem.writeValueRange(id, vLen, scratch, 0, oldLen);
    } else {
      this.#writeValue(id, 0, r);
    }
    st.cas = this.linkNew(id, key, kOff, kLen, hash, old, unlinksAt);
    st.id = id;
    if (mode === StoreMode.Cas) {
      s.cas_hits++;
      this.#links.classStats[mem.slabClass(id)]!.cas_hits++;
    }
    this.#links.classStats[mem.slabClass(id)]!.cmd_set++;
    return Outcome.Stored;
  }

  /** The request's value into item `id` from value position `at`: one range, or its chunks in turn. */
  #writeValue(id: ItemId, at: number, r: StoreRequest): void {
    const chunks = r.chunks;
    if (chunks === null) {
      this.#mem.writeValueRange(id, at, r.value, r.vOff, r.vLen);
      return;
    }
    for (const c of chunks) {
      this.#mem.writeValueRange(id, at, c, 0, c.length);
      at += c.length;
    }
  }

  /** Unlink whatever live or dead item holds the key (a failed set must not leave the old value). */
  #drop(key: Uint8Array, kOff: number, kLen: number, hash: number): void {
    const stale = this.#links.table.find(key, kOff, kLen, hash);
    if (stale === NONE) return;
    this.#links.unlink(stale);
    if (this.#hook.listener !== null) this.#hook.deleted(key, kOff, kLen);
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
    // a pinned item's bytes are on their way to a client (Linkage#pin): the new value goes in
    // a new item
    if ((meta & M_CHAINED) !== 0 || this.options.noEvict || this.#links.isPinned(old)) return 0;
    // the same value length and flags width need the same class; otherwise look it up
    const layout = flagLayout(flags >>> 0);
    if (oldLen !== vLen || (meta & M_FLAGS) !== layout) {
      const size = chunkBytes(kLen, vLen, flags);
      if (size > this.options.slabChunkMax || this.#slabs.classFor(size) !== cls) return 0;
    }
    // memcachedItemSize(new) - memcachedItemSize(old): the key and CAS terms cancel
    const grow = vLen - oldLen + (layout !== 0 ? 4 : 0) - ((meta & M_FLAGS) !== 0 ? 4 : 0);
    // The stored item belongs at the LRU head. Moving it there touches two neighbours' headers
    // (cache misses that cost a quarter of a set), so an item that moved within the last
    // ITEM_UPDATE_INTERVAL is only marked ACTIVE, as a read marks it: when it reaches the tail
    // it goes back to the head instead of being evicted (Allocator#reclaimOrEvict).
    const recent = p32[o + F_TIME]! >= now - ITEM_UPDATE_INTERVAL;
    p32[o + F_TIME] = now;
    p32[o + F_EXPTIME] = absExp;
    p32[o + F_NBYTES] = vLen;
    // the segment bits stay: the item is still on that list
    p32[o + F_META] = ((meta & (0xffff | (IF_SEGMENT << 16) | M_HASH_TAG)) | ((recent ? IF_LINKED | IF_ACTIVE : IF_LINKED) << 16) | layout) >>> 0;
    // the flags (when not 0) and the value follow the key in this one chunk
    const view = mem.views[old >>> PAGE_SHIFT]!;
    const at = (o << 2) + HEADER_BYTES + kLen;
    writeFlags(view, at, layout, flags);
    copyByViews(mem.srcViewOf(value), vOff, view, at + flagBytes(layout), vLen);
    const cas = this.#cas.next();
    mem.setCas(old, cas);
    st.cas = cas;
    st.id = old;
    if (!recent) this.#links.relinkNew(old, cls);
    const s = this.#links.stats;
    s.total_items++;
    s.bytes += grow;
    this.#links.classStats[cls]!.requested += grow;
    return cls;
  }

  /**
   * Link a new item under its key with a fresh CAS (returned), in place of whatever holds the
   * key now.
   * `known` is the item found before allocating, valid while nothing was unlinked since
   * `unlinksAt`; otherwise the allocation may have evicted it and the key is looked up again.
   */
  linkNew(id: ItemId, key: Uint8Array, kOff: number, kLen: number, hash: number, known = NONE, unlinksAt = -1): number {
    const prev = unlinksAt === this.#links.unlinks ? known : this.#links.table.find(key, kOff, kLen, hash);
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
}

function totalLength(chunks: readonly Uint8Array[]): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}
