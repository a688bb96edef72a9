// An in-process text-protocol session over a real Cache with a manual clock, fed through the
// same ReadBuffer the server uses, so tests can cut the input anywhere.
import { ManualClock } from '../../src/cache/clock.js';
import type { Cache } from '../../src/cache/cache.js';
import type { Config } from '../../src/config/config.js';
import { TextSession } from '../../src/protocol/text/session.js';
import { seededRandom } from '../support/random.js';
import { fakeContext, fakeServerInfo, Feeder, makeCache, makeConfig } from './fakes.js';

export interface Harness {
  cache: Cache;
  clock: ManualClock;
  config: Config;
  readonly closed: boolean;
  shutdowns: boolean[];
  /** Send bytes, cut into pieces at the given offsets; returns the reply bytes as latin1. */
  send(input: string | Buffer, cuts?: number[]): string;
}

export function textHarness(overrides: Partial<Config> = {}, clock = new ManualClock()): Harness {
  const config = makeConfig(overrides);
  const cache = makeCache(clock, config);
  const shutdowns: boolean[] = [];
  const ctx = fakeContext(cache, config, fakeServerInfo(config, shutdowns));
  const feeder = new Feeder(new TextSession(ctx), ctx);
  return {
    cache,
    clock,
    config,
    get closed() {
      return feeder.closed;
    },
    shutdowns,
    send(data, cuts = []) {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
      return feeder.feedSplit(bytes, cuts).toString('latin1');
    },
  };
}

/** Every way of cutting: whole, byte by byte, and `n` seeded random cut sets. */
export function cutPlans(length: number, n = 5, seed = 1): number[][] {
  const plans: number[][] = [[], Array.from({ length }, (_, i) => i)];
  const rand = seededRandom(seed);
  for (let i = 0; i < n; i++) {
    const k = 1 + Math.floor(rand() * 6);
    plans.push(Array.from({ length: k }, () => 1 + Math.floor(rand() * Math.max(1, length - 1))));
  }
  return plans;
}
