// Restore: putting back items read from a snapshot (or replayed from a journal) with their
// saved exptime, CAS, access time and read marks, each on the LRU segment it was saved on (as
// memcached's restart relinks an item into the LRU its class id names; items saved flat, or by
// a version before segments, go to COLD), then ordering each list by access time.
// Restores never evict and are not reported to the change listener: they are the state the
// listener already has on disk.
import type { Allocator } from './allocator.js';
import type { CasSequence } from './cas-sequence.js';
import { copyBytes } from './bytes.js';
import { F_CAS_HI, F_CAS_LO, F_EXPTIME, F_META, F_NBYTES, F_NEXT, F_PREV, F_TIME, HEADER_BYTES, IF_ACTIVE, IF_FETCHED, IF_KEY_BINARY, IF_STALE, IF_WIN_SENT, M_CHAINED, memcachedItemSize, NONE, OFF_MASK, PAGE_SHIFT, writeFlags } from './item.js';
import { COLD, IF_SEGMENT, segmentOf } from './lru-segment.js';
import type { ItemMemory } from './item-memory.js';
import type { Linkage } from './linkage.js';
import { hashKey } from './hash.js';
import { Outcome } from './outcome.js';

/** Read marks (fetched, active) and meta marks (stale, win sent, base64 key) survive a restore. The segment bits choose the list. */
const KEPT_IFLAGS = IF_FETCHED | IF_ACTIVE | IF_STALE | IF_WIN_SENT | IF_KEY_BINARY;

/** One item to put back; the caller fills and reuses it. */
export class RestoreRecord {
  key: Uint8Array = Buffer.alloc(0);
  kOff = 0;
  kLen = 0;
  value: Uint8Array = Buffer.alloc(0);
  vOff = 0;
  vLen = 0;
  flags = 0;
  /** Absolute unix seconds, 0 = never. */
  exptime = 0;
  /** 0: take the next CAS. */
  cas = 0;
  /** Unix seconds of the last access. */
  time = 0;
  /** Item flags as saved; read marks and meta marks are kept (KEPT_IFLAGS). */
  iflags = 0;
  /** The key's hashKey(), or -1 to compute it. */
  hash = -1;
  /** The caller knows no item holds the key, which spares the lookup (a random walk through item memory). */
  absent = false;
}

export class Restorer {
  readonly #mem: ItemMemory;
  readonly #links: Linkage;
  readonly #alloc: Allocator;
  readonly #cas: CasSequence;
  readonly #itemSizeMax: number;

  constructor(mem: ItemMemory, links: Linkage, alloc: Allocator, cas: CasSequence, itemSizeMax: number) {
    this.#mem = mem;
    this.#links = links;
    this.#alloc = alloc;
    this.#cas = cas;
    this.#itemSizeMax = itemSizeMax;
  }

  /**
   * Put back one item. Never evicts (NoMemory when its class is full); replaces an item already
   * under the key (a later record is the newer state). The item is linked at the LRU head;
   * call orderLruByTime() when the load is done.
   */
  restore(r: RestoreRecord): Outcome {
    const { key, kOff, kLen, value, vOff, vLen } = r;
    if (kLen === 0 || kLen > 250) return Outcome.NotStored;
    if (memcachedItemSize(kLen, vLen, this.#cas.enabled) > this.#itemSizeMax) return Outcome.TooLarge;
    const hash = r.hash >= 0 ? r.hash : hashKey(key, kOff, kLen);
    const links = this.#links;
    if (!r.absent) {
      const old = links.table.find(key, kOff, kLen, hash);
      if (old !== NONE) links.unlink(old);
    }
    const flags = r.flags >>> 0;
    const id = this.#alloc.alloc(kLen, vLen, flags, false);
    if (id === NONE) return Outcome.NoMemory;
    // header fields and key written here rather than by writeHeader, and an unchained value
    // copied straight in; copyBytes rather than Buffer#copy, whose per-call cost (argument
    // checks, a view) exceeds a byte loop for the short keys and values most items have
    const mem = this.#mem;
    const p32 = mem.pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    p32[o + F_TIME] = r.time;
    p32[o + F_EXPTIME] = r.exptime;
    p32[o + F_NBYTES] = vLen;
    // the allocator set keylen, class and layout (M_FLAGS, M_CHAINED) for these flags
    const meta = p32[o + F_META]!;
    const page = mem.pages[id >>> PAGE_SHIFT]!;
    const at = (o << 2) + HEADER_BYTES;
    if (flags !== 0) {
      for (let i = 0; i < kLen; i++) page[at + i] = key[kOff + i]!;
      writeFlags(mem.views[id >>> PAGE_SHIFT]!, at + kLen, meta, flags);
      mem.writeValueRange(id, 0, value, vOff, vLen);
    } else if ((meta & M_CHAINED) !== 0) {
      for (let i = 0; i < kLen; i++) page[at + i] = key[kOff + i]!;
      mem.writeValueRange(id, 0, value, vOff, vLen);
    } else if (key === value && vOff === kOff + kLen && kLen + vLen > 48) {
      // key and value side by side, as in a snapshot record: one native copy for both
      copyBytes(key, kOff, kLen + vLen, page, at);
    } else {
      for (let i = 0; i < kLen; i++) page[at + i] = key[kOff + i]!;
      copyBytes(value, vOff, vLen, page, at + kLen);
    }
    const seg = links.tuning.segmented ? segmentOf(r.iflags) : COLD;
    links.link(id, hash, seg);
    p32[o + F_META] = p32[o + F_META]! | ((r.iflags & KEPT_IFLAGS & ~IF_SEGMENT) << 16);
    let cas = r.cas;
    if (!this.#cas.enabled) cas = 0;
    else if (cas === 0) cas = this.#cas.next();
    else this.#cas.raise(cas);
    p32[o + F_CAS_LO] = cas >>> 0;
    p32[o + F_CAS_HI] = Math.floor(cas / 0x100000000) >>> 0;
    return Outcome.Stored;
  }

  /**
   * Reorder every LRU list by last-access time, newest at the head (ties keep their
   * current order). Used after a snapshot load, whose records come in slab order.
   */
  orderLruByTime(): void {
    const lru = this.#links.lru;
    const mem = this.#mem;
    for (let list = 0; list < lru.head.length; list++) {
      const n = lru.size[list]!;
      if (n < 2) continue;
      const ids = new Uint32Array(n);
      const times = new Uint32Array(n);
      let id = lru.head[list]!;
      for (let i = 0; i < n && id !== NONE; i++) {
        ids[i] = id;
        times[i] = mem.u32(id, F_TIME);
        id = mem.u32(id, F_NEXT);
      }
      const order = sortNewestFirst(times, n);
      let prev = NONE;
      for (let i = 0; i < n; i++) {
        const cur = ids[order[i]!]!;
        mem.set32(cur, F_PREV, prev);
        if (prev !== NONE) mem.set32(prev, F_NEXT, cur);
        prev = cur;
      }
      mem.set32(prev, F_NEXT, NONE);
      lru.head[list] = ids[order[0]!]!;
      lru.tail[list] = prev;
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
