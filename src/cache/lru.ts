// LRU lists threaded through the item headers (prev/next ids), heads, tails and lengths in
// typed arrays indexed by list: each slab class has one list per segment (lru-segment.ts
// lruOf). Link at the head, move to a head, take from the tail.
import { F_NEXT, F_PREV, NONE, OFF_MASK, PAGE_SHIFT, type ItemId } from './item.js';

export class Lru {
  readonly head: Uint32Array;
  readonly tail: Uint32Array;
  readonly size: Float64Array;
  readonly #pages32: Uint32Array[];

  constructor(lists: number, pages32: Uint32Array[]) {
    this.head = new Uint32Array(lists).fill(NONE);
    this.tail = new Uint32Array(lists).fill(NONE);
    this.size = new Float64Array(lists);
    this.#pages32 = pages32;
  }

  link(id: ItemId, list: number): void {
    const p32 = this.#pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    const h = this.head[list]!;
    p32[o + F_PREV] = NONE;
    p32[o + F_NEXT] = h;
    if (h !== NONE) this.#set(h, F_PREV, id);
    else this.tail[list] = id;
    this.head[list] = id;
    this.size[list]!++;
  }

  unlink(id: ItemId, list: number): void {
    const p32 = this.#pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    const prev = p32[o + F_PREV]!;
    const next = p32[o + F_NEXT]!;
    if (prev !== NONE) this.#set(prev, F_NEXT, next);
    else this.head[list] = next;
    if (next !== NONE) this.#set(next, F_PREV, prev);
    else this.tail[list] = prev;
    this.size[list]!--;
  }

  bump(id: ItemId, list: number): void {
    if (this.head[list] === id) return;
    this.unlink(id, list);
    this.link(id, list);
  }

  /** Move `id` from list `from` to the head of list `to`. */
  move(id: ItemId, from: number, to: number): void {
    this.unlink(id, from);
    this.link(id, to);
  }

  /** Put `id` in the place of `old` (an item moved to another chunk). */
  replace(old: ItemId, id: ItemId, list: number): void {
    const q32 = this.#pages32[old >>> PAGE_SHIFT]!;
    const qo = (old & OFF_MASK) << 1;
    const prev = q32[qo + F_PREV]!;
    const next = q32[qo + F_NEXT]!;
    const p32 = this.#pages32[id >>> PAGE_SHIFT]!;
    const o = (id & OFF_MASK) << 1;
    p32[o + F_PREV] = prev;
    p32[o + F_NEXT] = next;
    if (prev !== NONE) this.#set(prev, F_NEXT, id);
    else this.head[list] = id;
    if (next !== NONE) this.#set(next, F_PREV, id);
    else this.tail[list] = id;
  }

  /** The item before `id` (towards the head), for walking from the tail. */
  prevOf(id: ItemId): ItemId {
    return this.#pages32[id >>> PAGE_SHIFT]![((id & OFF_MASK) << 1) + F_PREV]!;
  }

  #set(id: ItemId, field: number, v: number): void {
    this.#pages32[id >>> PAGE_SHIFT]![((id & OFF_MASK) << 1) + field] = v;
  }
}
