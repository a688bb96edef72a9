// `lru_crawler metadump` and `stats cachedump` sent in slices. memcached streams a metadump
// from its crawler thread; here one slice of lines is written per turn of the event loop,
// then the handler yields (session.ts keeps its line unconsumed and calls it again), so
// other clients are served in between, and a client that does not read its dump stops the
// dump instead of filling the heap: the connection resumes the session only once the
// socket has taken the slice (connection.ts, `#blocked` and 'drain').
//
// The walk is robust to what other clients do between slices: the ids of a class are taken
// at once when the dump reaches the class (LRU order, head to tail, as a dump in one go
// lists them), and each is checked to be still a linked item of that class when its turn
// comes. An item freed in between is skipped; a chunk reused by a new item shows the new
// item (an item added during the dump, in place of one deleted during it); an item bumped or
// added in between is not listed twice, because the list of ids does not change.
import { performance } from 'node:perf_hooks';
import type { CacheApi, ItemId } from '../../cache/api.js';
import { COLD, HOT, lruOf, WARM } from '../../cache/lru-segment.js';
import { YIELD, type DumpInProgress, type TextState } from './handler.js';
import { R } from './replies.js';

/** Reply bytes one slice writes before it yields (the socket takes them in one write). */
export const SLICE_BYTES = 64 * 1024;
/** Longest a slice may run, in milliseconds (one large class's ids are taken in one go). */
const SLICE_MS = 2;
/** Lines between two looks at the clock. */
const CLOCK_EVERY = 64;
/** memcached's item_cachedump(): a reply of at most 2 MiB, END included. */
const CACHEDUMP_MEMLIMIT = 2 * 1024 * 1024;
/** The shortest cachedump line: `ITEM k [0 b; 0 s]\r\n`. */
const CACHEDUMP_MIN_LINE = 19;

/** A dump under way on one connection: which classes are left and where it is in the current one. */
export class TextDump implements DumpInProgress {
  readonly #cache: CacheApi;
  readonly #classes: readonly number[];
  /** `stats cachedump`: lines at most (0: no limit); metadump: -1. */
  readonly #limit: number;
  #classAt = 0;
  /** The current class's ids, taken when the dump reached it; the first #count are valid. */
  #ids: Uint32Array = new Uint32Array(0);
  #count = 0;
  #at = 0;
  #started = false;
  /** cachedump: lines and bytes sent so far. */
  #shown = 0;
  #bytes = 0;
  readonly #key = Buffer.allocUnsafe(256);

  private constructor(cache: CacheApi, classes: readonly number[], limit: number) {
    this.#cache = cache;
    this.#classes = classes;
    this.#limit = limit;
  }

  /** `lru_crawler metadump <classes>`: the classes are valid ids. */
  static metadump(cache: CacheApi, classes: readonly number[]): TextDump {
    return new TextDump(cache, classes, -1);
  }

  /** `stats cachedump <class> <limit>`: `cls` may be a class that does not exist (then only END). */
  static cachedump(cache: CacheApi, cls: number, limit: number): TextDump {
    const exists = cls < cache.slabs.geometry.sizes.length;
    return new TextDump(cache, exists ? [cls] : [], limit);
  }

