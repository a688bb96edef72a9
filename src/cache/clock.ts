// The one source of time for the cache: whole unix seconds, injectable so tests never sleep.

export interface Clock {
  /** Current unix time in whole seconds. */
  now(): number;
}

export const systemClock: Clock = {
  now: () => Math.floor(Date.now() / 1000),
};

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
