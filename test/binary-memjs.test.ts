// End-to-end: memjs 1.3.2, a real binary client, against memcached-ts and (when installed)
// real memcached, with the same tests for both. Known memjs bugs are tested around, not
// accommodated by the server: prepend sends the append opcode, counters above 2^32 are
// misreported, and a request whose connection the server closes never gets its callback.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import memjs from 'memjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawConn, startTarget, type Target } from './binary/servers.js';
import { request as binaryRequest } from './binary/wire.js';
import { request } from './support/raw-client.js';
import { referenceAvailable } from './support/reference-server.js';

const quiet = { log: () => {} };
const targets: Array<Target['name']> = referenceAvailable('test/binary-memjs.test.ts (memjs against memcached)') ? ['memcached-ts', 'memcached'] : ['memcached-ts'];

/** memjs 1.3.2's counter decoding: (hi << 8) + lo, wrong above 2^32. */
const memjsCounter = (v: bigint): number => (Number(v >> 32n) << 8) + Number(v & 0xffffffffn);

/** The text protocol over a plain socket: one command, the reply up to its terminator. */
function text(port: number, line: string, until: RegExp): Promise<string> {
  return request(port, line, (got) => until.test(got));
}

describe.each(targets)('memjs against %s', (name) => {
  let t: Target;
  let client: memjs.Client;
  const k = (s: string): string => `memjs:${s}`;

  beforeAll(async () => {
    t = await startTarget(name, ['-I', '2m']);
    client = memjs.Client.create(`127.0.0.1:${t.port}`, { logger: quiet, timeout: 2 });
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await t?.stop();
  });

  it('set, get, add, replace, delete', async () => {
    expect(await client.set(k('a'), 'alpha')).toBe(true);
    const g = await client.get(k('a'));
    expect(g.value!.toString()).toBe('alpha');
    expect(g.flags!.readUInt32BE(0)).toBe(0);
    expect((await client.get(k('missing'))).value).toBeNull();
    expect(await client.add(k('a'), 'x')).toBe(false);
    expect(await client.add(k('b'), 'beta')).toBe(true);
    expect(await client.replace(k('none'), 'x')).toBe(false);
    expect(await client.replace(k('b'), 'beta2')).toBe(true);
    expect((await client.get(k('b'))).value!.toString()).toBe('beta2');
    expect(await client.delete(k('b'))).toBe(true);
    expect(await client.delete(k('b'))).toBe(false);
  });

  it('increment and decrement with an initial value', async () => {
    expect(await client.increment(k('n'), 5, { initial: 10 })).toEqual({ success: true, value: 10 });
    expect(await client.increment(k('n'), 5)).toEqual({ success: true, value: 15 });
    // memjs's decrement needs the options object (it reads options.initial unguarded)
    expect(await client.decrement(k('n'), 20, {})).toEqual({ success: true, value: 0 });
    expect(await client.decrement(k('m'), 1, { initial: 3 })).toEqual({ success: true, value: 3 });
    await client.set(k('t'), 'text');
    await expect(client.increment(k('t'), 1, {})).rejects.toThrow(/INCREMENT/);
  });

  it('counters above 2^32: right on the wire, misreported by memjs', async () => {
    const big = 0x1_0000_0000n + 41n;
    await client.set(k('big'), big.toString());
    const r = await client.increment(k('big'), 1);
    expect(r.value).toBe(memjsCounter(big + 1n));
    expect((await client.get(k('big'))).value!.toString()).toBe((big + 1n).toString());
    const conn = await RawConn.connect(t.port);
    const extras = Buffer.alloc(20);
    extras.writeBigUInt64BE(1n, 0);
    const { packets } = await conn.exchange(binaryRequest({ opcode: 0x05, key: k('big'), extras }));
    conn.close();
    expect(packets[0]!.value.readBigUInt64BE(0)).toBe(big + 2n);
  });

  it('append; prepend appends too (memjs sends the append opcode)', async () => {
    // a miss is Not stored (0x05), which memjs turns into an error
    await expect(client.append(k('none'), 'x')).rejects.toThrow(/APPEND: Item not stored/);
    await client.set(k('p'), 'mid');
    expect(await client.append(k('p'), '>')).toBe(true);
    expect(await client.prepend(k('p'), '<')).toBe(true);
    expect((await client.get(k('p'))).value!.toString()).toBe('mid><');
  });

  it('touch', async () => {
    await client.set(k('touch'), 'v');
    expect(await client.touch(k('touch'), 100)).toBe(true);
    expect(await client.touch(k('untouched'), 100)).toBe(false);
  });

  it('stats, stats groups', async () => {
    const general = await new Promise<Record<string, string>>((resolve, reject) =>
      client.stats((err, _server, stats) => (err || !stats ? reject(err) : resolve(stats))),
    );
    expect(Number(general.curr_items)).toBeGreaterThan(0);
    expect(general.version).toMatch(/^1\.6\./);
    const settings = await new Promise<Record<string, string>>((resolve, reject) =>
      client.statsWithKey('settings', (err, _server, stats) => (err || !stats ? reject(err) : resolve(stats))),
    );
    expect(settings.maxbytes).toBeDefined();
  });

  it('many concurrent requests in flight on one connection', async () => {
    const n = 1000;
    const keys = Array.from({ length: n }, (_, i) => k(`c${i}`));
    expect((await Promise.all(keys.map((key, i) => client.set(key, `value-${i}`)))).every(Boolean)).toBe(true);
    const got = await Promise.all(keys.map((key) => client.get(key)));
    expect(got.map((g) => g.value!.toString())).toEqual(keys.map((_, i) => `value-${i}`));
  });

  it('values near the -I limit (2m) are stored; a bigger one is refused', async () => {
    const near = Buffer.alloc(2 * 1024 * 1024 - 512, 0x5a);
    expect(await client.set(k('large'), near)).toBe(true);
    const back = await client.get(k('large'));
    expect(back.value!.equals(near)).toBe(true);
    await expect(client.set(k('large2'), Buffer.alloc(2 * 1024 * 1024 + 1))).rejects.toThrow(/SET/);
  });

  it('a text client and memjs see each other’s writes', async () => {
    await client.set(k('shared'), 'from-binary');
    expect(await text(t.port, `get ${k('shared')}\r\n`, /END\r\n$/)).toContain('from-binary');
    await text(t.port, `set ${k('shared')} 3 0 9\r\nfrom-text\r\n`, /STORED\r\n$/);
    const g = await client.get(k('shared'));
    expect([g.value!.toString(), g.flags!.readUInt32BE(0)]).toEqual(['from-text', 3]);
  });

  it('a request the server answers and then closes on: memjs gets the error, then reconnects', async () => {
    const c = memjs.Client.create(`127.0.0.1:${t.port}`, { logger: quiet, retries: 1, timeout: 2 });
    await c.set(k('r'), 'v');
    await expect(c.get('x'.repeat(251))).rejects.toThrow(/GET: Invalid arguments/);
    // memjs bug: a request written before it notices the close is never called back. Whether
    // this one is written before the close is noticed is a race (a loaded host can deliver
    // the close first, and then memjs reconnects and is answered), so every outcome but a
    // wrong value is allowed here; what must hold is the reconnect below.
    const lost = await Promise.race([
      c.get(k('r')).then(
        (r) => (r.value?.toString() === 'v' ? 'answered' : 'wrong value'),
        () => 'failed',
      ),
      new Promise((r) => setTimeout(() => r('no callback'), 1000)),
    ]);
    expect(['no callback', 'answered', 'failed']).toContain(lost);
    // once the socket is gone, the next request opens a new connection and works
    expect((await c.get(k('r'))).value!.toString()).toBe('v');
    c.close();
  });

  it('quit closes the connection; the next request reconnects', async () => {
    const c = memjs.Client.create(`127.0.0.1:${t.port}`, { logger: quiet, timeout: 2 });
    await c.set(k('q'), 'v');
    c.quit();
    await new Promise((r) => setTimeout(r, 50));
    expect((await c.get(k('q'))).value!.toString()).toBe('v');
    c.close();
  });

  it('flush', async () => {
    await client.set(k('f'), 'v');
    const r = await client.flush();
    expect(Object.values(r)).toEqual([true]);
    expect((await client.get(k('f'))).value).toBeNull();
  });
});

