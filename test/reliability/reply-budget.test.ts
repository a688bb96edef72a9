// The reply budget (src/server/output-budget.ts): many clients send a `get` of many 1 MiB
// values and do not read. What the daemon holds for them stays within the budget plus one
// batch of replies, another client is still answered, and once the silent clients read, each
// gets its whole reply, byte for byte.
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GATED_VALUE, Output, OUTPUT_HIGH_WATER } from '../../src/protocol/output.js';
import { OutputBudget } from '../../src/server/output-budget.js';
import { connect, request, until } from '../support/raw-client.js';
import { startCore, type CoreServer } from './core-server.js';

const MiB = 1024 * 1024;
const KEYS = 16;
const CLIENTS = 40;
const BUDGET = 4 * MiB;
/** The keys of the silent clients' get: more than 23, so the line's tail is scanned, not tokenized. */
const LINE_KEYS = [...Array.from({ length: KEYS }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => i)];

let server: CoreServer | null = null;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  server = null;
});

function valueOf(i: number): Buffer {
  const v = Buffer.alloc(MiB, 0x61 + i);
  v.writeUInt32BE(0xc0ffee00 + i, 100);
  return v;
}

function expectedReply(): Buffer {
  const parts: Buffer[] = [];
  for (const i of LINE_KEYS) parts.push(Buffer.from(`VALUE big${i} 7 ${MiB}\r\n`), valueOf(i), Buffer.from('\r\n'));
  parts.push(Buffer.from('END\r\n'));
  return Buffer.concat(parts);
}

async function store(port: number): Promise<void> {
  for (let i = 0; i < KEYS; i++) {
    const reply = await request(port, Buffer.concat([Buffer.from(`set big${i} 7 0 ${MiB}\r\n`), valueOf(i), Buffer.from('\r\n')]), (t) => t.endsWith('\r\n'));
    expect(reply).toBe('STORED\r\n');
  }
}

/** Reads everything the socket sends until `want.length` bytes; true when they are `want`. */
function readAll(s: Socket, want: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    let n = 0;
    let same = true;
    s.on('data', (d: Buffer) => {
      if (same) same = n + d.length <= want.length && d.equals(want.subarray(n, n + d.length));
      n += d.length;
      if (n >= want.length) resolve(same && n === want.length);
    });
    s.on('close', () => resolve(same && n === want.length));
    s.resume();
  });
}

