// Big bodies both ways without whole-body copies: an upload's chunks go into the item as they
// arrived (no joined copy), a GET is sent from the slab pages in slices with backpressure (a
// client that does not read makes the process hold a bounded amount, not the value), and an
// item replaced or deleted while its body is being sent cuts the response off instead of
// mixing two versions. In process (the allocation spies see the server's code) over real
// sockets.
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OpStatus, StoreRequest } from '../../src/cache/api.js';
import { ManualClock } from '../../src/cache/clock.js';
import { defaultConfig, MB, type Config } from '../../src/config/config.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { PENDING_MAX, SLICE_BYTES } from '../../src/protocol/http/value-stream.js';
import { captureLog, Client, tempDir } from '../snapshot/helpers.js';
import { until } from '../support/raw-client.js';
import { seededRandom } from '../support/random.js';
import { ask, parsePrometheus } from './client.js';

let daemon: Daemon | null = null;
afterEach(async () => {
  vi.restoreAllMocks();
  await daemon?.stop('test');
  daemon = null;
});

async function start(extra: Partial<Config> = {}): Promise<{ d: Daemon; port: number }> {
  const cfg = { ...defaultConfig(), port: -1, httpPort: -1, itemSizeMax: 64 * MB, memoryLimit: 256 * MB, ...extra };
  daemon = await startDaemon(cfg, { clock: new ManualClock(), log: captureLog(), lruCrawler: false });
  return { d: daemon, port: daemon.httpPort! };
}

function randomBytes(n: number, seed: number): Buffer {
  const rnd = seededRandom(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i + 4 <= n; i += 4) b.writeUInt32LE(Math.floor(rnd() * 0x100000000), i);
  for (let i = n & ~3; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

const sha = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');

/** PUT `body` chunked in `piece`-byte writes (views of `body`, no copies here); resolves with the status. */
function putChunked(port: number, path: string, body: Buffer, piece: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path, agent: false, headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    for (let at = 0; at < body.length; at += piece) req.write(body.subarray(at, at + piece));
    req.end();
  });
}

