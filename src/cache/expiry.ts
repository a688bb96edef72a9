// Expiry and flush: wire exptimes to absolute unix seconds with memcached's rules, whether an
// item is expired or flushed (memcached's settings.oldest_live / oldest_cas), and the lookup
// that reclaims such items lazily when it meets them (memcached's do_item_get).
import type { CasSequence } from './cas-sequence.js';
import type { Clock } from './clock.js';
import { F_EXPTIME, F_TIME, IF_FETCHED, NONE, type ItemId } from './item.js';
import type { ItemMemory } from './item-memory.js';
import type { Linkage } from './linkage.js';
import { Miss } from './outcome.js';

/** memcached's REALTIME_MAXDELTA: larger exptimes are absolute unix times. */
export const MAX_RELATIVE_EXPTIME = 60 * 60 * 24 * 30;

export class Expiry {
  readonly clock: Clock;
  readonly startedAt: number;
  /** flush_all state, as memcached's settings.oldest_live / oldest_cas (unix seconds). */
  oldestLive = 0;
  oldestCas = 0;
  /** Why the last find() missed. */
  miss: Miss = Miss.None;
  readonly #mem: ItemMemory;
  readonly #cas: CasSequence;
  readonly #links: Linkage;

  constructor(clock: Clock, mem: ItemMemory, cas: CasSequence, links: Linkage) {
    this.clock = clock;
    this.startedAt = clock.now();
    this.#mem = mem;
    this.#cas = cas;
    this.#links = links;
  }

  /**
   * The live item under a key, or NONE. Expired and flushed items found on the way are
   * unlinked (lazy reclaim, counted in reclaimed and expired_unfetched), and `miss` says why
   * a lookup missed.
   */
  find(key: Uint8Array, off: number, len: number, hash: number): ItemId {
    const links = this.#links;
    const id = links.table.find(key, off, len, hash);
    if (id === NONE) {
      this.miss = Miss.Absent;
      return NONE;
    }
    const now = this.clock.now();
    if (this.isFlushed(id, now)) {
      links.unlink(id);
      this.miss = Miss.Flushed;
      return NONE;
    }
    if (this.isExpired(id, now)) {
      this.reclaim(id, this.#mem.slabClass(id));
      this.miss = Miss.Expired;
      return NONE;
    }
    this.miss = Miss.None;
    return id;
  }

  /**
   * Unlink a dead item found in passing, counted as memcached counts a reclaim: `reclaimed`,
   * and `expired_unfetched` when it was never read (the lookup above, the LRU tail pulls).
   */
  reclaim(id: ItemId, cls: number): void {
    const links = this.#links;
    const cs = links.classStats[cls]!;
    if ((this.#mem.iflags(id) & IF_FETCHED) === 0) {
      links.stats.expired_unfetched++;
      cs.expired_unfetched++;
    }
    links.stats.reclaimed++;
    cs.reclaimed++;
    links.unlink(id);
  }

  /** memcached's realtime(): an exptime from the wire to absolute unix seconds (0 = never). */
  absoluteExptime(exptime: number): number {
    if (exptime === 0) return 0;
    if (exptime < 0) return 1; // already expired
    if (exptime > MAX_RELATIVE_EXPTIME) return exptime <= this.startedAt ? 1 : exptime;
    return this.clock.now() + exptime;
  }

  isExpired(id: ItemId, now: number): boolean {
    const exp = this.#mem.u32(id, F_EXPTIME);
    return exp !== 0 && exp <= now;
  }

  /** memcached's item_is_flushed(). */
  isFlushed(id: ItemId, now: number): boolean {
    const oldest = this.oldestLive;
    if (oldest === 0 || oldest > now) return false;
    if (this.#mem.u32(id, F_TIME) <= oldest) return true;
    const oc = this.oldestCas;
    if (oc !== 0) {
      const cas = this.#mem.cas(id);
      if (cas !== 0 && cas < oc) return true;
    }
    return false;
  }

  /**
   * flush_all [delay], as memcached 1.6: items last updated at or before the flush point
   * (and, with CAS on, items with an older CAS) become invisible once the point is reached.
   */
  flush(delay: number): void {
    const now = this.clock.now();
    const newOldest = delay > 0 ? this.absoluteExptime(delay) : now;
    if (this.#cas.enabled) {
      this.oldestLive = newOldest - 1;
      if (this.oldestLive <= now) this.oldestCas = this.#cas.next();
    } else {
      this.oldestLive = newOldest;
    }
  }
}