describe('reply budget: clients that do not read their large replies', () => {
  it('holds at most the budget plus one batch, serves others, and delivers every reply once read', async () => {
    server = await startCore({ itemSizeMax: 2 * MiB, memoryLimit: 128 * MiB, replyBudget: BUDGET });
    const { core, port } = server;
    await store(port);
    const line = `get ${LINE_KEYS.map((i) => `big${i}`).join(' ')}\r\n`;
    for (let c = 0; c < CLIENTS; c++) {
      const s = await connect(port);
      s.pause();
      s.write(line);
      sockets.push(s);
    }
    // every silent client is either blocked on a write the kernel does not take or waiting for
    // room in the budget
    const silent = (): number => [...core.connections].filter((c) => c.state === 'conn_mwrite').length + core.replyBudget.waiting;
    await until(() => silent() === CLIENTS, 20_000);
    const pending = [...core.connections].reduce((sum, c) => sum + c.pendingOutput, 0);
    // one batch: the replies pending when a session yields, plus the reply that crossed the mark
    const batch = OUTPUT_HIGH_WATER + MiB + 1024;
    expect(pending).toBeLessThanOrEqual(BUDGET + batch);
    expect(core.replyBudget.held).toBeLessThanOrEqual(BUDGET + batch);
    expect(core.replyBudget.waiting).toBeGreaterThan(0);

    // another client, with small values, is answered meanwhile
    const other = await request(port, 'set small 0 0 5\r\nhello\r\nget small\r\n', (t) => t.endsWith('END\r\n'));
    expect(other).toBe('STORED\r\nVALUE small 0 5\r\nhello\r\nEND\r\n');

    // the silent clients read now: each gets its whole reply
    const want = expectedReply();
    const results = await Promise.all(sockets.map((s) => readAll(s, want)));
    expect(results.filter((ok) => ok).length).toBe(CLIENTS);
    expect(core.replyBudget.held).toBe(0);
  }, 60_000);

  it('meta and binary gets wait for the budget too, and complete', async () => {
    server = await startCore({ itemSizeMax: 2 * MiB, memoryLimit: 128 * MiB, replyBudget: BUDGET });
    const { core, port } = server;
    await store(port);
    const meta = Array.from({ length: KEYS }, (_, i) => `mg big${i} v\r\n`).join('');
    const wantMeta = Buffer.concat([
      ...Array.from({ length: KEYS }, (_, i) => [Buffer.from(`VA ${MiB}\r\n`), valueOf(i), Buffer.from('\r\n')]).flat(),
    ]);
    const binary = Buffer.concat(
      Array.from({ length: KEYS }, (_, i) => {
        const key = Buffer.from(`big${i}`);
        const h = Buffer.alloc(24);
        h[0] = 0x80;
        h[1] = 0x00; // GET
        h.writeUInt16BE(key.length, 2);
        h.writeUInt32BE(key.length, 8);
        return Buffer.concat([h, key]);
      }),
    );
    const socks: Array<{ s: Socket; bytes: number; check: (b: Buffer) => boolean }> = [];
    for (let c = 0; c < 12; c++) {
      const s = await connect(port);
      s.pause();
      sockets.push(s);
      if (c % 2 === 0) {
        s.write(meta);
        socks.push({ s, bytes: wantMeta.length, check: (b) => b.equals(wantMeta) });
      } else {
        s.write(binary);
        // 24-byte header + 4 bytes of flags + the value, per key
        socks.push({ s, bytes: KEYS * (24 + 4 + MiB), check: (b) => b.length === KEYS * (24 + 4 + MiB) && b.subarray(28, 28 + MiB).equals(valueOf(0)) });
      }
    }
    await until(() => core.replyBudget.waiting > 0, 20_000);
    const results = await Promise.all(
      socks.map(
        ({ s, bytes, check }) =>
          new Promise<boolean>((resolve) => {
            const chunks: Buffer[] = [];
            let n = 0;
            s.on('data', (d: Buffer) => {
              chunks.push(d);
              n += d.length;
              if (n >= bytes) resolve(check(Buffer.concat(chunks)));
            });
            s.on('close', () => resolve(false));
            s.resume();
          }),
      ),
    );
    expect(results.every((ok) => ok)).toBe(true);
  }, 60_000);
});

describe('OutputBudget: the turn over the budget', () => {
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

  it('admits everyone under the budget, one connection at a time over it, and passes the turn on', async () => {
    const budget = new OutputBudget(1000);
    const [a, b, c] = [new Output(), new Output(), new Output()];
    for (const o of [a, b, c]) o.budget = budget;
    expect(a.admits(GATED_VALUE)).toBe(true);
    budget.charge(1000);
    expect(a.gated).toBe(true);
    // small values are never held up
    expect(b.admits(GATED_VALUE - 1)).toBe(true);
    expect(a.admits(GATED_VALUE)).toBe(true); // a takes the turn
    expect(b.admits(GATED_VALUE)).toBe(false);
    expect(b.deferred).toBe(true);
    expect(c.admits(GATED_VALUE)).toBe(false);
    const resumed: string[] = [];
    budget.wait(b, () => resumed.push('b'));
    budget.wait(c, () => resumed.push('c'));
    await tick();
    expect(resumed).toEqual([]);
    // a has written its batch: the first in line gets the turn, the other keeps waiting
    budget.settled(a);
    await tick();
    expect(resumed).toEqual(['b']);
    expect(b.admits(GATED_VALUE)).toBe(true);
    expect(a.admits(GATED_VALUE)).toBe(false);
    // room again: everyone waiting goes on
    budget.release(1000);
    await tick();
    expect(resumed).toEqual(['b', 'c']);
    expect(budget.waiting).toBe(0);
  });

  it('a closed connection gives up its turn and its place in line', async () => {
    const budget = new OutputBudget(10);
    const [a, b] = [new Output(), new Output()];
    budget.charge(10);
    expect(budget.admits(a, GATED_VALUE)).toBe(true);
    let resumed = false;
    budget.wait(b, () => (resumed = true));
    budget.forget(a);
    await tick();
    expect(resumed).toBe(true);
    budget.forget(b);
    expect(budget.waiting).toBe(0);
  });
});
