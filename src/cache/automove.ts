// The slab automover: memcached 1.6's default algorithm (slab_automove.c), run once a
// second. Over a window of the last `window` runs it looks, per class, at the age of the
// oldest item and at whether the class evicted. When the youngest evicting class is much
// younger than the oldest class with pages to spare (age below `ratio` of it), one page moves
// from the oldest to the youngest; a class holding over 2.5 pages of free chunks with no
// recent activity gives a page to the global pool. So a cache whose item sizes change shifts
// its memory to the sizes in use instead of starving them.
import { NONE } from './item.js';
import { COLD, lruOf } from './lru-segment.js';
import { MoveResult } from './page-mover.js';
import type { Cache } from './cache.js';

const MIN_PAGES_FOR_SOURCE = 2;
const MIN_PAGES_FOR_RECLAIM = 2.5;

export interface AutomoveSettings {
  /** 0 off, 1 memcached's default, 2 the same without waiting for a full window. */
  level: number;
  ratio: number;
  window: number;
}

export class SlabAutomover {
  readonly #cache: Cache;
  readonly #settings: () => AutomoveSettings;
  readonly #classes: number;
  #window = 0;
  #cur = 0;
  // per class × window slot
  #age = new Float64Array(0);
  #dirty = new Uint8Array(0);
  #ratio = new Float64Array(0);
  #seen = new Uint8Array(0);
  // counters at the previous run, per class
  readonly #evicted: Float64Array;
  readonly #oom: Float64Array;
  readonly #pages: Float64Array;

  constructor(cache: Cache, settings: () => AutomoveSettings) {
    this.#cache = cache;
    this.#settings = settings;
    this.#classes = cache.slabs.geometry.sizes.length;
    this.#evicted = new Float64Array(this.#classes);
    this.#oom = new Float64Array(this.#classes);
    this.#pages = new Float64Array(this.#classes);
    this.#snapshot();
  }

  #snapshot(): void {
    const cache = this.#cache;
    for (let c = 1; c < this.#classes; c++) {
      this.#evicted[c] = cache.classStats[c]!.evicted;
      this.#oom[c] = cache.classStats[c]!.outofmemory;
      this.#pages[c] = cache.slabs.classPages[c]!;
    }
  }

  /** One run (memcached's slab_automove_run); returns [src, dst] of the page it moved, or null. */
  step(): [number, number] | null {
    const { level, ratio, window } = this.#settings();
    if (level === 0) {
      this.#snapshot();
      return null;
    }
    if (window !== this.#window) {
      this.#window = Math.max(1, window);
      const n = this.#classes * this.#window;
      this.#age = new Float64Array(n);
      this.#dirty = new Uint8Array(n);
      this.#ratio = new Float64Array(n);
      this.#seen = new Uint8Array(n);
      this.#cur = 0;
    }
    const W = this.#window;
    const cache = this.#cache;
    const slabs = cache.slabs;
    const now = cache.clock.now();
    let evictedTotal = 0;
    for (let c = 1; c < this.#classes; c++) evictedTotal += cache.classStats[c]!.evicted - this.#evicted[c]!;
    this.#cur++;
    let src = -1;
    let dst = -1;
    let oldest = -1;
    let oldestAge = 0;
    let youngest = -1;
    let youngestAge = Number.POSITIVE_INFINITY;
    let youngestEvicting = false;
    for (let c = 1; c < this.#classes; c++) {
      const cs = cache.classStats[c]!;
      const slot = c * W + (this.#cur % W);
      const evictedDelta = cs.evicted - this.#evicted[c]!;
      this.#dirty[slot] = 0;
      this.#ratio[slot] = 0;
      this.#seen[slot] = 0;
      if (evictedDelta > 0) {
        this.#ratio[slot] = evictedDelta / evictedTotal;
        this.#seen[slot] = 1;
        this.#dirty[slot] = 1;
      }
      if (cs.outofmemory > this.#oom[c]! || slabs.classPages[c]! > this.#pages[c]!) this.#dirty[slot] = 1;
      // memcached's automover reads the `age` of `stats items`: the COLD tail's
      const tail = cache.lru.tail[lruOf(c, COLD)]!;
      this.#age[slot] = tail === NONE ? 0 : Math.max(0, now - cache.itemTime(tail));
      let ageSum = 0;
      let dirtySum = 0;
      let ratioSum = 0;
      let seenSum = 0;
      for (let i = c * W; i < c * W + W; i++) {
        ageSum += this.#age[i]!;
        dirtySum += this.#dirty[i]!;
        ratioSum += this.#ratio[i]!;
        seenSum += this.#seen[i]!;
      }
      const age = ageSum / W;
      const perPage = slabs.geometry.perSlab[c]!;
      if (slabs.freeCount[c]! + slabs.unCarved(c) > perPage * MIN_PAGES_FOR_RECLAIM && dirtySum === 0) {
        src = c;
        dst = 0;
        youngest = -1;
        oldest = -1;
        break;
      }
      if (age > oldestAge && slabs.classPages[c]! > MIN_PAGES_FOR_SOURCE) {
        oldest = c;
        oldestAge = age;
      }
      if (age < youngestAge && (seenSum > W / 2 || ratioSum / W > 0.25)) {
        youngest = c;
        youngestAge = age;
        youngestEvicting = this.#seen[slot] === 1;
      }
    }
    this.#snapshot();
    const windowFilled = level === 2 || this.#cur > W;
    if (youngest !== -1 && oldest !== -1 && windowFilled && youngestAge < oldestAge * ratio && youngestEvicting) {
      src = oldest;
      dst = youngest;
    }
    if (src === -1 || dst === -1) return null;
    return cache.mover.move(src, dst) === MoveResult.Ok ? [src, dst] : null;
  }
}
