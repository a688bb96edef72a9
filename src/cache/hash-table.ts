// Key -> item id index: a power-of-two Uint32Array of bucket heads with chains threaded
// through each item's header, so the index costs 4 bytes per bucket and no heap objects.
import { F_HASH, F_HNEXT, F_META, HEADER_BYTES, NONE, OFF_MASK, PAGE_SHIFT, type ItemId } from './item.js';

const MIN_POWER = 16;

export class HashTable {
  #buckets: Uint32Array;
  #mask: number;
  count = 0;
  readonly #pages: Buffer[];
  readonly #pages32: Uint32Array[];

  constructor(pages: Buffer[], pages32: Uint32Array[], power = MIN_POWER) {
    this.#pages = pages;
    this.#pages32 = pages32;
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
    while (id !== NONE) {
      const p = id >>> PAGE_SHIFT;
      const p32 = pages32[p]!;
      const o = (id & OFF_MASK) << 1;
      if (p32[o + F_HASH] === hash && (p32[o + F_META]! & 0xff) === len) {
        const page = this.#pages[p]!;
        let b = (o << 2) + HEADER_BYTES;
        let i = off;
        const end = off + len;
        while (i < end && page[b] === key[i]) {
          i++;
          b++;
        }
        if (i === end) return id;
      }
      id = p32[o + F_HNEXT]!;
    }
    return NONE;
  }

  insert(id: ItemId, hash: number): void {
    const b = hash & this.#mask;
    const p32 = this.#pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    p32[o + F_HASH] = hash;
    p32[o + F_HNEXT] = this.#buckets[b]!;
    this.#buckets[b] = id;
    if (++this.count > this.#buckets.length * 1.5 && this.#buckets.length < 1 << 30) this.#grow();
  }

  remove(id: ItemId): void {
    const p32 = this.#pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    const b = p32[o + F_HASH]! & this.#mask;
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
   * Size the bucket array for `n` items at one item per bucket or fewer, so a bulk insert
   * (snapshot load) never stops to grow and rethread. Never shrinks.
   */
  reserve(n: number): void {
    let len = this.#buckets.length;
    while (len < n && len < 1 << 30) len *= 2;
    if (len > this.#buckets.length) this.#rehash(len);
  }

  /** Double the bucket array and rethread every chain (hashes are kept in the items). */
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
        const nb = p32[o + F_HASH]! & mask;
        p32[o + F_HNEXT] = next[nb]!;
        next[nb] = id;
        id = after;
      }
    }
    this.#buckets = next;
    this.#mask = mask;
  }
}
