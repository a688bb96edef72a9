// Per-class LRU lists threaded through the item headers (prev/next ids), heads and tails in
// typed arrays: link at head on store, bump to head on read, evict from the tail.
import { F_NEXT, F_PREV, NONE, OFF_MASK, PAGE_SHIFT, type ItemId } from './item.js';

export class Lru {
  readonly head: Uint32Array;
  readonly tail: Uint32Array;
  readonly size: Float64Array;
  readonly #pages32: Uint32Array[];

  constructor(classes: number, pages32: Uint32Array[]) {
    this.head = new Uint32Array(classes).fill(NONE);
    this.tail = new Uint32Array(classes).fill(NONE);
    this.size = new Float64Array(classes);
    this.#pages32 = pages32;
  }

  link(id: ItemId, cls: number): void {
    const p32 = this.#pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    const h = this.head[cls]!;
    p32[o + F_PREV] = NONE;
    p32[o + F_NEXT] = h;
    if (h !== NONE) this.#set(h, F_PREV, id);
    else this.tail[cls] = id;
    this.head[cls] = id;
    this.size[cls]!++;
  }

  unlink(id: ItemId, cls: number): void {
    const p32 = this.#pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    const prev = p32[o + F_PREV]!;
    const next = p32[o + F_NEXT]!;
    if (prev !== NONE) this.#set(prev, F_NEXT, next);
    else this.head[cls] = next;
    if (next !== NONE) this.#set(next, F_PREV, prev);
    else this.tail[cls] = prev;
    this.size[cls]!--;
  }

  bump(id: ItemId, cls: number): void {
    if (this.head[cls] === id) return;
    this.unlink(id, cls);
    this.link(id, cls);
  }

  /** Put `id` in the place of `old` (an item moved to another chunk). */
  replace(old: ItemId, id: ItemId, cls: number): void {
    const q32 = this.#pages32[old >>> PAGE_SHIFT]!;
    const qo = (old & OFF_MASK) << 1;
    const prev = q32[qo + F_PREV]!;
    const next = q32[qo + F_NEXT]!;
    const p32 = this.#pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    p32[o + F_PREV] = prev;
    p32[o + F_NEXT] = next;
    if (prev !== NONE) this.#set(prev, F_NEXT, id);
    else this.head[cls] = id;
    if (next !== NONE) this.#set(next, F_PREV, id);
    else this.tail[cls] = id;
  }

  /** The item before `id` (towards the head), for walking from the tail. */
  prevOf(id: ItemId): ItemId {
    return this.#pages32[id >>> PAGE_SHIFT]![((id & OFF_MASK) << 1) + F_PREV]!;
  }

  #set(id: ItemId, field: number, v: number): void {
    this.#pages32[id >>> PAGE_SHIFT]![((id & OFF_MASK) << 1) + field] = v;
  }
}
