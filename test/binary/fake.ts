// Test helpers: a binary session in-process over a Cache with a manual clock and a fake
// SessionContext, fed the way the connection feeds it (unconsumed bytes carried over).
import { ManualClock } from '../../src/cache/clock.js';
import type { Cache } from '../../src/cache/cache.js';
import type { Config } from '../../src/config/config.js';
import { BinarySession } from '../../src/protocol/binary/session.js';
import { fakeContext, Feeder, makeCache, makeConfig } from '../helpers/fakes.js';
import { seededRandom } from '../support/random.js';
import { parsePackets, type Packet } from './wire.js';

export interface Fake {
  clock: ManualClock;
  cache: Cache;
  config: Config;
  session: BinarySession;
  /** Feed chunks; returns the reply bytes produced and whether the session asked to close. */
  feed(chunks: Buffer[]): { bytes: Buffer; closed: boolean };
  /** Feed one buffer whole and parse the replies. */
  send(b: Buffer): { packets: Packet[]; closed: boolean };
}

export function fake(overrides: Partial<Config> = {}, clock = new ManualClock()): Fake {
  const config = makeConfig({ memoryLimit: 8 * 1024 * 1024, ...overrides });
  const cache = makeCache(clock, config);
  const ctx = fakeContext(cache, config);
  const session = new BinarySession(ctx);
  const feeder = new Feeder(session, ctx);
  const feed = (chunks: Buffer[]): { bytes: Buffer; closed: boolean } => {
    const replies = chunks.map((c) => feeder.feed(c));
    return { bytes: Buffer.concat(replies), closed: feeder.closed };
  };
  return {
    clock,
    cache,
    config,
    session,
    feed,
    send(b) {
      const r = feed([b]);
      return { packets: parsePackets(r.bytes).packets, closed: r.closed };
    },
  };
}

/** The same bytes as one chunk, as single bytes, and cut at random points. */
export function splits(b: Buffer, seed = 1): Array<[string, Buffer[]]> {
  const bytes: Buffer[] = [];
  for (let i = 0; i < b.length; i++) bytes.push(b.subarray(i, i + 1));
  const rnd = seededRandom(seed);
  const random: Buffer[] = [];
  for (let i = 0; i < b.length; ) {
    const n = 1 + Math.floor(rnd() * 40);
    random.push(b.subarray(i, i + n));
    i += n;
  }
  return [
    ['whole', [b]],
    ['byte by byte', bytes],
    [`random cuts (seed ${seed})`, random],
  ];
}
