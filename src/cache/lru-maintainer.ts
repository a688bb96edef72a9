// The LRU maintainer of memcached 1.6 (items.c lru_maintainer_thread, lru_maintainer_juggle,
// lru_pull_tail), run from the event loop: it keeps each class's HOT and WARM lists within
// their shares and ages by moving their tails on, moves COLD items read twice to WARM, and
// evicts from the COLD tail for an allocation that found its class full.
import type { Expiry } from './expiry.js';
import { IF_ACTIVE, IF_FETCHED, NONE, type ItemId } from './item.js';
import type { ItemMemory } from './item-memory.js';
import type { Linkage } from './linkage.js';
import { COLD, HOT, lruOf, WARM } from './lru-segment.js';

/** Items a tail pull looks at past expired ones (memcached's `tries`). */
const PULL_TRIES = 5;
/** Rounds of HOT, WARM and COLD pulls per class per tick (memcached: 500). */
const JUGGLE_ROUNDS = 500;
/** The timer's wait after a tick that moved something, and its longest wait, in ms (memcached: 1 ms .. 1 s). */
const MIN_WAIT_MS = 1;
const MAX_WAIT_MS = 1000;

export class LruMaintainer {
  readonly #mem: ItemMemory;
  readonly #links: Linkage;
  readonly #expiry: Expiry;
  #timer: NodeJS.Timeout | null = null;
  /** Told of each item evicted, before it is unlinked (Cache.setEvictionObserver). */
  onEvict: ((id: ItemId) => void) | null = null;
  #wait = MIN_WAIT_MS;

  constructor(mem: ItemMemory, links: Linkage, expiry: Expiry) {
    this.#mem = mem;
    this.#links = links;
    this.#expiry = expiry;
  }

  /**
   * One look at the tail of segment `seg` of class `cls` (memcached's lru_pull_tail without
   * LRU_PULL_EVICT). Expired and flushed items on the way are reclaimed (up to PULL_TRIES).
   * HOT and WARM: an ACTIVE tail loses the mark and moves to WARM (from HOT) or to WARM's head
   * (from WARM); an inactive one goes to COLD when its list holds more than its share of
   * `total` items or it is older than `maxAge` seconds. COLD: an ACTIVE tail goes to WARM.
   * Returns how many items it moved or reclaimed.
   */
  pullTail(cls: number, seg: number, total: number, maxAge: number): number {
    const links = this.#links;
    const lru = links.lru;
    const list = lruOf(cls, seg);
    const mem = this.#mem;
    const now = this.#expiry.clock.now();
    let removed = 0;
    let id = lru.tail[list]!;
    for (let tries = PULL_TRIES; tries > 0 && id !== NONE; tries--) {
      const prev = lru.prevOf(id);
      if (this.#reclaim(id, cls, now)) {
        removed++;
        id = prev;
        continue;
      }
      const fl = mem.iflags(id);
      const cs = links.classStats[cls]!;
      if (seg === COLD) {
        if ((fl & IF_ACTIVE) !== 0 && links.tuning.segmented) {
          links.coldToWarm(id, cls);
          removed++;
        }
        return removed;
      }
      const t = links.tuning;
      let limit = seg === HOT ? Math.floor((total * t.hotPct) / 100) : 0;
      if (limit === 0) limit = Math.floor((total * t.warmPct) / 100);
      if ((fl & IF_ACTIVE) !== 0) {
        mem.setIflags(id, fl & ~IF_ACTIVE);
        removed++;
        if (seg === WARM) {
          lru.bump(id, list);
          links.stats.moves_within_lru++;
          cs.moves_within_lru++;
        } else {
          links.moveTo(id, cls, HOT, WARM);
          links.stats.moves_to_warm++;
          cs.moves_to_warm++;
        }
      } else if (lru.size[list]! > limit || now - mem.time(id) > maxAge) {
        links.moveTo(id, cls, seg, COLD);
        links.stats.moves_to_cold++;
        cs.moves_to_cold++;
        removed++;
      }
      return removed;
    }
    return removed;
  }

