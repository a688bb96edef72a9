// The one source of time for the cache: whole unix seconds, injectable so tests never sleep.

export interface Clock {
  /** Current unix time in whole seconds. */
  now(): number;
}

/**
 * Wall-clock seconds, read from a value a timer refreshes ten times a second rather than
 * from Date.now() on every request (memcached likewise ticks its current_time by timer).
 */
class TickingClock implements Clock {
  #t = Math.floor(Date.now() / 1000);
  #timer: NodeJS.Timeout | null = null;

  now(): number {
    if (this.#timer === null) this.#startTicking();
    return this.#t;
  }

  // Not inlined in now(): a function that makes a closure over `this` allocates a context on
  // every call, even when the branch that makes it is not taken (about 40 bytes per read of
  // the clock, two or three reads per key looked up).
  #startTicking(): void {
    this.#timer = setInterval(() => {
      this.#t = Math.floor(Date.now() / 1000);
    }, 100);
    this.#timer.unref();
    this.#t = Math.floor(Date.now() / 1000);
  }
}

export const systemClock: Clock = new TickingClock();

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  #t: number;
  constructor(start = 1_700_000_000) {
    this.#t = start;
  }
  now(): number {
    return this.#t;
  }
  advance(seconds: number): void {
    this.#t += seconds;
  }
  set(t: number): void {
    this.#t = t;
  }
}
