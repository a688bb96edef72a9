// The HTTP front in process, over real HTTP: every status of the blob store, conditional
// requests, ranges, flags and TTL (a ManualClock: no sleeping), body limits, cut-off and
// chunked uploads, the simple /set /get API, routing errors, -M, a journal that refuses writes.
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/cache/clock.js';
import { defaultConfig, MB, type Config } from '../../src/config/config.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { captureLog, Client } from '../snapshot/helpers.js';
import { seededRandom } from '../support/random.js';
import { ask, raw } from './client.js';

let daemon: Daemon | null = null;
afterEach(async () => {
  await daemon?.stop('test');
  daemon = null;
});

async function start(extra: Partial<Config> = {}, clock = new ManualClock()): Promise<{ d: Daemon; port: number; clock: ManualClock }> {
  daemon = await startDaemon({ ...defaultConfig(), port: -1, httpPort: -1, ...extra }, { clock, log: captureLog(), lruCrawler: false });
  return { d: daemon, port: daemon.httpPort!, clock };
}

function randomBytes(n: number, seed: number): Buffer {
  const rnd = seededRandom(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

describe('HTTP blob store: statuses', () => {
  it('POST creates (201 + Location), conflicts (409); PUT creates (201), replaces (204); GET 200; DELETE 204 then 404', async () => {
    const { port } = await start();
    const p1 = await ask(port, { method: 'POST', path: '/store/a/b.txt', body: 'one' });
    expect([p1.status, p1.headers.location]).toEqual([201, '/store/a/b.txt']);
    const p2 = await ask(port, { method: 'POST', path: '/store/a/b.txt', body: 'two' });
    expect(p2.status).toBe(409);
    expect(p2.body.toString()).toMatch(/exists/);
    expect((await ask(port, { path: '/store/a/b.txt' })).body.toString()).toBe('one');
    expect((await ask(port, { method: 'PUT', path: '/store/new', body: 'x' })).status).toBe(201);
    expect((await ask(port, { method: 'PUT', path: '/store/new', body: 'y' })).status).toBe(204);
    const g = await ask(port, { path: '/store/new' });
    expect([g.status, g.body.toString(), g.headers['content-length'], g.headers['content-type']]).toEqual([200, 'y', '1', 'application/octet-stream']);
    expect(g.headers.etag).toMatch(/^"\d+"$/);
    expect((await ask(port, { method: 'DELETE', path: '/store/new' })).status).toBe(204);
    expect((await ask(port, { method: 'DELETE', path: '/store/new' })).status).toBe(404);
    const miss = await ask(port, { path: '/store/new' });
    expect([miss.status, miss.body.toString()]).toEqual([404, 'not found\n']);
  });

  it('HEAD answers like GET without a body', async () => {
    const { port } = await start();
    await ask(port, { method: 'PUT', path: '/store/h', body: 'hello' });
    const h = await ask(port, { method: 'HEAD', path: '/store/h' });
    expect([h.status, h.headers['content-length'], h.body.length]).toEqual([200, '5', 0]);
    expect((await ask(port, { method: 'HEAD', path: '/store/none' })).status).toBe(404);
  });

  it('the percent-decoded location is the key the text port sees; keys memcached cannot hold get 400', async () => {
    const { d, port } = await start();
    expect((await ask(port, { method: 'PUT', path: '/store/dir/a%2Bb%C3%A9.bin', body: 'blob' })).status).toBe(201);
    const c = await Client.connect(d.tcpPort!);
    const k = Buffer.from('dir/a+bé.bin').toString('latin1');
    expect(await c.call(Buffer.from('get dir/a+bé.bin\r\n'))).toBe(`VALUE ${k} 0 4\r\nblob\r\nEND\r\n`);
    await c.call('set from/text 7 0 2\r\nhi\r\n');
    const g = await ask(port, { path: '/store/from/text' });
    expect([g.body.toString(), g.headers['x-memcached-flags']]).toEqual(['hi', '7']);
    for (const bad of ['/store/a%20b', '/store/a%0Ab', `/store/${'k'.repeat(251)}`, '/store/', '/store/%E0%A4%A']) {
      const r = await ask(port, { method: 'PUT', path: bad, body: 'x' });
      expect(r.status, bad).toBe(400);
      expect(r.body.length, bad).toBeGreaterThan(0);
    }
    expect((await ask(port, { method: 'PUT', path: `/store/${'k'.repeat(250)}`, body: 'x' })).status).toBe(201);
  });

  it('unknown paths 404, wrong methods 405 with Allow', async () => {
    const { port } = await start();
    expect((await ask(port, { path: '/nope' })).status).toBe(404);
    const m = await ask(port, { method: 'PATCH', path: '/store/x', body: 'y' });
    expect([m.status, m.headers.allow]).toEqual([405, 'GET, HEAD, PUT, POST, DELETE']);
    const p = await ask(port, { method: 'POST', path: '/metrics' });
    expect([p.status, p.headers.allow]).toEqual([405, 'GET, HEAD']);
  });
});

describe('HTTP blob store: conditional requests and ranges', () => {
  it('If-None-Match with the ETag gives 304; If-Match is compare-and-swap (412 if it changed); If-None-Match: * is create-only', async () => {
    const { port } = await start();
    const put = await ask(port, { method: 'PUT', path: '/store/c', body: 'v1' });
    const etag = put.headers.etag!;
    expect((await ask(port, { path: '/store/c', headers: { 'If-None-Match': etag } })).status).toBe(304);
    expect((await ask(port, { path: '/store/c', headers: { 'If-None-Match': '"999999"' } })).status).toBe(200);
    const swapped = await ask(port, { method: 'PUT', path: '/store/c', body: 'v2', headers: { 'If-Match': etag } });
    expect(swapped.status).toBe(204);
    expect(swapped.headers.etag).not.toBe(etag);
    // the old ETag no longer matches: nothing changes
    expect((await ask(port, { method: 'PUT', path: '/store/c', body: 'v3', headers: { 'If-Match': etag } })).status).toBe(412);
    expect((await ask(port, { path: '/store/c' })).body.toString()).toBe('v2');
    expect((await ask(port, { method: 'PUT', path: '/store/absent', body: 'x', headers: { 'If-Match': etag } })).status).toBe(412);
    expect((await ask(port, { method: 'PUT', path: '/store/c', body: 'x', headers: { 'If-None-Match': '*' } })).status).toBe(412);
    expect((await ask(port, { method: 'PUT', path: '/store/fresh', body: 'x', headers: { 'If-None-Match': '*' } })).status).toBe(201);
    expect((await ask(port, { method: 'DELETE', path: '/store/c', headers: { 'If-Match': etag } })).status).toBe(412);
    expect((await ask(port, { method: 'DELETE', path: '/store/c', headers: { 'If-Match': swapped.headers.etag! } })).status).toBe(204);
    expect((await ask(port, { method: 'PUT', path: '/store/c', body: 'x', headers: { 'If-Match': 'nonsense' } })).status).toBe(400);
  });

  it('Range: 206 with Content-Range, suffix and open ranges, 416 past the end, If-Range with an old ETag sends it whole', async () => {
    const { port } = await start();
    const put = await ask(port, { method: 'PUT', path: '/store/r', body: '0123456789' });
    const r1 = await ask(port, { path: '/store/r', headers: { Range: 'bytes=2-5' } });
    expect([r1.status, r1.body.toString(), r1.headers['content-range']]).toEqual([206, '2345', 'bytes 2-5/10']);
    expect((await ask(port, { path: '/store/r', headers: { Range: 'bytes=7-' } })).body.toString()).toBe('789');
    expect((await ask(port, { path: '/store/r', headers: { Range: 'bytes=-3' } })).body.toString()).toBe('789');
    expect((await ask(port, { path: '/store/r', headers: { Range: 'bytes=5-100' } })).body.toString()).toBe('56789');
    const r416 = await ask(port, { path: '/store/r', headers: { Range: 'bytes=10-' } });
    expect([r416.status, r416.headers['content-range']]).toEqual([416, 'bytes */10']);
    expect((await ask(port, { path: '/store/r', headers: { Range: 'bytes=0-1', 'If-Range': '"1"' } })).status).toBe(put.headers.etag === '"1"' ? 206 : 200);
    expect((await ask(port, { path: '/store/r', headers: { Range: 'bytes=0-1', 'If-Range': '"424242"' } })).status).toBe(200);
  });
});

describe('HTTP blob store: flags and TTL', () => {
  it('X-Memcached-Flags is stored and returned; X-Memcached-TTL and Cache-Control max-age expire the blob', async () => {
    const { port, clock } = await start();
    await ask(port, { method: 'PUT', path: '/store/f', body: 'x', headers: { 'X-Memcached-Flags': '4294967295' } });
    expect((await ask(port, { path: '/store/f' })).headers['x-memcached-flags']).toBe('4294967295');
    await ask(port, { method: 'PUT', path: '/store/t', body: 'x', headers: { 'X-Memcached-TTL': '100' } });
    await ask(port, { method: 'PUT', path: '/store/m', body: 'x', headers: { 'Cache-Control': 'public, max-age=50' } });
    await ask(port, { method: 'PUT', path: '/store/long', body: 'x', headers: { 'X-Memcached-TTL': String(60 * 24 * 3600) } });
    clock.advance(51);
    expect((await ask(port, { path: '/store/m' })).status).toBe(404);
    expect((await ask(port, { path: '/store/t' })).status).toBe(200);
    clock.advance(50);
    expect((await ask(port, { path: '/store/t' })).status).toBe(404);
    expect((await ask(port, { path: '/store/f' })).status).toBe(200);
    // 60 days: past memcached's 30-day relative limit, sent as an absolute time
    clock.advance(59 * 24 * 3600);
    expect((await ask(port, { path: '/store/long' })).status).toBe(200);
    clock.advance(24 * 3600);
    expect((await ask(port, { path: '/store/long' })).status).toBe(404);
    for (const h of [{ 'X-Memcached-Flags': '-1' }, { 'X-Memcached-Flags': '4294967296' }, { 'X-Memcached-TTL': 'soon' }]) {
      expect((await ask(port, { method: 'PUT', path: '/store/bad', body: 'x', headers: h })).status).toBe(400);
    }
  });
});

describe('HTTP blob store: bodies', () => {
  it('stores a 5 MiB binary blob byte for byte (with -I 8m), also when uploaded chunked', async () => {
    const { port } = await start({ itemSizeMax: 8 * MB, memoryLimit: 128 * MB });
    const blob = randomBytes(5 * MB, 16);
    expect((await ask(port, { method: 'PUT', path: '/store/big.bin', body: blob })).status).toBe(201);
    const g = await ask(port, { path: '/store/big.bin' });
    expect(g.body.length).toBe(blob.length);
    expect(g.body.equals(blob)).toBe(true);
    const pieces = [blob.subarray(0, 1000), blob.subarray(1000, 3 * MB), blob.subarray(3 * MB)];
    expect((await ask(port, { method: 'PUT', path: '/store/chunked.bin', body: pieces, chunked: true })).status).toBe(201);
    expect((await ask(port, { path: '/store/chunked.bin' })).body.equals(blob)).toBe(true);
  });

  it('a body larger than -I gets 413 before it is read (Content-Length) or once it passes -I (chunked); nothing is stored', async () => {
    const { port } = await start();
    await ask(port, { method: 'PUT', path: '/store/keep', body: 'old' });
    // the 413 arrives though the client never sends the body it announced
    const early = await raw(port, 'PUT /store/keep HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n', { closeAfterMs: 2000 });
    expect(early).toMatch(/^HTTP\/1\.1 413 /);
    const big = Buffer.alloc(MB + 1, 1);
    expect((await ask(port, { method: 'PUT', path: '/store/keep', body: big })).status).toBe(413);
    expect((await ask(port, { method: 'PUT', path: '/store/keep', body: [big.subarray(0, 600_000), big.subarray(600_000)], chunked: true })).status).toBe(413);
    expect((await ask(port, { path: '/store/keep' })).body.toString()).toBe('old');
    expect((await ask(port, { method: 'PUT', path: '/store/fits', body: Buffer.alloc(MB - 100) })).status).toBe(201);
  });

  it('an upload cut off half way, or with a Content-Length longer than the body, changes nothing', async () => {
    const { port } = await start();
    await ask(port, { method: 'PUT', path: '/store/cut', body: 'old' });
    await raw(port, 'PUT /store/cut HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n' + 'n'.repeat(500), { closeAfterMs: 100 });
    await raw(port, 'PUT /store/fresh HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', { closeAfterMs: 100 });
    expect((await ask(port, { path: '/store/cut' })).body.toString()).toBe('old');
    expect((await ask(port, { path: '/store/fresh' })).status).toBe(404);
  });

  it('a client that stalls mid-upload past the idle timeout is closed and changes nothing', async () => {
    const { port } = await start({ idleTimeout: 1 });
    const t0 = Date.now();
    const got = await raw(port, 'PUT /store/stall HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
    expect(got).toBe('');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect((await ask(port, { path: '/store/stall' })).status).toBe(404);
  });

  it('keep-alive and pipelined requests are answered in order on one connection', async () => {
    const { port } = await start();
    const pipelined =
      'PUT /store/p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc' +
      'GET /store/p HTTP/1.1\r\nHost: x\r\n\r\n' +
      'DELETE /store/p HTTP/1.1\r\nHost: x\r\n\r\n' +
      'GET /store/p HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    const got = await raw(port, pipelined);
    expect([...got.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => m[1])).toEqual(['201', '200', '204', '404']);
    expect(got).toContain('\r\n\r\nabc');
  });

  it('50 parallel clients each PUT and GET their own blob', async () => {
    const { port } = await start();
    const blobs = Array.from({ length: 50 }, (_, i) => randomBytes(1000 + i * 997, i));
    const puts = await Promise.all(blobs.map((b, i) => ask(port, { method: 'PUT', path: `/store/par/${i}`, body: b })));
    expect(puts.map((r) => r.status)).toEqual(Array(50).fill(201));
    const gets = await Promise.all(blobs.map((_, i) => ask(port, { path: `/store/par/${i}` })));
    expect(gets.every((g, i) => g.body.equals(blobs[i]!))).toBe(true);
  });
});

describe('HTTP front: store or cache', () => {
  it('with -M a blob that does not fit gets 507 and nothing is evicted', async () => {
    const { port } = await start({ memoryLimit: 2 * MB, noEvict: true, itemSizeMax: MB });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await ask(port, { method: 'PUT', path: `/store/full/${i}`, body: Buffer.alloc(500_000, i) })).status);
    expect(statuses).toContain(507);
    const first507 = statuses.indexOf(507);
    for (let i = 0; i < first507; i++) expect((await ask(port, { path: `/store/full/${i}` })).status, `blob ${i}`).toBe(200);
  });

  it('without -M the cache evicts the oldest blobs instead', async () => {
    const { port } = await start({ memoryLimit: 2 * MB, itemSizeMax: MB });
    for (let i = 0; i < 8; i++) expect((await ask(port, { method: 'PUT', path: `/store/full/${i}`, body: Buffer.alloc(500_000, i) })).status).toBe(201);
    expect((await ask(port, { path: '/store/full/0' })).status).toBe(404);
    expect((await ask(port, { path: '/store/full/7' })).status).toBe(200);
  });

  it('while the journal refuses writes, changes get 503 with the reason and reads go on', async () => {
    const { d, port } = await start();
    await ask(port, { method: 'PUT', path: '/store/j', body: 'kept' });
    d.cache.setWriteRefusal('journal write failed (ENOSPC)');
    for (const [method, path] of [['PUT', '/store/j'], ['POST', '/store/k'], ['DELETE', '/store/j'], ['GET', '/set?j=x']] as const) {
      const r = await ask(port, { method, path, body: method === 'GET' ? undefined : 'new' });
      expect(r.status, `${method} ${path}`).toBe(503);
      expect(r.body.toString()).toMatch(/ENOSPC/);
    }
    expect((await ask(port, { path: '/store/j' })).body.toString()).toBe('kept');
    d.cache.setWriteRefusal(null);
    expect((await ask(port, { method: 'PUT', path: '/store/j', body: 'new' })).status).toBe(204);
  });
});

describe('HTTP simple API', () => {
  it('/set stores (200, empty), /get returns text/plain or an empty 404; form decoding; one pair only', async () => {
    const { d, port } = await start();
    const s = await ask(port, { path: '/set?somekey=a+value%21' });
    expect([s.status, s.body.length]).toEqual([200, 0]);
    const g = await ask(port, { path: '/get?key=somekey' });
    expect([g.status, g.body.toString(), g.headers['content-type']]).toEqual([200, 'a value!', 'text/plain; charset=utf-8']);
    const miss = await ask(port, { path: '/get?key=other' });
    expect([miss.status, miss.body.length]).toEqual([404, 0]);
    expect((await ask(port, { path: '/set?some+key=v' })).status).toBe(400);
    expect((await ask(port, { path: '/set?somekey=v' })).status).toBe(200);
    const c = await Client.connect(d.tcpPort!);
    expect(await c.call('get somekey\r\n')).toBe('VALUE somekey 0 1\r\nv\r\nEND\r\n');
    for (const bad of ['/set', '/set?a=1&b=2', '/set?novalue', '/get', '/get?k=a', '/get?key=a&key=b']) {
      const r = await ask(port, { path: bad });
      expect(r.status, bad).toBe(400);
      expect(r.body.length, bad).toBeGreaterThan(0);
    }
    expect((await ask(port, { path: '/set?e=' })).status).toBe(200);
    expect((await ask(port, { path: '/get?key=e' })).body.length).toBe(0);
  });
});