  /**
   * memcached's lru_maintainer_juggle for one class, at most `rounds` rounds: HOT's share and
   * age limit are hot_lru_pct and hot_max_factor times the COLD tail's age, WARM's likewise.
   * In flat mode every limit is 0, which drains HOT and WARM into COLD. Returns the rounds
   * that did something.
   */
  juggle(cls: number, rounds = JUGGLE_ROUNDS): number {
    const links = this.#links;
    const lru = links.lru;
    const t = links.tuning;
    let total = 0;
    let hotAge = 0;
    let warmAge = 0;
    if (t.segmented) {
      const coldTail = lru.tail[lruOf(cls, COLD)]!;
      const coldAge = coldTail === NONE ? 0 : Math.max(0, this.#expiry.clock.now() - this.#mem.time(coldTail));
      hotAge = Math.floor(coldAge * t.hotMaxFactor);
      warmAge = Math.floor(coldAge * t.warmMaxFactor);
      total = links.count(cls);
    } else if (lru.size[lruOf(cls, HOT)] === 0 && lru.size[lruOf(cls, WARM)] === 0) {
      return 0;
    }
    let did = 0;
    for (let i = 0; i < rounds; i++) {
      let more = this.pullTail(cls, HOT, total, hotAge) > 0 || this.pullTail(cls, WARM, total, warmAge) > 0 ? 1 : 0;
      if (t.segmented) more += this.pullTail(cls, COLD, total, 0);
      if (more === 0) break;
      did++;
    }
    return did;
  }

  /**
   * Free a chunk of class `cls` for an allocation (memcached's do_item_alloc_pull): one round
   * of juggling, then the COLD tail: expired items near it are reclaimed, else it is evicted;
   * an ACTIVE COLD tail goes to WARM first (the move its queued bump asks for). With COLD
   * empty, HOT's (else WARM's) tail is pushed on so the next try finds something. False when
   * nothing could be freed or moved.
   */
  makeRoom(cls: number, noEvict: boolean): boolean {
    const links = this.#links;
    const lru = links.lru;
    links.classStats[cls]!.direct_reclaims++;
    links.stats.direct_reclaims++;
    if (links.tuning.segmented) {
      // the juggle may have reclaimed expired items already: that chunk is enough
      const reclaimed = links.stats.reclaimed;
      this.juggle(cls, 1);
      if (links.stats.reclaimed !== reclaimed) return true;
    }
    const cold = lruOf(cls, COLD);
    const now = this.#expiry.clock.now();
    let id = lru.tail[cold]!;
    for (let tries = PULL_TRIES; tries > 0 && id !== NONE; tries--) {
      const prev = lru.prevOf(id);
      if (this.#reclaim(id, cls, now)) return true;
      id = prev;
    }
    if (noEvict) return false;
    const mem = this.#mem;
    let tail = lru.tail[cold]!;
    // an item read since it last reached the tail is not evicted: segmented, it goes to WARM;
    // flat, back to the head (a second chance). Each rescue clears the mark a read set, so the
    // walk is amortized O(1) per read.
    for (let i = lru.size[cold]!; i > 0 && tail !== NONE; i--) {
      const f = mem.iflags(tail);
      if ((f & IF_ACTIVE) === 0) break;
      if (links.tuning.segmented) links.coldToWarm(tail, cls);
      else {
        mem.setIflags(tail, f & ~IF_ACTIVE);
        lru.bump(tail, cold);
        links.stats.moves_within_lru++;
      }
      tail = lru.tail[cold]!;
    }
    // a reply is sending the tail from its chunks (Linkage#pin): the next one up goes instead,
    // as memcached skips an item with references
    for (let tries = PULL_TRIES; tries > 0 && tail !== NONE && links.isPinned(tail); tries--) tail = lru.prevOf(tail);
    if (tail !== NONE && !links.isPinned(tail)) {
      this.#evict(tail, cls, now);
      return true;
    }
    if (tail !== NONE) return false;
    // COLD is empty: memcached pulls HOT's tail with no share (so it moves on)
    return this.pullTail(cls, HOT, 0, 0) > 0 || this.pullTail(cls, WARM, 0, 0) > 0;
  }

  #evict(id: ItemId, cls: number, now: number): void {
    const links = this.#links;
    const mem = this.#mem;
    const stats = links.stats;
    const cs = links.classStats[cls]!;
    const fl = mem.iflags(id);
    stats.evictions++;
    cs.evicted++;
    if (mem.exptime(id) !== 0) cs.evicted_nonzero++;
    cs.evicted_time = now - mem.time(id);
    if ((fl & IF_FETCHED) === 0) {
      stats.evicted_unfetched++;
      cs.evicted_unfetched++;
    }
    if ((fl & IF_ACTIVE) !== 0) {
      stats.evicted_active++;
      cs.evicted_active++;
    }
    this.onEvict?.(id);
    links.unlink(id);
  }

  /** Unlink `id` when it is expired or flushed, counted as memcached's reclaims; true if it was. */
  #reclaim(id: ItemId, cls: number, now: number): boolean {
    const exp = this.#expiry;
    if (!exp.isExpired(id, now) && !exp.isFlushed(id, now)) return false;
    exp.reclaim(id, cls);
    return true;
  }

  /**
   * One pass of the maintainer: move the queued COLD reads to WARM, then juggle every class
   * that has items. Returns true when it moved something.
   */
  tick(): boolean {
    const links = this.#links;
    links.stats.lru_maintainer_juggles++;
    let did = links.drainBumps() > 0;
    const classes = links.classStats.length;
    for (let cls = 1; cls < classes; cls++) {
      if (links.count(cls) === 0) continue;
      if (this.juggle(cls) > 0) did = true;
    }
    return did;
  }

  /** Run tick() from a timer until stop(): every millisecond while it finds work, backing off to a second. */
  start(): void {
    if (this.#timer !== null) return;
    const run = (): void => {
      const did = this.tick();
      this.#wait = did ? MIN_WAIT_MS : Math.min(MAX_WAIT_MS, this.#wait * 2);
      this.#timer = setTimeout(run, this.#wait);
      this.#timer.unref();
    };
    this.#timer = setTimeout(run, MIN_WAIT_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
