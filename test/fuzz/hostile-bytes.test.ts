// Hostile input never crashes the daemon, never escapes as an internal error, and never
// corrupts an item: random bytes, truncated binary headers, lengths that lie, control
// characters in keys, overflowing numbers, invalid UTF-8, text that turns into binary.
// Runs ~3 s by default; FUZZ_SECONDS=60 runs longer, FUZZ_SEED=<n> replays another seed (the
// default is 12345; the test name shows it). Plus an in-process property that no
// session throws on any input.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/cache/clock.js';
import { defaultConfig } from '../../src/config/config.js';
import { createCache } from '../../src/daemon.js';
import { BinarySession } from '../../src/protocol/binary/session.js';
import { Output } from '../../src/protocol/output.js';
import { TextSession } from '../../src/protocol/text/session.js';
import { CLOSE, type Session, type SessionContext } from '../../src/protocol/types.js';
import { ReadBuffer } from '../../src/server/read-buffer.js';
import { Connection } from '../../src/server/connection.js';
import { startDaemonProcess } from '../support/daemon-process.js';
import type { RunningServer } from '../support/port-file-server.js';
import { fuzzSeed, seededRandom, type Random } from '../support/random.js';
import { Collector, connect, request } from '../support/raw-client.js';

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 3);

function binHeader(opcode: number, keyLen: number, extLen: number, bodyLen: number): Buffer {
  const h = Buffer.alloc(24);
  h[0] = 0x80;
  h[1] = opcode;
  h.writeUInt16BE(keyLen & 0xffff, 2);
  h[4] = extLen & 0xff;
  h.writeUInt32BE(bodyLen >>> 0, 8);
  return h;
}

/** One hostile payload from a seeded generator. */
function hostile(rand: Random): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  const big = pick(['18446744073709551616', '99999999999999999999999', '-1', '4294967296', '2147483647', '1e9', '0x10', '']);
  switch (Math.floor(rand() * 10)) {
    case 0:
      return bytes(1 + Math.floor(rand() * 4000));
    case 1: // truncated binary header
      return binHeader(Math.floor(rand() * 256), 5, 8, 20).subarray(0, Math.floor(rand() * 24));
    case 2: { // lengths that lie
      const h = binHeader(pick([0x00, 0x01, 0x02, 0x05, 0x0e, 0x10, 0x1c, 0x21, 0x1d]), Math.floor(rand() * 70000), Math.floor(rand() * 256), Math.floor(rand() * 0xffffffff));
      return Buffer.concat([h, bytes(Math.floor(rand() * 300))]);
    }
    case 3: // keys with control characters
      return Buffer.concat([Buffer.from(`set fz:${'\u0001\u0002\u007f\t'.slice(0, 1 + Math.floor(rand() * 4))} 0 0 3\r\nabc\r\nget fz:\u0001\r\n`, 'latin1')]);
    case 4: // numbers that overflow
      return Buffer.from(`${pick(['set', 'add', 'cas', 'incr', 'decr', 'touch', 'gat', 'flush_all', 'verbosity', 'ms', 'ma', 'mg'])} fz:n ${big} ${big} ${big} ${big}\r\n`, 'latin1');
    case 5: // invalid UTF-8 in keys and values
      return Buffer.concat([Buffer.from('set fz:\xc3\x28 0 0 4\r\n', 'latin1'), Buffer.from([0xf0, 0x28, 0x8c, 0xbc]), Buffer.from('\r\nmg fz:\xff v\r\n', 'latin1')]);
    case 6: // starts text, continues binary
      return Buffer.concat([Buffer.from('get fz:a', 'latin1'), binHeader(0x00, 1, 0, 1), Buffer.from('k\r\n')]);
    case 7: // a value block that lies about its size
      return Buffer.from(`set fz:l 0 0 ${pick(['5', '1048576', '2000000', '0'])}\r\nab\r\n${pick(['', 'get fz:l\r\n', 'x'.repeat(3000)])}`, 'latin1');
    case 8: // meta commands with junk flags
      return Buffer.from(`${pick(['mg', 'ms', 'md', 'ma', 'mn', 'me'])} fz:${pick(['a', '', 'x'.repeat(300)])} ${pick(['v', 'T-1', 'N' + big, 'O' + 'x'.repeat(40), 'b', 'MZ', 'S' + big, '2 T5'])} ${pick(['q', 'k', 'c', 'zz'])}\r\nab\r\n`, 'latin1');
    default: // binary first byte then text
      return Buffer.concat([Buffer.from([0x80]), Buffer.from('set fz:z 0 0 1\r\nz\r\n')]);
  }
}

