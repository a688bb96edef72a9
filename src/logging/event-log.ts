// The daemon's event stream for `watch` clients (memcached's logger.c): every part that has
// something to report tests `flags` first, a field that is 0 while no watcher asked for that
// kind, so with no watchers an event costs one test and builds nothing. Lines carry
// memcached's `ts=SEC.USEC gid=N ` head; gid counts events (and added watchers) from 1.
import { CONNEVENTS, EVICTIONS, FETCHERS, MUTATIONS, SYSEVENTS } from './event-flags.js';
import {
  connCloseLine,
  connNewLine,
  evictionLine,
  itemGetLine,
  itemStoreLine,
  slabMoveLine,
  uriEncode,
  type CloseReason,
  type GetStatus,
  type Peer,
  type StoreStatus,
} from './event-lines.js';
import { Watcher, type WatchSink } from './watcher.js';

/** memcached's WATCHER_LIMIT. */
export const WATCHER_LIMIT = 20;
/** memcached's LOGGER_WATCHER_BUF_SIZE (watcher_logbuf_size in `stats settings`). */
export const WATCHER_BUFFER = 256 * 1024;

/** Wall-clock microseconds (gettimeofday). */
function wallMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** Counters `stats` reports as log_*. */
export class LogStats {
  /** Events rendered (memcached's log_worker_written). */
  written = 0;
  /** Lines dropped for watchers that were behind. */
  skipped = 0;
  /** Lines handed to watchers. */
  sent = 0;
}

export class EventLog {
  /** The union of what the watchers asked for: test it before building an event. */
  flags = 0;
  readonly stats = new LogStats();
  readonly #watchers: Watcher[] = [];
  readonly #now: () => number;
  readonly #budget: number;
  #gid = 0;

  constructor(options: { now?: () => number; budget?: number } = {}) {
    this.#now = options.now ?? wallMicros;
    this.#budget = options.budget ?? WATCHER_BUFFER;
  }

  get watchers(): number {
    return this.#watchers.length;
  }

  /** Start sending `flags` events to `sink`; false when WATCHER_LIMIT watchers are on already. */
  addWatcher(sink: WatchSink, flags: number): boolean {
    if (this.#watchers.length >= WATCHER_LIMIT) return false;
    this.#gid++; // memcached takes a gid for the watcher's starting point
    this.#watchers.push(new Watcher(sink, flags, this.#budget));
    this.#setFlags();
    return true;
  }

  removeWatcher(sink: WatchSink): void {
    const i = this.#watchers.findIndex((w) => w.sink === sink);
    if (i < 0) return;
    this.#watchers.splice(i, 1);
    this.#setFlags();
  }

  /** A key lookup: `key` as sent, `clsid`/`size` of the item found (0 when none). */
  itemGet(status: GetStatus, key: Uint8Array, kOff: number, kLen: number, clsid: number, size: number, cfd: number): void {
    if ((this.flags & FETCHERS) === 0) return;
    this.#emit(FETCHERS, itemGetLine(status, uriEncode(key, kOff, kLen), clsid, cfd, size));
  }

  /**
   * A store: `cmd` is memcached's NREAD_* number, `ttl` the seconds left (0: none), `clsid` and
   * `size` those of the item the store made (whether it was linked or not).
   */
  itemStore(status: StoreStatus, cmd: number, key: Uint8Array, kOff: number, kLen: number, ttl: number, clsid: number, size: number, cfd: number): void {
    if ((this.flags & MUTATIONS) === 0) return;
    this.#emit(MUTATIONS, itemStoreLine(status, cmd, uriEncode(key, kOff, kLen), ttl, clsid, cfd, size));
  }

  eviction(key: Uint8Array, kOff: number, kLen: number, fetched: boolean, ttl: number, la: number, clsid: number, size: number): void {
    if ((this.flags & EVICTIONS) === 0) return;
    this.#emit(EVICTIONS, evictionLine(uriEncode(key, kOff, kLen), fetched, ttl, la, clsid, size));
  }

  connNew(peer: Peer, cfd: number): void {
    if ((this.flags & CONNEVENTS) === 0) return;
    this.#emit(CONNEVENTS, connNewLine(peer, cfd));
  }

  connClose(peer: Peer, reason: CloseReason, cfd: number): void {
    if ((this.flags & CONNEVENTS) === 0) return;
    this.#emit(CONNEVENTS, connCloseLine(peer, reason, cfd));
  }

  slabMove(src: number, dst: number): void {
    if ((this.flags & SYSEVENTS) === 0) return;
    this.#emit(SYSEVENTS, slabMoveLine(src, dst));
  }

  #emit(flag: number, body: string): void {
    const us = this.#now();
    const line = `ts=${Math.floor(us / 1e6)}.${us % 1e6} gid=${++this.#gid} ${body}`;
    const st = this.stats;
    st.written++;
    for (const w of this.#watchers) {
      if ((w.flags & flag) === 0) continue;
      if (w.offer(line)) st.sent++;
      else st.skipped++;
    }
  }

  #setFlags(): void {
    let f = 0;
    for (const w of this.#watchers) f |= w.flags;
    this.flags = f;
  }
}

/** The log of a server without watchers (in-process sessions with no server around them). */
export const NO_EVENTS = new EventLog();
