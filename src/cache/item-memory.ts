// Item memory: reading and writing the fields, key and value of an item in its slab chunk(s),
// including values that span a head chunk and continuation chunks. Knows nothing of links,
// LRU or stats; every other cache file reaches item bytes through here.
import { copyByViews, copyBytes, keyViewOf, viewFor } from './bytes.js';
import { hashView } from './hash.js';
import {
  continuationChunks,
  F_CAS_HI,
  F_CAS_LO,
  F_EXPTIME,
  F_META,
  F_NBYTES,
  F_TIME,
  flagBytes,
  HEADER_BYTES,
  M_CHAINED,
  M_FLAGS16,
  M_FLAGS32,
  META_KEPT,
  writeFlags,
  memcachedItemSize,
  OFF_MASK,
  PAGE_SHIFT,
  type ItemId,
} from './item.js';
import type { Slabs } from './slabs.js';

const EMPTY = Buffer.alloc(0);

export class ItemMemory {
  /** Page bytes, u32 views and DataViews over the same memory (the arrays grow with Slabs). */
  readonly pages: Buffer[];
  readonly pages32: Uint32Array[];
  readonly views: DataView[];
  readonly #chunkMax: number;
  readonly #useCas: boolean;

  constructor(slabs: Slabs, chunkMax: number, useCas: boolean) {
    this.pages = slabs.pages;
    this.pages32 = slabs.pages32;
    this.views = slabs.views;
    this.#chunkMax = chunkMax;
    this.#useCas = useCas;
  }

  u32(id: ItemId, f: number): number {
    return this.pages32[id >>> PAGE_SHIFT]![((id & OFF_MASK) << 1) + f]!;
  }
  set32(id: ItemId, f: number, v: number): void {
    this.pages32[id >>> PAGE_SHIFT]![((id & OFF_MASK) << 1) + f] = v;
  }