describe.each(targets)('memjs when %s goes away', (name) => {
  it('a request to a stopped server fails with an error (no hang)', async () => {
    const t = await startTarget(name);
    const c = memjs.Client.create(`127.0.0.1:${t.port}`, { logger: quiet, retries: 1, timeout: 1 });
    await c.set('gone', 'v');
    await t.stop();
    await expect(c.get('gone')).rejects.toBeDefined();
    c.close();
  }, 30_000);
});

describe('memjs SASL PLAIN against memcached-ts -S -Y', () => {
  // Debian's memcached has no password-file SASL backend, so this runs against ours only.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcsasl-'));
  const file = path.join(dir, 'auth');
  fs.writeFileSync(file, 'alice:s3cret\n');
  let t: Target;
  beforeAll(async () => {
    t = await startTarget('memcached-ts', ['-S', '-Y', file]);
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the user:pass@host form authenticates and then works', async () => {
    const c = memjs.Client.create(`alice:s3cret@127.0.0.1:${t.port}`, { logger: quiet, timeout: 2 });
    expect(await c.set('sasl', 'ok')).toBe(true);
    expect((await c.get('sasl')).value!.toString()).toBe('ok');
    c.close();
  });

  it('wrong credentials fail the request', async () => {
    const c = memjs.Client.create(`alice:wrong@127.0.0.1:${t.port}`, { logger: quiet, retries: 1, timeout: 2 });
    await expect(c.get('sasl')).rejects.toBeDefined();
    c.close();
  });

  it('no credentials: the server answers with the auth error and closes', async () => {
    const conn = await RawConn.connect(t.port);
    const r = await conn.exchange(binaryRequest({ opcode: 0x00, key: 'sasl' }));
    expect([r.packets.map((p) => p.status), r.closed]).toEqual([[0x20], true]);
  });
});