  /**
   * Write the next slice. Returns true when the dump is done (END written): otherwise the
   * caller yields and calls again on a later turn.
   */
  slice(s: TextState): boolean {
    const out = s.out;
    const began = performance.now();
    const stopAt = out.pending + SLICE_BYTES;
    let lines = 0;
    while (this.#classAt < this.#classes.length) {
      const cls = this.#classes[this.#classAt]!;
      if (!this.#started) this.#takeIds(cls);
      const now = this.#cache.clock.now();
      while (this.#at < this.#count) {
        if (out.pending >= stopAt) return false;
        if (++lines % CLOCK_EVERY === 0 && performance.now() - began > SLICE_MS) return false;
        const id = this.#ids[this.#at++]!;
        if (!this.#cache.isLinkedItemOfClass(id, cls)) continue;
        if (this.#limit < 0) this.#metaLine(s, id, cls, now);
        else if (!this.#cacheLine(s, id)) {
          this.#at = this.#count;
          break;
        }
      }
      this.#classAt++;
      this.#started = false;
    }
    this.#ids = new Uint32Array(0);
    out.raw(R.END);
    return true;
  }

  /**
   * The ids of class `cls`, as many as this dump can show: a metadump takes all its lists, a
   * cachedump only COLD, head to tail (memcached's item_cachedump reads heads[id | COLD_LRU]).
   */
  #takeIds(cls: number): void {
    const cache = this.#cache;
    const size = cache.lru.size;
    const cold = lruOf(cls, COLD);
    let n = this.#limit >= 0 ? size[cold]! : size[lruOf(cls, HOT)]! + size[lruOf(cls, WARM)]! + size[cold]!;
    if (this.#limit >= 0) {
      // a cachedump shows at most `limit` lines of at most 2 MiB in all
      n = Math.min(n, Math.ceil(CACHEDUMP_MEMLIMIT / CACHEDUMP_MIN_LINE));
      if (this.#limit > 0) n = Math.min(n, this.#limit);
    }
    if (this.#ids.length < n) this.#ids = new Uint32Array(n);
    const into = this.#ids.subarray(0, n);
    this.#count = n === 0 ? 0 : this.#limit >= 0 ? cache.idsOfList(cold, into) : cache.idsOfClass(cls, into);
    this.#at = 0;
    this.#started = true;
  }

  /** A metadump line, as memcached's crawler_metadump_eval() writes it; expired items are left out. */
  #metaLine(s: TextState, id: ItemId, cls: number, now: number): void {
    const cache = this.#cache;
    if (cache.isExpired(id, now) || cache.isFlushed(id, now)) return;
    const klen = cache.copyKey(id, this.#key, 0);
    const exp = cache.itemExptime(id);
    const fetched = (cache.itemIflags(id) & 2) !== 0 ? 'yes' : 'no';
    s.out.ascii(
      `key=${uriEncode(this.#key, klen)} exp=${exp === 0 ? -1 : exp} la=${cache.itemTime(id)} cas=${cache.itemCas(id)} fetch=${fetched} cls=${cls} size=${cache.itemSize(id)}\n`,
    );
  }

  /** A cachedump line, or false when the limit or the 2 MiB cap is reached (memcached's item_cachedump()). */
  #cacheLine(s: TextState, id: ItemId): boolean {
    const cache = this.#cache;
    if (this.#limit !== 0 && this.#shown >= this.#limit) return false;
    const klen = cache.copyKey(id, this.#key, 0);
    const line = `ITEM ${this.#key.toString('latin1', 0, klen)} [${cache.itemValueLength(id)} b; ${cache.itemExptime(id)} s]\r\n`;
    if (this.#bytes + line.length + 6 > CACHEDUMP_MEMLIMIT) return false;
    s.out.ascii(line);
    this.#bytes += line.length;
    this.#shown++;
    return true;
  }
}

/**
 * Run the session's dump for one slice: `next` when it is done, else YIELD with this turn's
 * request budget used up, so the connection writes the slice and comes back on a later turn
 * (after 'drain' when the socket did not take it all).
 */
export function continueDump(s: TextState, next: number): number {
  const dump = s.dump!;
  if (dump.slice(s)) {
    s.dump = null;
    return next;
  }
  s.ctx.requestBudget = 0;
  return YIELD;
}

/** memcached's uriencode(): everything but letters, digits and -._~ as %XX. */
function uriEncode(key: Buffer, len: number): string {
  let out = '';
  for (let i = 0; i < len; i++) {
    const c = key[i]!;
    const plain = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
    out += plain ? String.fromCharCode(c) : `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
