// A TextSession driven in-process: a real Cache on a ManualClock, a stub server, and a feeder
// that delivers input in whatever chunks a test picks, carrying unconsumed bytes the way the
// connection does.
import type { Cache } from '../../src/cache/cache.js';
import { defaultConfig, type Config } from '../../src/config/config.js';
import { TextSession } from '../../src/protocol/text/session.js';
import type { SessionContext } from '../../src/protocol/types.js';
import { fakeContext, Feeder } from '../helpers/fakes.js';
import { seededRandom } from '../support/random.js';

export { makeCache } from '../helpers/fakes.js';

/** One client connection over a shared cache. */
export class Client {
  readonly session: TextSession;
  readonly ctx: SessionContext;
  readonly #feeder: Feeder;

  constructor(cache: Cache, config: Config = defaultConfig()) {
    this.ctx = fakeContext(cache, config);
    this.session = new TextSession(this.ctx);
    this.#feeder = new Feeder(this.session, this.ctx);
  }

  get closed(): boolean {
    return this.#feeder.closed;
  }

  feed(chunk: Buffer): Buffer {
    return this.#feeder.feed(chunk);
  }

  feedSplit(input: Buffer, cuts: number[]): Buffer {
    return this.#feeder.feedSplit(input, cuts);
  }
}

export type Split = { name: string; cuts: (len: number) => number[] };

/** Whole, byte by byte, and three random cut patterns from a seeded generator. */
export function splits(seed: number): Split[] {
  const rand = seededRandom(seed);
  const random = (len: number): number[] => {
    const n = 1 + Math.floor(rand() * 6);
    return Array.from({ length: n }, () => Math.floor(rand() * len)).sort((a, b) => a - b);
  };
  return [
    { name: 'whole', cuts: () => [] },
    { name: 'byte by byte', cuts: (len) => Array.from({ length: len }, (_, i) => i + 1) },
    ...[1, 2, 3].map((k) => {
      const memo = new Map<number, number[]>();
      return {
        name: `random cuts #${k}`,
        cuts: (len: number) => {
          if (!memo.has(len)) memo.set(len, random(len));
          return memo.get(len)!;
        },
      };
    }),
  ];
}

export const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
export const text = (b: Buffer): string => b.toString('latin1');
