// A TextSession driven in-process: a real Cache on a ManualClock, a stub server, and a feeder
// that delivers input in whatever chunks a test picks, carrying unconsumed bytes the way the
// connection does.
import { ManualClock } from '../../src/cache/clock.js';
import { Cache } from '../../src/cache/store.js';
import { defaultConfig, type Config } from '../../src/config/config.js';
import { Output } from '../../src/protocol/output.js';
import { TextSession } from '../../src/protocol/text/session.js';
import { CLOSE, type ServerInfo, type SessionContext } from '../../src/protocol/types.js';

const server: ServerInfo = {
  pid: 1,
  startedAt: 0,
  currConnections: 1,
  totalConnections: 1,
  rejectedConnections: 0,
  connectionStructures: 1,
  bytesRead: 0,
  bytesWritten: 0,
  listenDisabledNum: 0,
  connYields: 0,
  idleKicks: 0,
  acceptingConns: true,
  connections: () => [],
  shutdown: () => {},
  extraStats: () => [],
  settingsStats: () => [],
  resetStats: () => {},
};

export function makeCache(clock: ManualClock, config: Config = defaultConfig()): Cache {
  return new Cache(
    {
      memoryLimit: config.memoryLimit,
      itemSizeMax: config.itemSizeMax,
      chunkSize: config.chunkSize,
      growthFactor: config.growthFactor,
      slabPageSize: config.slabPageSize,
      slabChunkMax: config.slabChunkMax,
      noEvict: config.noEvict,
      useCas: config.useCas,
    },
    clock,
  );
}

/** One client connection over a shared cache. */
export class Client {
  readonly session: TextSession;
  readonly ctx: SessionContext;
  #pending: Buffer = Buffer.alloc(0);
  closed = false;

  constructor(cache: Cache, config: Config = defaultConfig()) {
    this.ctx = { cache, config, server, out: new Output(), closeAfterWrite: false, lastCommandAt: 0 };
    this.session = new TextSession(this.ctx);
  }

  /** Feed one chunk; returns the reply bytes it produced. */
  feed(chunk: Buffer): Buffer {
    const buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const used = this.session.consume(buf, 0);
    if (used === CLOSE) {
      this.closed = true;
      this.#pending = Buffer.alloc(0);
    } else {
      // copy: the session may keep offsets only for the current call
      this.#pending = Buffer.from(buf.subarray(used));
    }
    const out = this.ctx.out.take();
    return out === null ? Buffer.alloc(0) : Buffer.from(out);
  }

  /** Feed `input` cut at the given offsets; returns all reply bytes. */
  feedSplit(input: Buffer, cuts: number[]): Buffer {
    const parts: Buffer[] = [];
    let at = 0;
    for (const c of [...cuts, input.length]) {
      if (c <= at) continue;
      parts.push(this.feed(input.subarray(at, c)));
      at = c;
    }
    return Buffer.concat(parts);
  }
}

export type Split = { name: string; cuts: (len: number) => number[] };

/** Whole, byte by byte, and three random cut patterns from a seeded generator. */
export function splits(seed: number): Split[] {
  let x = seed >>> 0 || 1;
  const rand = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
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
