// Large values go out from their slab chunks (Output#pinValue): many clients send a `get` of
// many 1 MiB values and do not read. The daemon holds no copies for them (the items are
// pinned instead), another client that reads is answered at once, an item replaced or deleted
// while pinned still reaches the silent client as it was and is freed once it has been taken,
// and a connection closed with values pending releases its pins.
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Cache } from '../../src/cache/cache.js';
import { NONE } from '../../src/cache/item.js';
import { connect, request, until } from '../support/raw-client.js';
import { startCore, type CoreServer } from './core-server.js';

const MiB = 1024 * 1024;
const KEYS = 16;
const CLIENTS = 40;
/** The keys of the silent clients' get: more than 23, so the line's tail is scanned, not tokenized. */
const LINE_KEYS = [...Array.from({ length: KEYS }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => i)];

let server: CoreServer | null = null;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  server = null;
});

function valueOf(i: number, version = 0): Buffer {
  const v = Buffer.alloc(MiB, 0x61 + i + version * 20);
  v.writeUInt32BE(0xc0ffee00 + i, 100);
  return v;
}

function replyOf(keys: readonly number[], value: (i: number) => Buffer = valueOf): Buffer {
  const parts: Buffer[] = [];
  for (const i of keys) parts.push(Buffer.from(`VALUE big${i} 7 ${MiB}\r\n`), value(i), Buffer.from('\r\n'));
  parts.push(Buffer.from('END\r\n'));
  return Buffer.concat(parts);
}

async function set(port: number, i: number, version = 0): Promise<void> {
  const reply = await request(port, Buffer.concat([Buffer.from(`set big${i} 7 0 ${MiB}\r\n`), valueOf(i, version), Buffer.from('\r\n')]), (t) => t.endsWith('\r\n'));
  expect(reply).toBe('STORED\r\n');
}

