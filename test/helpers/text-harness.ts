// An in-process text-protocol session over a real Cache with a manual clock, fed through the
// same ReadBuffer the server uses, so tests can cut the input anywhere.
import { ManualClock } from '../../src/cache/clock.js';
import type { Cache } from '../../src/cache/store.js';
import { defaultConfig, type Config } from '../../src/config/config.js';
import { createCache } from '../../src/daemon.js';
import { Output } from '../../src/protocol/output.js';
import { TextSession } from '../../src/protocol/text/session.js';
import { CLOSE, type ServerInfo, type SessionContext } from '../../src/protocol/types.js';
import { ReadBuffer } from '../../src/server/read-buffer.js';

export interface Harness {
  cache: Cache;
  clock: ManualClock;
  config: Config;
  closed: boolean;
  shutdowns: boolean[];
  /** Send bytes, cut into pieces at the given offsets; returns the reply bytes as latin1. */
  send(input: string | Buffer, cuts?: number[]): string;
}

export function textHarness(overrides: Partial<Config> = {}, clock = new ManualClock()): Harness {
  const config: Config = { ...defaultConfig(), ...overrides };
  const cache = createCache(config, clock);
  const shutdowns: boolean[] = [];
  const server: ServerInfo = {
    pid: 1,
    startedAt: clock.now(),
    currConnections: 1,
    totalConnections: 1,
    rejectedConnections: 0,
    connectionStructures: 2,
    bytesRead: 0,
    bytesWritten: 0,
    listenDisabledNum: 0,
    connYields: 0,
    idleKicks: 0,
    acceptingConns: true,
    connections: () => [],
    shutdown: (graceful) => void shutdowns.push(graceful),
    extraStats: () => [],
    settingsStats: () => [['maxbytes', String(config.memoryLimit)]],
    resetStats: () => {},
  };
  const out = new Output();
  const ctx: SessionContext = { cache, config, server, out, closeAfterWrite: false, lastCommandAt: 0 };
  const session = new TextSession(ctx);
  const input = new ReadBuffer();
  const h: Harness = {
    cache,
    clock,
    config,
    closed: false,
    shutdowns,
    send(data, cuts = []) {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
      const points = [...cuts.filter((c) => c > 0 && c < bytes.length), bytes.length].sort((a, b) => a - b);
      let from = 0;
      let reply = '';
      for (const to of points) {
        if (h.closed || to === from) continue;
        // a fresh copy per piece, as a socket delivers a new Buffer each time
        const piece = Buffer.from(bytes.subarray(from, to));
        from = to;
        const consume = (b: Buffer): number => session.consume(b, 0);
        const want = (): number => session.wantBytes;
        let r = input.feed(piece, consume, want);
        // as the connection does: when the session yielded on a full output, take the batch
        // and go on with the requests already held
        for (;;) {
          const yielded = r !== CLOSE && out.full && input.length > 0;
          const taken = out.take();
          if (taken) reply += taken.toString('latin1');
          if (!yielded) break;
          r = input.resume(consume, want);
        }
        if (r === CLOSE) h.closed = true;
      }
      return reply;
    },
  };
  return h;
}

/** Every way of cutting: whole, byte by byte, and `n` seeded random cut sets. */
export function cutPlans(length: number, n = 5, seed = 1): number[][] {
  const plans: number[][] = [[], Array.from({ length }, (_, i) => i)];
  let x = seed >>> 0 || 1;
  const rand = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
  for (let i = 0; i < n; i++) {
    const k = 1 + Math.floor(rand() * 6);
    plans.push(Array.from({ length: k }, () => 1 + Math.floor(rand() * Math.max(1, length - 1))));
  }
  return plans;
}
