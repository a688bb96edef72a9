// The LRU crawler: frees expired and flushed items in the background, in slices of a quarter
// of a millisecond so the event loop keeps serving requests (memcached's crawler.c does this on
// a thread).
import { performance } from 'node:perf_hooks';
import type { Cache } from './cache.js';
import { IF_FETCHED, NONE, type ItemId } from './item.js';
import { SEGMENTS, segmentOf } from './lru-segment.js';

export interface CrawlerOptions {
  /** Longest a slice may run before yielding to the event loop, in milliseconds. */
  sliceMs?: number;
  /** Items checked between two looks at the time within a slice. */
  batch?: number;
  /** Wait before a pass after one that freed something (and before the first), in ms. */
  minIntervalMs?: number;
  /** Longest wait between passes when passes keep finding nothing, in ms. */
  maxIntervalMs?: number;
  /** A pass waits at least this many times its own busy time, to bound the crawler's CPU share. */
  idleFactor?: number;
}

/** A cursor found dead this many times in one pass gives up on its class until the next pass. */
const MAX_RESTARTS = 3;

/**
 * How often the time is looked at in the last second before a delayed flush point (the clock
 * has whole seconds; the system clock ticks every 100 ms).
 */
const FLUSH_POLL_MS = 100;

/**
 * Walks every slab class's LRU from tail to head, one pass after another with a back-off in
 * between, like memcached's autocrawler. `step()` does a bounded piece of work synchronously
 * (tests drive it with a ManualClock); `start()` runs steps from timers.
 */
export class LruCrawler {
  readonly #cache: Cache;
  readonly #classes: number;
  readonly #sliceMs: number;
  readonly #batch: number;
  readonly #minInterval: number;
  readonly #maxInterval: number;
  readonly #idleFactor: number;
  /** Items checked per class, for `stats items` (items:N:crawler_items_checked). */
  readonly checkedByClass: Float64Array;
  /** Passes finished since the crawler was made. */
  passes = 0;
  #inPass = false;
  /** The list being walked (lruOf(class, segment)): every segment of every class in turn. */
  #list = 0;
  /** Next item to look at on list #list, walking towards the head. */
  #cursor: ItemId = NONE;
  /** Hash and CAS of the cursor's item, to tell it from a new item in the same chunk. */
  #cursorHash = 0;
  #cursorCas = 0;
  /** The cursor's item was the head of its list when kept (so being the head is no sign of a bump). */
  #cursorWasHead = false;
  /** The walk of list #list has begun: a NONE cursor then means it reached the head. */
  #walking = false;
  #restarts = 0;
  #passReclaimed = 0;
  #passBusyMs = 0;
  #interval: number;
  #timeout: NodeJS.Timeout | null = null;
  #immediate: NodeJS.Immediate | null = null;
  #running = false;
  /** A flush point (cache.oldestLive) not yet reached, or NO_FLUSH. */
  #flushPoint = NO_FLUSH;
  #flushTimer: NodeJS.Timeout | null = null;

