// Key -> item id index: a power-of-two Uint32Array of bucket heads with chains threaded
// through each item's header, so the index costs 4 bytes per bucket and no heap objects.
// Items keep no full hash (memcached keeps none): a chain walk compares 5 bits of it kept in
// the item's META (M_HASH_TAG) and the key length, then key bytes; removing or rethreading an
// item hashes its key again.
import { keyViewOf } from './bytes.js';
import { hashView } from './hash.js';
import { F_HNEXT, F_META, HEADER_BYTES, M_HASH_TAG, NONE, OFF_MASK, PAGE_SHIFT, type ItemId } from './item.js';

/** META bits a chain walk compares first: the hash tag and the key length. */
const TAG_AND_LEN = (M_HASH_TAG | 0xff) >>> 0;

const MIN_POWER = 16;

export class HashTable {
  #buckets: Uint32Array;
  #mask: number;
  count = 0;
  readonly #pages: Buffer[];
  readonly #pages32: Uint32Array[];
  readonly #views: DataView[];

  constructor(pages: Buffer[], pages32: Uint32Array[], views: DataView[], power = MIN_POWER) {
    this.#pages = pages;
    this.#pages32 = pages32;
    this.#views = views;
    this.#buckets = new Uint32Array(1 << power).fill(NONE);
    this.#mask = (1 << power) - 1;
  }

  get power(): number {
    return Math.log2(this.#buckets.length);
  }

  get bytes(): number {
    return this.#buckets.byteLength;
  }

  find(key: Uint8Array, off: number, len: number, hash: number): ItemId {
    let id = this.#buckets[hash & this.#mask]!;
    const pages32 = this.#pages32;
    const want = (hash & M_HASH_TAG) | len;
    while (id !== NONE) {
      const p = id >>> PAGE_SHIFT;
      const p32 = pages32[p]!;
      const o = (id & OFF_MASK) << 1;
      if (((p32[o + F_META]! ^ want) & TAG_AND_LEN) === 0 && this.#sameKey(p, (o << 2) + HEADER_BYTES, key, off, len)) {
        return id;
      }
      id = p32[o + F_HNEXT]!;
    }
    return NONE;
  }

  /** Key bytes at `at` of page `p` equal key[off, off + len): four bytes at a time. */
  #sameKey(p: number, at: number, key: Uint8Array, off: number, len: number): boolean {
    const pv = this.#views[p]!;
    const kv = keyViewOf(key);
    const kb = off;
    const n4 = len & ~3;
    let i = 0;
    for (; i < n4; i += 4) if (pv.getUint32(at + i, true) !== kv.getUint32(kb + i, true)) return false;
    for (; i < len; i++) if (pv.getUint8(at + i) !== kv.getUint8(kb + i)) return false;
    return true;
  }

  insert(id: ItemId, hash: number): void {
    const b = hash & this.#mask;
    const p32 = this.#pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    p32[o + F_META] = ((p32[o + F_META]! & ~M_HASH_TAG) | (hash & M_HASH_TAG)) >>> 0;
    p32[o + F_HNEXT] = this.#buckets[b]!;
    this.#buckets[b] = id;
    if (++this.count > this.#buckets.length * 1.5 && this.#buckets.length < 1 << 30) this.#grow();
  }

  remove(id: ItemId): void {
    const p32 = this.#pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    const b = this.hashOf(id) & this.#mask;
    let cur = this.#buckets[b]!;
    if (cur === id) {
      this.#buckets[b] = p32[o + F_HNEXT]!;
      this.count--;
      return;
    }
    while (cur !== NONE) {
      const c32 = this.#pages32[cur >>> PAGE_SHIFT]!;
      const co = (cur & OFF_MASK) << 1;
      const next = c32[co + F_HNEXT]!;
      if (next === id) {
        c32[co + F_HNEXT] = p32[o + F_HNEXT]!;
        this.count--;
        return;
      }
      cur = next;
    }
  }

  /**
   * Put `id` where `old` is in its chain (same key, so the same hash): one walk instead of a
   * remove and an insert, and the count is unchanged.
   */
  replace(old: ItemId, id: ItemId, hash: number): void {
    const p32 = this.#pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    const q32 = this.#pages32[old >>> PAGE_SHIFT]!;
    const qo = (old & OFF_MASK) << 1;
    p32[o + F_META] = ((p32[o + F_META]! & ~M_HASH_TAG) | (hash & M_HASH_TAG)) >>> 0;
    p32[o + F_HNEXT] = q32[qo + F_HNEXT]!;
    const b = hash & this.#mask;
    let cur = this.#buckets[b]!;
    if (cur === old) {
      this.#buckets[b] = id;
      return;
    }
    while (cur !== NONE) {
      const c32 = this.#pages32[cur >>> PAGE_SHIFT]!;
      const co = (cur & OFF_MASK) << 1;
      const next = c32[co + F_HNEXT]!;
      if (next === old) {
        c32[co + F_HNEXT] = id;
        return;
      }
      cur = next;
    }
    throw new Error('HashTable.replace: item not in its chain');
  }

  /**
   * Size the bucket array for `n` items at one item per bucket or fewer, so a bulk insert
   * (snapshot load) never stops to grow and rethread. Never shrinks.
   */
  reserve(n: number): void {
    let len = this.#buckets.length;
    while (len < n && len < 1 << 30) len *= 2;
    if (len > this.#buckets.length) this.#rehash(len);
  }

  /** The hash of item `id`'s key (hashKey), from the key bytes in its chunk. */
  hashOf(id: ItemId): number {
    const p = id >>> PAGE_SHIFT;
    const o = (id & OFF_MASK) << 1;
    return hashView(this.#views[p]!, (o << 2) + HEADER_BYTES, this.#pages32[p]![o + F_META]! & 0xff);
  }

  /** Double the bucket array and rethread every chain (each item's key is hashed again). */
  #grow(): void {
    this.#rehash(this.#buckets.length * 2);
  }

  #rehash(length: number): void {
    const old = this.#buckets;
    const next = new Uint32Array(length).fill(NONE);
    const mask = next.length - 1;
    const pages32 = this.#pages32;
    for (let b = 0; b < old.length; b++) {
      let id = old[b]!;
      while (id !== NONE) {
        const p32 = pages32[id >>> PAGE_SHIFT]!;
        const o = (id & OFF_MASK) << 1;
        const after = p32[o + F_HNEXT]!;
        const nb = this.hashOf(id) & mask;
        p32[o + F_HNEXT] = next[nb]!;
        next[nb] = id;
        id = after;
      }
    }
    this.#buckets = next;
    this.#mask = mask;
  }
}