  /** Client flags: stored after the key in 2 or 4 bytes when not 0 (M_FLAGS16, M_FLAGS32). */
  flags(id: ItemId): number {
    const p = id >>> PAGE_SHIFT;
    const o = (id & OFF_MASK) << 1;
    const meta = this.pages32[p]![o + F_META]!;
    if ((meta & M_FLAGS16) !== 0) return this.views[p]!.getUint16((o << 2) + HEADER_BYTES + (meta & 0xff), true);
    if ((meta & M_FLAGS32) !== 0) return this.views[p]!.getUint32((o << 2) + HEADER_BYTES + (meta & 0xff), true);
    return 0;
  }
  valueLength(id: ItemId): number {
    return this.u32(id, F_NBYTES);
  }
  keyLength(id: ItemId): number {
    return this.u32(id, F_META) & 0xff;
  }
  slabClass(id: ItemId): number {
    return (this.u32(id, F_META) >>> 8) & 0xff;
  }
  iflags(id: ItemId): number {
    return (this.u32(id, F_META) >>> 16) & 0xff;
  }
  setIflags(id: ItemId, flags: number): void {
    const m = this.u32(id, F_META);
    this.set32(id, F_META, ((m & META_KEPT) | (flags << 16)) >>> 0);
  }
  /** Absolute unix expiry, 0 = never. */
  exptime(id: ItemId): number {
    return this.u32(id, F_EXPTIME);
  }
  setExptime(id: ItemId, absolute: number): void {
    this.set32(id, F_EXPTIME, absolute);
  }
  /** Unix seconds of the last access or update. */
  time(id: ItemId): number {
    return this.u32(id, F_TIME);
  }
  cas(id: ItemId): number {
    return this.u32(id, F_CAS_HI) * 0x100000000 + this.u32(id, F_CAS_LO);
  }
  setCas(id: ItemId, cas: number): void {
    const p32 = this.pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    p32[o + F_CAS_LO] = cas >>> 0;
    p32[o + F_CAS_HI] = cas > 0xffffffff ? Math.floor(cas / 0x100000000) >>> 0 : 0;
  }
  /** Continuation chunks of a chained item (0 when the item fits one chunk). */
  chunkCount(id: ItemId): number {
    const meta = this.u32(id, F_META);
    if ((meta & M_CHAINED) === 0) return 0;
    return continuationChunks(HEADER_BYTES + (meta & 0xff) + flagBytes(meta) + this.u32(id, F_NBYTES), this.#chunkMax);
  }
  /** Byte offset, in the head chunk's page, of a chained item's list of continuation chunk ids. */
  chainListAt(id: ItemId): number {
    const meta = this.u32(id, F_META);
    return ((id & OFF_MASK) << 3) + HEADER_BYTES + (meta & 0xff) + flagBytes(meta);
  }
  /** The key's 32-bit hash (hashKey), computed from the key bytes in the chunk. */
  hash(id: ItemId): number {
    const p = id >>> PAGE_SHIFT;
    const base = (id & OFF_MASK) << 3;
    return hashView(this.views[p]!, base + HEADER_BYTES, this.keyLength(id));
  }
  /** memcached-style size of an item, for `bytes` and mem_requested. */
  size(id: ItemId): number {
    return memcachedItemSize(this.keyLength(id), this.u32(id, F_NBYTES), this.#useCas, this.flags(id));
  }

  /**
   * Header fields, key and client flags of a freshly allocated item (keylen, class and layout
   * bits were set by the allocator, for these same flags).
   */
  writeHeader(id: ItemId, key: Uint8Array, kOff: number, kLen: number, nbytes: number, flags: number, exp: number, now: number): void {
    const p32 = this.pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    p32[o + F_TIME] = now;
    p32[o + F_EXPTIME] = exp;
    p32[o + F_NBYTES] = nbytes;
    // iflags start clear
    const meta = ((p32[o + F_META]! & 0xff00ff00) | kLen) >>> 0;
    p32[o + F_META] = meta;
    const view = this.views[id >>> PAGE_SHIFT]!;
    copyByViews(keyViewOf(key), kOff, view, (o << 2) + HEADER_BYTES, kLen);
    writeFlags(view, (o << 2) + HEADER_BYTES + kLen, meta, flags);
  }

  /** Copy the key into dst at off; returns the offset after it. */
  copyKey(id: ItemId, dst: Uint8Array, off: number): number {
    const page = this.pages[id >>> PAGE_SHIFT]!;
    const start = ((id & OFF_MASK) << 3) + HEADER_BYTES;
    const len = this.keyLength(id);
    copyBytes(page, start, len, dst, off);
    return off + len;
  }

  /** copyKey into a DataView. */
  copyKeyToView(id: ItemId, dst: DataView, off: number): number {
    const len = this.keyLength(id);
    copyByViews(this.views[id >>> PAGE_SHIFT]!, ((id & OFF_MASK) << 3) + HEADER_BYTES, dst, off, len);
    return off + len;
  }

  /** Copy the whole value into dst at off; returns the offset after it. */
  copyValue(id: ItemId, dst: Uint8Array, off: number): number {
    return this.copyValueRange(id, 0, this.u32(id, F_NBYTES), dst, off);
  }

  /** Copy value bytes [from, from + len) into dst at off; returns the offset after them. */
  copyValueRange(id: ItemId, from: number, len: number, dst: Uint8Array, off: number): number {
    let pos = from;
    const end = Math.min(from + len, this.u32(id, F_NBYTES));
    while (pos < end) {
      const take = Math.min(this.#locate(id, pos), end - pos);
      copyBytes(this.#segPage, this.#segOff, take, dst, off);
      off += take;
      pos += take;
    }
    return off;
  }

  /**
   * Copy the whole value into a DataView at off (the fast path for reply buffers that keep a
   * view); returns the offset after it.
   */
  copyValueToView(id: ItemId, dst: DataView, off: number): number {
    const p32 = this.pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    const end = p32[o + F_NBYTES]!;
    const meta = p32[o + F_META]!;
    if ((meta & M_CHAINED) === 0) {
      // one chunk: the value follows the key and flags
      copyByViews(this.views[id >>> PAGE_SHIFT]!, (o << 2) + HEADER_BYTES + (meta & 0xff) + flagBytes(meta), dst, off, end);
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

  /**
   * The value as slices of the slab pages, no copy, in order (`visit` runs once for an item in
   * one chunk, once per chunk for a chained one). The slices show whatever the chunks hold
   * later: a caller that keeps them pins the item (Linkage#pin).
   */
  valueViews(id: ItemId, visit: (view: Buffer) => void): void {
    const end = this.u32(id, F_NBYTES);
    let pos = 0;
    while (pos < end) {
      const take = Math.min(this.#locate(id, pos), end - pos);
      visit(this.#segPage.subarray(this.#segOff, this.#segOff + take));
      pos += take;
    }
  }

  /** Write `len` bytes of src at value position `from` of item `id`. */
  writeValueRange(id: ItemId, from: number, src: Uint8Array, sOff: number, len: number): void {
    const srcView = this.srcViewOf(src);
    const p32 = this.pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    const meta = p32[o + F_META]!;
    if ((meta & M_CHAINED) === 0) {
      // one chunk: the value follows the key and flags
      copyByViews(srcView, sOff, this.views[id >>> PAGE_SHIFT]!, (o << 2) + HEADER_BYTES + (meta & 0xff) + flagBytes(meta) + from, len);
      return;
    }
    let done = 0;
    while (done < len) {
      const take = Math.min(this.#locate(id, from + done), len - done);
      copyByViews(srcView, sOff + done, this.#segView, this.#segOff, take);
      done += take;
    }
  }

  /** A DataView over the bytes of `src`: requests from one read share a buffer, so it is made once per read. */
  srcViewOf(src: Uint8Array): DataView {
    if (src !== this.#srcArray) {
      this.#srcArray = src;
      this.#srcView = viewFor(src);
    }
    return this.#srcView;
  }

  /** The array the last value came from, and a DataView over its bytes. */
  #srcArray: Uint8Array | null = null;
  #srcView: DataView = new DataView(new ArrayBuffer(0));

  /** The page holding value byte `pos` of an item, and its offset there (set by #locate). */
  #segPage: Buffer = EMPTY;
  #segView: DataView = new DataView(new ArrayBuffer(0));
  #segOff = 0;

  /**
   * Find value byte `pos` of item `id`: sets #segPage/#segOff and returns how many value bytes
   * lie contiguously from there. A chained item keeps the first part of its value in the
   * head chunk after the key, the flags and the list of continuation chunk ids, the rest in
   * those chunks.
   */
  #locate(id: ItemId, pos: number): number {
    const page = this.pages[id >>> PAGE_SHIFT]!;
    const base = (id & OFF_MASK) << 3;
    const meta = this.u32(id, F_META);
    // the first byte after the key and flags
    const after = base + HEADER_BYTES + (meta & 0xff) + flagBytes(meta);
    const nbytes = this.u32(id, F_NBYTES);
    if ((meta & M_CHAINED) === 0) {
      this.#segPage = page;
      this.#segView = this.views[id >>> PAGE_SHIFT]!;
      this.#segOff = after + pos;
      return nbytes - pos;
    }
    const chunk = this.#chunkMax;
    const n = continuationChunks(after - base + nbytes, chunk);
    const headCap = chunk - (after - base) - 4 * n;
    if (pos < headCap) {
      this.#segPage = page;
      this.#segView = this.views[id >>> PAGE_SHIFT]!;
      this.#segOff = after + 4 * n + pos;
      return headCap - pos;
    }
    const k = Math.floor((pos - headCap) / chunk);
    const cid = page.readUInt32LE(after + 4 * k);
    const within = pos - headCap - k * chunk;
    this.#segPage = this.pages[cid >>> PAGE_SHIFT]!;
    this.#segView = this.views[cid >>> PAGE_SHIFT]!;
    this.#segOff = ((cid & OFF_MASK) << 3) + within;
    return chunk - within;
  }
}