/** A value whose last 40 bytes are the SHA-1 of the rest, so corruption is visible. */
export function checkedValue(i: number, size: number): string {
  const body = `${i}:`.padEnd(size - 40, String.fromCharCode(97 + (i % 26)));
  return body + createHash('sha1').update(body).digest('hex');
}

export function valueIsIntact(v: string): boolean {
  return createHash('sha1').update(v.slice(0, -40)).digest('hex') === v.slice(-40);
}

describe('hostile bytes against a daemon process', () => {
  let d: RunningServer;
  beforeAll(async () => {
    d = await startDaemonProcess();
  });
  afterAll(async () => {
    await d.stop();
  });

  const seed = fuzzSeed('hostile bytes against a daemon process', 12345);
  it(`survives ${SECONDS} s of hostile connections and keeps every item intact (seed ${seed})`, async () => {
    const keys = 50;
    for (let i = 0; i < keys; i++) {
      const v = checkedValue(i, 100 + i * 97);
      expect(await request(d.port, `set vk:${i} 0 0 ${v.length}\r\n${v}\r\n`, (t) => t.endsWith('\r\n'))).toBe('STORED\r\n');
    }
    const rand = seededRandom(seed);
    const deadline = Date.now() + SECONDS * 1000;
    let sent = 0;
    while (Date.now() < deadline && sent < 1_000_000) {
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const s = await connect(d.port);
          const c = new Collector(s);
          const parts = 1 + Math.floor(rand() * 4);
          for (let i = 0; i < parts && !c.closed; i++) {
            s.write(hostile(rand));
            sent++;
          }
          if (rand() < 0.5) s.destroy(); // abrupt, maybe mid-value
          else {
            s.end();
            await c.closedWithin(300);
            s.destroy();
          }
        }),
      );
    }
    expect(sent).toBeGreaterThan(0);
    // still answering, nothing escaped, every verifier item intact
    expect(await request(d.port, 'version\r\n', (t) => t.endsWith('\r\n'))).toMatch(/^VERSION /);
    const got = await request(d.port, `get${Array.from({ length: keys }, (_, i) => ` vk:${i}`).join('')}\r\n`, (t) => t.endsWith('END\r\n'));
    const values = [...got.matchAll(/VALUE vk:(\d+) 0 (\d+)\r\n/g)];
    expect(values.length).toBe(keys);
    let at = 0;
    for (const m of values) {
      const start = got.indexOf(m[0], at) + m[0].length;
      const v = got.slice(start, start + Number(m[2]));
      expect(valueIsIntact(v), `vk:${m[1]}`).toBe(true);
      at = start;
    }
    expect(d.stderr()).not.toMatch(/internal error|fatal/);
  }, 30_000 + SECONDS * 1000);
});

describe('no session throws on any input (in-process)', () => {
  const make = (binary: boolean): { session: Session; input: ReadBuffer; out: Output } => {
    const config = { ...defaultConfig(), itemSizeMax: 64 * 1024, memoryLimit: 8 * 1024 * 1024 };
    const clock = new ManualClock();
    const cache = createCache(config, clock);
    const out = new Output();
    const server = { connections: () => [], extraStats: () => [], settingsStats: () => [], shutdown: () => {}, resetStats: () => {} } as unknown as SessionContext['server'];
    const ctx: SessionContext = { cache, config, server, out, closeAfterWrite: false, lastCommandAt: 0, requestBudget: Number.POSITIVE_INFINITY };
    return { session: binary ? new BinarySession(ctx) : new TextSession(ctx), input: new ReadBuffer(Connection.inputLimit(config.itemSizeMax)), out };
  };
  const chunk = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    fc.integer({ min: 0, max: 2 ** 31 }).map((seed) => hostile(seededRandom(seed))),
  );
  for (const binary of [false, true]) {
    it(`${binary ? 'binary' : 'text'}: random chunks are answered or closed, never thrown`, () => {
      fc.assert(
        fc.property(fc.array(chunk, { minLength: 1, maxLength: 12 }), (chunks) => {
          const { session, input, out } = make(binary);
          for (const c of chunks) {
            let r = input.feed(c, (b) => session.consume(b, 0), () => session.wantBytes);
            while (r !== CLOSE && out.full && input.length > 0) {
              out.take();
              r = input.resume((b) => session.consume(b, 0), () => session.wantBytes);
            }
            out.take();
            if (r === CLOSE) break;
            expect(input.capacity).toBeLessThanOrEqual(input.limit);
          }
        }),
        { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
      );
    });
  }
});
