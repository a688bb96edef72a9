// Test helpers: a binary session in-process over a Cache with a manual clock and a fake
// SessionContext, fed the way the connection feeds it (unconsumed bytes carried over).
import { ManualClock } from '../../src/cache/clock.js';
import { Cache } from '../../src/cache/store.js';
import { defaultConfig, type Config } from '../../src/config/config.js';
import { BinarySession } from '../../src/protocol/binary/session.js';
import { Output } from '../../src/protocol/output.js';
import { CLOSE, type ServerInfo, type SessionContext } from '../../src/protocol/types.js';
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

export function fakeServer(): ServerInfo {
  return {
    pid: 4242,
    startedAt: 1_700_000_000,
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
    settingsStats: () => [['maxbytes', '67108864']],
    resetStats: () => {},
  };
}

export function fake(overrides: Partial<Config> = {}, clock = new ManualClock()): Fake {
  const config = { ...defaultConfig(), memoryLimit: 8 * 1024 * 1024, ...overrides };
  const cache = new Cache(
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
  const out = new Output();
  const ctx: SessionContext = { cache, config, server: fakeServer(), out, closeAfterWrite: false, lastCommandAt: 0 };
  const session = new BinarySession(ctx);
  let pending = Buffer.alloc(0);
  let closed = false;
  const feed = (chunks: Buffer[]): { bytes: Buffer; closed: boolean } => {
    const replies: Buffer[] = [];
    for (const chunk of chunks) {
      if (closed) break;
      const buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const r = session.consume(buf, 0);
      const taken = out.take();
      if (taken) replies.push(Buffer.from(taken));
      if (r === CLOSE) {
        closed = true;
        break;
      }
      pending = Buffer.from(buf.subarray(r));
    }
    return { bytes: Buffer.concat(replies), closed };
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

/** A deterministic PRNG for split points. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

/** The same bytes as one chunk, as single bytes, and cut at random points. */
export function splits(b: Buffer, seed = 1): Array<[string, Buffer[]]> {
  const bytes: Buffer[] = [];
  for (let i = 0; i < b.length; i++) bytes.push(b.subarray(i, i + 1));
  const rnd = prng(seed);
  const random: Buffer[] = [];
  for (let i = 0; i < b.length; ) {
    const n = 1 + Math.floor(rnd() * 40);
    random.push(b.subarray(i, i + n));
    i += n;
  }
  return [
    ['whole', [b]],
    ['byte by byte', bytes],
    ['random cuts', random],
  ];
}