async function store(port: number): Promise<void> {
  for (let i = 0; i < KEYS; i++) await set(port, i);
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

/** A client that reads: connects, sends `line`, and reads the whole reply. */
async function reader(port: number, line: string, want: Buffer): Promise<boolean> {
  const s = await connect(port);
  sockets.push(s);
  const done = readAll(s, want);
  s.write(line);
  return done;
}

async function silentClients(server: CoreServer, n: number, line: string): Promise<Socket[]> {
  const socks: Socket[] = [];
  for (let c = 0; c < n; c++) {
    const s = await connect(server.port);
    s.pause();
    s.write(line);
    sockets.push(s);
    socks.push(s);
  }
  // each is blocked on a write the kernel does not take
  await until(() => [...server.core.connections].filter((c) => c.state === 'conn_mwrite').length === n, 20_000);
  return socks;
}

/** Chunks in use in every class, and what the linked items need: equal when nothing is held back. */
function chunkUse(cache: Cache): { used: number; needed: number } {
  let used = 0;
  let needed = 0;
  for (let cls = 1; cls < cache.slabs.geometry.sizes.length; cls++) {
    used += cache.slabs.usedChunks[cls]!;
    for (const id of cache.itemsOfClass(cls)) needed += 1 + cache.items.chunkCount(id);
  }
  return { used, needed };
}

const keyOf = (cache: Cache, id: number): string => {
  const k = Buffer.alloc(cache.itemKeyLength(id));
  cache.copyKey(id, k, 0);
  return k.toString('latin1');
};

describe('pinned replies: clients that do not read their large replies', () => {
  it('hold pinned items, not copies; a reading client is answered meanwhile; every reply arrives once read', async () => {
    server = await startCore({ itemSizeMax: 2 * MiB, memoryLimit: 128 * MiB });
    const { core, port } = server;
    const cache = core.cache as Cache;
    await store(port);
    const line = `get ${LINE_KEYS.map((i) => `big${i}`).join(' ')}\r\n`;
    await silentClients(server, CLIENTS, line);
    // copied reply bytes: VALUE lines and the like, far below one value per client
    const copied = [...core.connections].reduce((sum, c) => sum + c.out.pending, 0);
    expect(copied).toBeLessThan(CLIENTS * 1024);
    expect(core.heldReplies.held).toBeLessThan(CLIENTS * 1024);
    // what they wait for is the items themselves
    expect(cache.links.pins.size).toBeGreaterThan(0);
    expect(cache.links.pins.size).toBeLessThanOrEqual(KEYS);

    // a client that reads gets large values at once (no waiting on the silent ones), and small ones
    expect(await reader(port, 'get big3 big4 big3\r\n', replyOf([3, 4, 3]))).toBe(true);
    expect(await reader(port, 'mg big5 v\r\n', Buffer.concat([Buffer.from(`VA ${MiB}\r\n`), valueOf(5), Buffer.from('\r\n')]))).toBe(true);
    const other = await request(port, 'set small 0 0 5\r\nhello\r\nget small\r\n', (t) => t.endsWith('END\r\n'));
    expect(other).toBe('STORED\r\nVALUE small 0 5\r\nhello\r\nEND\r\n');

    // the silent clients read now: each gets its whole reply, and no pin is left
    const want = replyOf(LINE_KEYS);
    const results = await Promise.all(sockets.slice(0, CLIENTS).map((s) => readAll(s, want)));
    expect(results.filter((ok) => ok).length).toBe(CLIENTS);
    await until(() => cache.links.pins.size === 0, 5000);
    expect(core.heldReplies.held).toBe(0);
  }, 60_000);

  it('an item replaced or deleted while pinned reaches the silent client as it was, others see the change, and its chunks are freed after', async () => {
    server = await startCore({ itemSizeMax: 2 * MiB, memoryLimit: 128 * MiB });
    const { core, port } = server;
    const cache = core.cache as Cache;
    await store(port);
    const keys = Array.from({ length: KEYS }, (_, i) => i);
    const [silent] = await silentClients(server, 1, `get ${keys.map((i) => `big${i}`).join(' ')}\r\n`);
    const pinned = [...cache.links.pins.keys()].map((id) => Number(keyOf(cache, id).slice(3)));
    expect(pinned.length).toBeGreaterThan(0);
    const replaced = pinned[0]!;
    const deleted = pinned.length > 1 ? pinned[1]! : -1;
    // the same length: unpinned, this set would be written over the item in place
    await set(port, replaced, 1);
    if (deleted >= 0) expect(await request(port, `delete big${deleted}\r\n`, (t) => t.endsWith('\r\n'))).toBe('DELETED\r\n');
    expect(cache.links.unlinkedPinned.size).toBe(deleted >= 0 ? 2 : 1);
    // others see the new version (and the deletion) at once
    expect(await reader(port, `get big${replaced}\r\n`, replyOf([replaced], (i) => valueOf(i, 1)))).toBe(true);
    if (deleted >= 0) expect(await request(port, `get big${deleted}\r\n`, (t) => t.endsWith('END\r\n'))).toBe('END\r\n');
    expect(cache.stats.curr_items).toBe(deleted >= 0 ? KEYS - 1 : KEYS);
    // the old versions still take their chunks
    const held = chunkUse(cache);
    expect(held.used).toBeGreaterThan(held.needed);
    // the silent client reads: the old versions, intact, for the keys it had been sent already
    expect(await readAll(silent!, replyOf(keys))).toBe(true);
    await until(() => cache.links.pins.size === 0, 5000);
    expect(cache.links.unlinkedPinned.size).toBe(0);
    const after = chunkUse(cache);
    expect(after.used).toBe(after.needed);
  }, 60_000);

  it('a full cache evicts around the pinned items, and the silent client still gets them intact', async () => {
    // 40 MiB of slab memory (a 1 MiB item takes three 512 KiB chunks): the sets below evict
    server = await startCore({ itemSizeMax: 2 * MiB, memoryLimit: 40 * MiB });
    const { core, port } = server;
    const cache = core.cache as Cache;
    await store(port);
    const keys = Array.from({ length: KEYS }, (_, i) => i);
    const [silent] = await silentClients(server, 1, `get ${keys.map((i) => `big${i}`).join(' ')}\r\n`);
    const pinned = [...cache.links.pins.keys()].map((id) => Number(keyOf(cache, id).slice(3)));
    expect(pinned.length).toBeGreaterThan(0);
    for (let i = 100; i < 140; i++) await set(port, i, 1);
    expect(cache.stats.evictions).toBeGreaterThan(0);
    // the newest items are there, whole
    expect(await reader(port, 'get big139\r\n', replyOf([139], (i) => valueOf(i, 1)))).toBe(true);
    // the silent client reads: keys evicted before its get reached them are misses, every
    // value it gets is whole, and the pinned ones are among them
    const got = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      silent!.on('data', (d: Buffer) => {
        chunks.push(d);
        const all = Buffer.concat(chunks);
        if (all.subarray(-5).toString() === 'END\r\n') resolve(all);
      });
      silent!.resume();
    });
    const seen: number[] = [];
    let at = 0;
    while (got.toString('latin1', at, at + 6) === 'VALUE ') {
      const eol = got.indexOf('\r\n', at);
      const [, key, , len] = got.toString('latin1', at, eol).split(' ');
      const i = Number(key!.slice(3));
      expect(Number(len)).toBe(MiB);
      expect(got.subarray(eol + 2, eol + 2 + MiB).equals(valueOf(i))).toBe(true);
      seen.push(i);
      at = eol + 2 + MiB + 2;
    }
    expect(got.toString('latin1', at)).toBe('END\r\n');
    for (const i of pinned) expect(seen).toContain(i);
    await until(() => cache.links.pins.size === 0, 5000);
    const after = chunkUse(cache);
    expect(after.used).toBe(after.needed);
  }, 60_000);

  it('a connection destroyed with values pending releases its pins at once', async () => {
    server = await startCore({ itemSizeMax: 2 * MiB, memoryLimit: 128 * MiB });
    const { core, port } = server;
    const cache = core.cache as Cache;
    await store(port);
    await silentClients(server, 3, `get ${LINE_KEYS.map((i) => `big${i}`).join(' ')}\r\n`);
    expect(cache.links.pins.size).toBeGreaterThan(0);
    const [first] = [...cache.links.pins.keys()];
    // replaced while pinned, so its chunks wait for the pins
    await set(port, Number(keyOf(cache, first!).slice(3)), 1);
    for (const c of [...core.connections]) c.destroy();
    expect(cache.links.pins.size).toBe(0);
    expect(cache.links.unlinkedPinned.size).toBe(0);
    const after = chunkUse(cache);
    expect(after.used).toBe(after.needed);
    expect(cache.find(Buffer.from('big0'), 0, 4)).not.toBe(NONE);
    // and the write callbacks that come later release nothing twice
    await new Promise((r) => setTimeout(r, 50));
    expect(cache.links.pins.size).toBe(0);
  }, 60_000);

  it('meta and binary gets of large values complete for clients that read late', async () => {
    server = await startCore({ itemSizeMax: 2 * MiB, memoryLimit: 128 * MiB });
    const { core, port } = server;
    const cache = core.cache as Cache;
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
    await until(() => cache.links.pins.size > 0 && [...core.connections].every((c) => c.state === 'conn_mwrite'), 20_000);
    expect(core.heldReplies.held).toBeLessThan(12 * 1024);
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
    await until(() => cache.links.pins.size === 0, 5000);
  }, 60_000);
});