  constructor(cache: Cache, options: CrawlerOptions = {}) {
    this.#cache = cache;
    this.#classes = cache.slabs.geometry.sizes.length;
    // a quarter of a millisecond: a request that arrives during a slice waits for it, and
    // memcached's crawler, on its own thread, makes nobody wait
    this.#sliceMs = options.sliceMs ?? 0.25;
    this.#batch = options.batch ?? 128;
    this.#minInterval = options.minIntervalMs ?? 1000;
    this.#maxInterval = options.maxIntervalMs ?? 60_000;
    this.#idleFactor = options.idleFactor ?? 20;
    this.#interval = this.#minInterval;
    this.checkedByClass = new Float64Array(this.#classes);
  }

  /** True while a pass is under way (memcached's lru_crawler_running). */
  get crawling(): boolean {
    return this.#inPass;
  }

  /**
   * Look at up to `budget` items, starting a pass when none is under way; returns how many
   * were looked at. Fewer than `budget` means the pass ended within this step.
   */
  step(budget: number): number {
    if (budget <= 0) return 0;
    const cache = this.#cache;
    const lru = cache.lru;
    if (!this.#inPass) this.#beginPass();
    const now = cache.clock.now();
    // a cursor kept from an earlier step may have been freed or reused in between
    let verify = this.#cursor !== NONE;
    let checked = 0;
    while (checked < budget && this.#inPass) {
      const list = this.#list;
      const cls = list >>> 2;
      let id = this.#cursor;
      if (verify) {
        verify = false;
        const moved =
          !cache.links.isLinkedItemOfClass(id, cls) ||
          cache.items.hash(id) !== this.#cursorHash ||
          cache.itemCas(id) !== this.#cursorCas ||
          segmentOf(cache.itemIflags(id)) !== (list & 3) ||
          (lru.head[list] === id && !this.#cursorWasHead);
        if (moved) {
          // freed, reused or bumped to the head since: start the class over from its tail,
          // a few times at most per pass
          this.#cursor = NONE;
          this.#walking = false;
          if (++this.#restarts > MAX_RESTARTS) this.#nextList();
          continue;
        }
      }
      if (id === NONE) {
        if (this.#walking) {
          this.#nextList();
          continue;
        }
        this.#walking = true;
        id = lru.tail[list]!;
        if (id === NONE) {
          this.#nextList();
          continue;
        }
      }
      const prev = lru.prevOf(id);
      if (crawlItem(cache, id, now)) this.#passReclaimed++;
      this.checkedByClass[cls]!++;
      cache.classStats[cls]!.crawler_items_checked++;
      checked++;
      this.#cursor = prev;
    }
    if (this.#cursor !== NONE) {
      this.#cursorHash = cache.items.hash(this.#cursor);
      this.#cursorCas = cache.itemCas(this.#cursor);
      this.#cursorWasHead = lru.head[this.#list] === this.#cursor;
    }
    return checked;
  }

  /**
   * Run passes from timers until stop(). The first pass starts after minIntervalMs. While
   * running, each flush_all starts a fresh pass as soon as its flush point is reached, so the
   * flushed items leave curr_items within a pass's time rather than at the next back-off.
   */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#cache.onFlush = this.#flushed;
    this.#schedule(this.#minInterval);
  }

  /** Begin a pass now (`lru_crawler crawl`), unless one is under way. */
  kick(): void {
    if (!this.#running || this.#inPass) return;
    this.#schedule(0);
  }

  stop(): void {
    this.#running = false;
    if (this.#cache.onFlush === this.#flushed) this.#cache.onFlush = null;
    this.#clearTimers();
    this.#clearFlushTimer();
  }

  /** A flush_all set a new flush point: sweep once it is reached (now, or after its delay). */
  #flushed = (): void => {
    this.#flushPoint = this.#cache.oldestLive;
    this.#flushDue();
  };

  #flushDue = (): void => {
    this.#clearFlushTimer();
    if (!this.#running || this.#flushPoint === NO_FLUSH) return;
    const wait = this.#flushPoint - this.#cache.clock.now();
    if (wait > 0) {
      // look at the clock once a second, and every FLUSH_POLL_MS in the last second (the clock
      // may be moved by hand, or stepped)
      this.#flushTimer = setTimeout(this.#flushDue, wait > 1 ? 1000 : FLUSH_POLL_MS).unref();
      return;
    }
    this.#flushPoint = NO_FLUSH;
    // a pass under way has passed over items that are flushed now: start over from the first class
    this.#inPass = false;
    this.#schedule(0);
  };

  #clearFlushTimer(): void {
    if (this.#flushTimer !== null) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
  }

  #beginPass(): void {
    this.#inPass = true;
    this.#cache.stats.crawler_starts++;
    this.#list = SEGMENTS;
    this.#cursor = NONE;
    this.#walking = false;
    this.#restarts = 0;
    this.#passReclaimed = 0;
    this.#passBusyMs = 0;
  }

  #nextList(): void {
    this.#cursor = NONE;
    this.#walking = false;
    this.#restarts = 0;
    if (++this.#list >= this.#classes * SEGMENTS) {
      this.#inPass = false;
      this.passes++;
    }
  }

  /** One slice: steps until the pass ends or the slice's time is spent. */
  #slice = (): void => {
    this.#timeout = null;
    this.#immediate = null;
    if (!this.#running) return;
    const t0 = performance.now();
    let elapsed = 0;
    do {
      this.step(this.#batch);
      elapsed = performance.now() - t0;
    } while (this.#inPass && elapsed < this.#sliceMs);
    this.#passBusyMs += elapsed;
    if (this.#inPass) {
      // let I/O callbacks run before the next slice. Not unref'd: while only unref'd
      // immediates are pending, the event loop blocks in its poll for I/O or a timer (the
      // clock's 100 ms tick), so on a quiet server each slice waited up to 100 ms and sweeping
      // 50,000 flushed items took seconds. A pass ends, so this holds the process up no longer.
      this.#immediate = setImmediate(this.#slice);
      return;
    }
    // back off while passes find nothing, as memcached's autocrawler does per class
    this.#interval = this.#passReclaimed > 0 ? this.#minInterval : Math.min(this.#maxInterval, this.#interval * 2);
    this.#schedule(Math.max(this.#interval, this.#passBusyMs * this.#idleFactor));
  };

  #schedule(ms: number): void {
    this.#clearTimers();
    this.#timeout = setTimeout(this.#slice, ms).unref();
  }

  #clearTimers(): void {
    if (this.#timeout !== null) clearTimeout(this.#timeout);
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    this.#timeout = null;
    this.#immediate = null;
  }
}

/** No flush point waiting to be reached. */
const NO_FLUSH = 0;

/**
 * The crawler's look at one linked item, as memcached's crawler_expired_eval(): an expired
 * or flushed item is unlinked and counted in crawler_reclaimed, and in expired_unfetched
 * when it expired without ever being read. Returns true when the item was freed. Expiry is
 * not a change the change listener hears of.
 */
function crawlItem(cache: Cache, id: ItemId, now: number): boolean {
  const stats = cache.stats;
  stats.crawler_items_checked++;
  const flushed = cache.expiry.isFlushed(id, now);
  if (!flushed && !cache.expiry.isExpired(id, now)) return false;
  const cs = cache.classStats[cache.items.slabClass(id)]!;
  if (!flushed && (cache.items.iflags(id) & IF_FETCHED) === 0) {
    stats.expired_unfetched++;
    cs.expired_unfetched++;
  }
  stats.crawler_reclaimed++;
  cs.crawler_reclaimed++;
  cache.links.unlink(id);
  return true;
}