/** GET `path`, hashing the body as it comes (the client holds no copy); resolves with status, length and hash. */
function getHashed(port: number, path: string): Promise<{ status: number; length: number; hash: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        const h = crypto.createHash('sha256');
        let length = 0;
        res.on('data', (c: Buffer) => {
          h.update(c);
          length += c.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, length, hash: h.digest('hex') }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** Every Buffer allocation and join of at least `min` bytes made through Buffer's statics while spied. */
function spyBigAllocations(min: number): string[] {
  const seen: string[] = [];
  const note = (what: string, n: number): void => {
    if (n >= min) seen.push(`${what}(${n})`);
  };
  for (const name of ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const) {
    const real = Buffer[name].bind(Buffer) as (n: number) => Buffer;
    vi.spyOn(Buffer, name).mockImplementation(((n: number, ...rest: unknown[]) => {
      note(name, n);
      return (real as (...a: unknown[]) => Buffer)(n, ...rest);
    }) as never);
  }
  const concat = Buffer.concat.bind(Buffer);
  vi.spyOn(Buffer, 'concat').mockImplementation((list: readonly Uint8Array[], total?: number) => {
    note('concat', total ?? list.reduce((n, b) => n + b.length, 0));
    return concat(list, total);
  });
  return seen;
}

/**
 * A GET on a raw socket that reads nothing until `resume()`; then it collects everything
 * until the server closes or the body is complete.
 */
function stalledGet(port: number, path: string, headers = ''): { resume(): Promise<{ head: string; body: Buffer; complete: boolean }> } {
  const s = net.connect(port, '127.0.0.1');
  s.pause();
  s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`);
  return {
    resume: () =>
      new Promise((resolve) => {
        const chunks: Buffer[] = [];
        let got = 0;
        let expected = -1;
        let headEnd = -1;
        const finish = (): void => {
          s.destroy();
          const all = Buffer.concat(chunks);
          const body = headEnd < 0 ? Buffer.alloc(0) : all.subarray(headEnd + 4);
          resolve({ head: headEnd < 0 ? all.toString('latin1') : all.subarray(0, headEnd).toString('latin1'), body, complete: body.length === expected });
        };
        s.on('data', (c: Buffer) => {
          chunks.push(c);
          got += c.length;
          if (headEnd < 0) {
            const all = Buffer.concat(chunks);
            headEnd = all.indexOf('\r\n\r\n');
            if (headEnd >= 0) expected = Number(/content-length: (\d+)/i.exec(all.subarray(0, headEnd).toString('latin1'))![1]);
          }
          if (headEnd >= 0 && got - headEnd - 4 >= expected) finish();
        });
        s.on('error', () => {});
        s.on('close', finish);
        s.resume();
      }),
  };
}

/** Bytes copied out of items for HTTP bodies, counted by a spy on the cache's slice copy. */
function countCopies(d: Daemon): { bytes: number } {
  const counted = { bytes: 0 };
  const real = d.cache.copyValueRange.bind(d.cache);
  vi.spyOn(d.cache, 'copyValueRange').mockImplementation((id, from, len, dst, off) => {
    counted.bytes += len;
    return real(id, from, len, dst, off);
  });
  return counted;
}

/** The ServerResponse objects the server writes heads on while spied. */
function captureResponses(): http.ServerResponse[] {
  const seen: http.ServerResponse[] = [];
  const real = http.ServerResponse.prototype.writeHead;
  vi.spyOn(http.ServerResponse.prototype, 'writeHead').mockImplementation(function (this: http.ServerResponse, ...args: unknown[]) {
    seen.push(this);
    return (real as (...a: unknown[]) => http.ServerResponse).apply(this, args);
  });
  return seen;
}

/** Wait until `counted.bytes` has stopped growing (the socket and the kernel are full). */
async function settled(counted: { bytes: number }): Promise<void> {
  await until(() => counted.bytes > 0, 5000);
  let last = -1;
  let still = 0;
  while (still < 5) {
    await new Promise((r) => setTimeout(r, 20));
    still = counted.bytes === last ? still + 1 : 0;
    last = counted.bytes;
  }
}

describe('HTTP bodies without whole-body copies', () => {
  it('a 5 MiB upload in 64 KiB chunks reaches the item as its chunks; neither it nor its GET allocates or joins a body-sized buffer', async () => {
    const { d, port } = await start();
    const body = randomBytes(5 * MB, 1);
    const pieces: number[] = [];
    const store = d.cache.store.bind(d.cache);
    vi.spyOn(d.cache, 'store').mockImplementation((r: StoreRequest, st: OpStatus) => {
      pieces.push(r.chunks === null ? 1 : r.chunks.length);
      return store(r, st);
    });
    // a slab page is 1 MiB (the cache's own memory, allocated as the value needs it); a copy of the body would be 5 MiB
    const big = spyBigAllocations(1 * MB + 1);
    expect(await putChunked(port, '/store/five', body, 64 * 1024)).toBe(201);
    const got = await getHashed(port, '/store/five');
    vi.restoreAllMocks();
    expect([got.status, got.length, got.hash]).toEqual([200, body.length, sha(body)]);
    expect(big).toEqual([]);
    // the upload did arrive in pieces, and they went to the store as they were
    expect(pieces.length).toBe(1);
    expect(pieces[0]).toBeGreaterThan(1);
    // the text port sees the same bytes
    const c = await Client.connect(d.tcpPort!);
    const text = Buffer.from(await c.call('get five\r\n'), 'latin1');
    expect(sha(text.subarray(text.indexOf('\r\n') + 2, text.length - 7))).toBe(sha(body));
    c.close();
  });

  it('concurrent GETs of different blobs, slices reused between them, each get their own bytes', async () => {
    const { port } = await start();
    const blobs = [0, 1, 2, 3, 4, 5].map((i) => randomBytes(3 * MB + i * 1000, 20 + i));
    for (const [i, b] of blobs.entries()) expect((await ask(port, { method: 'PUT', path: `/store/c${i}`, body: b })).status).toBe(201);
    for (let round = 0; round < 3; round++) {
      const got = await Promise.all(blobs.map((_, i) => getHashed(port, `/store/c${i}`)));
      expect(got.map((g) => g.hash)).toEqual(blobs.map(sha));
    }
  });

  it('the journal records a chunked upload as it is in the item: a restart replays the same bytes', async () => {
    const journalFile = path.join(tempDir(), 'j');
    const body = randomBytes(3 * MB, 8);
    let { port } = await start({ journalFile, journalFsync: 'always' });
    expect(await putChunked(port, '/store/j', body, 50_000)).toBe(201);
    await daemon!.stop('test');
    daemon = null;
    ({ port } = await start({ journalFile, journalFsync: 'always' }));
    const got = await getHashed(port, '/store/j');
    expect([got.status, got.length, got.hash]).toEqual([200, body.length, sha(body)]);
  });

  it('a cut-off chunked upload stores nothing and leaves the old value', async () => {
    const { port } = await start();
    expect((await ask(port, { method: 'PUT', path: '/store/k', body: 'old' })).status).toBe(201);
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    // the server answers 400 to the cut-off chunked body and closes its side
    let answer = '';
    s.on('data', (b: Buffer) => (answer += b.toString('latin1')));
    const closed = new Promise((r) => s.on('end', r));
    const piece = Buffer.alloc(100_000, 7);
    s.write(`PUT /store/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`);
    for (let i = 0; i < 5; i++) s.write(Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]));
    s.end();
    await closed;
    s.destroy();
    expect(answer).toMatch(/^HTTP\/1.1 400 /);
    expect((await ask(port, { path: '/store/k' })).body.toString()).toBe('old');
  });

  for (const range of [false, true]) {
    it(`a client that does not read a 32 MiB ${range ? 'range (206)' : 'GET'} makes the process hold a bounded part of it; it gets all of it once it reads`, async () => {
      const { d, port } = await start();
      const body = randomBytes(32 * MB, 2);
      expect((await ask(port, { method: 'PUT', path: '/store/big', body })).status).toBe(201);
      const responses = captureResponses();
      const copied = countCopies(d);
      const [from, to] = range ? [1000, 30 * MB] : [0, body.length - 1];
      const get = stalledGet(port, '/store/big', range ? `Range: bytes=${from}-${to}\r\n` : '');
      await settled(copied);
      const res = responses.at(-1)!;
      // what waits in node for this client stays under the bound, and the rest of the value was
      // never copied out (the kernel's socket buffers hold a few MiB at most)
      expect(res.writableLength).toBeLessThanOrEqual(PENDING_MAX + SLICE_BYTES);
      expect(copied.bytes).toBeLessThan(to - from + 1);
      const got = await get.resume();
      expect(got.head).toMatch(range ? /^HTTP\/1.1 206 / : /^HTTP\/1.1 200 /);
      expect(got.complete).toBe(true);
      expect(sha(got.body)).toBe(sha(body.subarray(from, to + 1)));
    });
  }

  for (const change of ['replaced by a PUT', 'replaced by a text-port set of the same size', 'deleted'] as const) {
    it(`an item ${change} while its body is being sent: the response is cut off, and what was sent is the old version only`, async () => {
      const { d, port } = await start();
      const old = randomBytes(32 * MB, 3);
      expect((await ask(port, { method: 'PUT', path: '/store/v', body: old })).status).toBe(201);
      const copied = countCopies(d);
      const get = stalledGet(port, '/store/v');
      await settled(copied);
      if (change === 'deleted') expect((await ask(port, { method: 'DELETE', path: '/store/v' })).status).toBe(204);
      else if (change === 'replaced by a PUT') expect((await ask(port, { method: 'PUT', path: '/store/v', body: 'new' })).status).toBe(204);
      else {
        const c = await Client.connect(d.tcpPort!);
        const fresh = randomBytes(old.length, 4);
        expect(await c.call(Buffer.concat([Buffer.from(`set v 0 0 ${fresh.length}\r\n`), fresh, Buffer.from('\r\n')]))).toBe('STORED\r\n');
        c.close();
      }
      const got = await get.resume();
      expect(got.head).toMatch(/^HTTP\/1.1 200 /);
      expect(got.complete).toBe(false);
      expect(got.body.length).toBeGreaterThan(0);
      expect(got.body.length).toBeLessThan(old.length);
      expect(sha(got.body)).toBe(sha(old.subarray(0, got.body.length)));
      const metrics = parsePrometheus((await ask(port, { path: '/metrics' })).body.toString());
      expect(metrics.samples.find((s) => s.name === 'memcached_ts_http_aborted_bodies_total')!.value).toBe(1);
    });
  }

  it('an item touched (same version) while its body is being sent: the whole body arrives', async () => {
    const { d, port } = await start();
    const old = randomBytes(32 * MB, 5);
    expect((await ask(port, { method: 'PUT', path: '/store/t', body: old })).status).toBe(201);
    const copied = countCopies(d);
    const get = stalledGet(port, '/store/t');
    await settled(copied);
    // reads and a new TTL do not make a new version (memcached keeps the CAS on touch)
    const c = await Client.connect(d.tcpPort!);
    expect(await c.call('touch t 100\r\n', ['TOUCHED\r\n', 'NOT_FOUND\r\n'])).toBe('TOUCHED\r\n');
    expect((await ask(port, { method: 'HEAD', path: '/store/t' })).status).toBe(200);
    c.close();
    const got = await get.resume();
    expect(got.complete).toBe(true);
    expect(sha(got.body)).toBe(sha(old));
  });

  it('with -C (no CAS to tell versions apart) the value is copied out once and sent whole, even if replaced meanwhile', async () => {
    const { port } = await start({ useCas: false });
    const old = randomBytes(32 * MB, 6);
    expect((await ask(port, { method: 'PUT', path: '/store/c', body: old })).status).toBe(201);
    const responses = captureResponses();
    const get = stalledGet(port, '/store/c');
    await until(() => responses.length === 1, 5000);
    expect((await ask(port, { method: 'PUT', path: '/store/c', body: 'new' })).status).toBe(204);
    const got = await get.resume();
    expect(got.complete).toBe(true);
    expect(sha(got.body)).toBe(sha(old));
  });
});
