// Shared in-process test doubles: a stub server view, a session context over a real Cache,
// and a feeder that drives any protocol session through the server's own ReadBuffer.
import { ManualClock } from '../../src/cache/clock.js';
import type { Cache, CacheOptions } from '../../src/cache/cache.js';
import { defaultConfig, type Config } from '../../src/config/config.js';
import { createCache } from '../../src/daemon.js';
import { Output } from '../../src/protocol/output.js';
import { CLOSE, type ServerInfo, type Session, type SessionContext } from '../../src/protocol/types.js';
import { ReadBuffer } from '../../src/server/read-buffer.js';

/** A server view with fixed counters; `shutdowns` records shutdown requests. */
export function fakeServerInfo(config: Config, shutdowns: boolean[] = []): ServerInfo {
  return {
    pid: 4242,
    startedAt: 1_700_000_000,
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
}

export function fakeContext(cache: Cache, config: Config, server = fakeServerInfo(config)): SessionContext {
  return { cache, config, server, out: new Output(), closeAfterWrite: false, lastCommandAt: 0, requestBudget: Number.POSITIVE_INFINITY };
}

export function makeConfig(overrides: Partial<Config> = {}): Config {
  return { ...defaultConfig(), ...overrides };
}

export function makeCache(clock = new ManualClock(), config: Config = defaultConfig()): Cache {
  return createCache(config, clock);
}

/** Feeds a session the way a connection does: chunks through a ReadBuffer, replies taken after each. */
export class Feeder {
  readonly #input = new ReadBuffer();
  closed = false;

  constructor(
    readonly session: Session,
    readonly ctx: SessionContext,
  ) {}

  /** One chunk in; the reply bytes it produced out. */
  feed(chunk: Buffer): Buffer {
    if (this.closed) return Buffer.alloc(0);
    // a fresh copy per chunk, as a socket delivers a new Buffer each time
    const consume = (b: Buffer): number => this.session.consume(b, 0);
    const want = (): number => this.session.wantBytes;
    const out = this.ctx.out;
    const replies: Buffer[] = [];
    this.ctx.requestBudget = Number.POSITIVE_INFINITY;
    let r = this.#input.feed(Buffer.from(chunk), consume, want);
    // as the connection does: when the session yielded on a full output or used up its turn
    // (a dump sent in slices), take the batch and go on with the requests already held
    for (;;) {
      const yielded = r !== CLOSE && (out.full || this.ctx.requestBudget <= 0) && this.#input.length > 0;
      if (out.hasParts) {
        // values sent from their chunks (Output#pinValue): copied out here, then unpinned
        for (const part of out.takeParts()) replies.push(Buffer.from(part));
        for (const id of out.takePins()) this.ctx.cache.unpin(id);
      } else {
        const taken = out.take();
        if (taken) replies.push(Buffer.from(taken));
      }
      if (!yielded) break;
      this.ctx.requestBudget = Number.POSITIVE_INFINITY;
      r = this.#input.resume(consume, want);
    }
    if (r === CLOSE) this.closed = true;
    return Buffer.concat(replies);
  }

  /** `input` cut at the given offsets; all reply bytes. */
  feedSplit(input: Buffer, cuts: number[]): Buffer {
    const points = [...new Set(cuts.filter((c) => c > 0 && c < input.length))].sort((a, b) => a - b);
    const parts: Buffer[] = [];
    let at = 0;
    for (const c of [...points, input.length]) {
      if (c <= at) continue;
      parts.push(this.feed(input.subarray(at, c)));
      at = c;
    }
    return Buffer.concat(parts);
  }
}

/** Cache options with memcached's defaults (64 MiB, -I 1m, -n 48, -f 1.25), overridable. */
export function cacheOptions(o: Partial<CacheOptions> = {}): CacheOptions {
  const MB = 1024 * 1024;
  return {
    memoryLimit: 64 * MB,
    itemSizeMax: MB,
    chunkSize: 48,
    growthFactor: 1.25,
    slabPageSize: MB,
    slabChunkMax: MB / 2,
    noEvict: false,
    useCas: true,
    ...o,
  };
}
