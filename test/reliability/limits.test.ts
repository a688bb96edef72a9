// Per-connection limits over real sockets: -c, idle timeout, trickling clients, clients that
// never read their replies (pipelined gets and one huge multi-get), and leak checks.
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { OUTPUT_HIGH_WATER } from '../../src/protocol/output.js';
import { Connection } from '../../src/server/connection.js';
import { openListenWarning } from '../../src/server/server-core.js';
import { isUnspecifiedAddress } from '../../src/server/unspecified-address.js';
import { defaultConfig } from '../../src/config/config.js';
import { VERSION } from '../../src/version.js';
import { referenceAvailable, startReferenceServer } from '../support/reference-server.js';
import { Collector, connect, request } from '../support/raw-client.js';
import { startCore, type CoreServer } from './core-server.js';

const HAVE_MEMCACHED = referenceAvailable('test/reliability/limits.test.ts (-c: the same bytes as memcached)');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

let server: CoreServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function setValue(port: number, key: string, size: number): Promise<void> {
  const r = await request(port, `set ${key} 0 0 ${size}\r\n${'v'.repeat(size)}\r\n`, (t) => t.includes('\r\n'));
  expect(r).toBe('STORED\r\n');
}

describe('-c: the connection limit', () => {
  it('replies "ERROR Too many open connections" and closes, counting rejected_connections', async () => {
    server = await startCore({ maxConnections: 3 });
    const held = await Promise.all([1, 2, 3].map(() => connect(server!.port)));
    await new Promise((r) => setTimeout(r, 20));
    const extra = new Collector(await connect(server.port));
    expect(await extra.closedWithin()).toBe(true);
    expect(extra.text()).toBe('ERROR Too many open connections\r\n');
    held[0]!.destroy();
    await new Promise((r) => setTimeout(r, 20));
    const s = await request(server.port, 'stats\r\n', (t) => t.endsWith('END\r\n'));
    expect(s).toMatch(/STAT rejected_connections 1\r\n/);
    expect(s).toMatch(/STAT max_connections 3\r\n/);
    for (const h of held) h.destroy();
  });

  it.skipIf(!HAVE_MEMCACHED)('sends the same bytes as memcached 1.6.18 when over the limit', async () => {
    const ref = await startReferenceServer(['-c', '32']);
    try {
      const held = [];
      let rejected: Collector | null = null;
      for (let i = 0; i < 40 && rejected === null; i++) {
        const c = new Collector(await connect(ref.port));
        if (await c.closedWithin(200)) rejected = c;
        else held.push(c);
      }
      expect(rejected?.text()).toBe('ERROR Too many open connections\r\n');
      for (const h of held) h.socket.destroy();
    } finally {
      await ref.stop();
    }
  });

  it('10,000 connections opened and closed leave no connection and no heap behind', async () => {
    server = await startCore({ maxConnections: 4096 });
    const port = server.port;
    const round = async (n: number): Promise<void> => {
      const batch = 250;
      for (let i = 0; i < n; i += batch) {
        await Promise.all(
          Array.from({ length: batch }, async (_, j) => {
            const s = await connect(port);
            if (j % 3 === 0) s.destroy(); // abrupt
            else {
              const c = new Collector(s);
              s.write('version\r\n');
              await c.until((x) => x.text().endsWith('\r\n'));
              s.end();
              await c.closedWithin();
            }
          }),
        );
      }
    };
    await round(1000); // warm up
    const until = Date.now() + 5000;
    while (server.core.connections.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    const before = heapUsed();
    await round(10_000);
    const until2 = Date.now() + 5000;
    while (server.core.connections.size > 0 && Date.now() < until2) await new Promise((r) => setTimeout(r, 10));
    expect(server.core.connections.size).toBe(0);
    const grown = heapUsed() - before;
    expect(grown).toBeLessThan(8 * 1024 * 1024);
  }, 60_000);
});

describe('idle timeout', () => {
  it('closes idle and trickling clients and counts idle_kicks; busy clients stay', async () => {
    server = await startCore({ idleTimeout: 5 });
    const { core, clock, port } = server;
    const idle = new Collector(await connect(port));
    const trickler = new Collector(await connect(port));
    const busy = new Collector(await connect(port));
    trickler.socket.write('g');
    clock.advance(3);
    trickler.socket.write('e');
    busy.socket.write('version\r\n');
    await busy.until((c) => c.text().includes('VERSION'));
    clock.advance(3);
    trickler.socket.write('t');
    await new Promise((r) => setTimeout(r, 20));
    core.sweepIdle();
    expect(await idle.closedWithin()).toBe(true);
    expect(await trickler.closedWithin()).toBe(true);
    expect(busy.closed).toBe(false);
    expect(core.idleKicks).toBe(2);
    busy.socket.write('stats\r\n');
    await busy.until((c) => c.text().endsWith('END\r\n'));
    expect(busy.text()).toMatch(/STAT idle_kicks 2\r\n/);
    busy.socket.destroy();
  });

  it('is off by default', async () => {
    server = await startCore();
    const c = new Collector(await connect(server.port));
    server.clock.advance(1_000_000);
    server.core.sweepIdle();
    await new Promise((r) => setTimeout(r, 20));
    expect(c.closed).toBe(false);
    c.socket.destroy();
  });
});

describe('trickled and oversized requests', () => {
  it('a line with no newline is closed past 2048 bytes however slowly it comes', async () => {
    server = await startCore();
    const c = new Collector(await connect(server.port));
    for (let i = 0; i < 50 && !c.closed; i++) {
      c.socket.write('x'.repeat(50));
      await new Promise((r) => setImmediate(r));
    }
    expect(await c.closedWithin()).toBe(true);
  });

  it('a get line stops growing at 1 MiB', async () => {
    server = await startCore();
    const c = new Collector(await connect(server.port));
    c.socket.write('get ');
    const piece = 'k'.repeat(64 * 1024);
    for (let i = 0; i < 20 && !c.closed; i++) {
      c.socket.write(piece);
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(await c.closedWithin()).toBe(true);
  });

  it('the read buffer limit covers one item and its request line', () => {
    expect(Connection.inputLimit(defaultConfig().itemSizeMax)).toBeLessThanOrEqual(1024 * 1024 + 128 * 1024);
  });

  it('a binary SASL request that announces a 4 GB body is closed, not buffered', async () => {
    server = await startCore({ sasl: true, authFile: '/nonexistent', bindingProtocol: 'binary' });
    const c = new Collector(await connect(server.port));
    const h = Buffer.alloc(24 + 5);
    h[0] = 0x80;
    h[1] = 0x21; // SASL auth
    h.writeUInt16BE(5, 2);
    h.writeUInt32BE(0xfffffff0, 8);
    h.write('PLAIN', 24, 'latin1');
    c.socket.write(h);
    c.socket.write(Buffer.alloc(1000));
    expect(await c.closedWithin()).toBe(true);
  });
});

describe('clients that do not read their replies', () => {
  it('a pipeline of gets from a non-reader holds one batch; reading later gets every reply', async () => {
    server = await startCore();
    const size = 256 * 1024;
    await setValue(server.port, 'big', size);
    const s = await connect(server.port);
    s.pause(); // never read, for now
    const n = 400; // 100 MB of replies
    const base = heapUsed();
    s.write('get big\r\n'.repeat(n));
    await new Promise((r) => setTimeout(r, 300));
    const conn = [...server.core.connections].find((c) => c.socket.remotePort === s.localPort)!;
    expect(conn.state).toBe('conn_mwrite');
    expect(conn.pendingOutput).toBeLessThanOrEqual(OUTPUT_HIGH_WATER + size + 4096);
    expect(heapUsed() - base).toBeLessThan(16 * 1024 * 1024);
    // now read everything: no reply is lost
    const c = new Collector(s, false);
    const total = n * (size + 'VALUE big 0 262144\r\n'.length + 2 + 5);
    s.resume();
    await c.until(() => c.bytes >= total, 20_000);
    s.write('version\r\n');
    await c.until(() => c.bytes > total);
    expect(c.bytes).toBe(total + `VERSION ${VERSION}\r\n`.length);
    s.destroy();
  }, 30_000);

  it('a multi-get of thousands of large values yields between keys', async () => {
    server = await startCore();
    const size = 100 * 1024;
    await setValue(server.port, 'v', size);
    const keys = 3000; // 300 MB of reply from one line
    const s = await connect(server.port);
    s.pause();
    const base = heapUsed();
    s.write(`get${' v'.repeat(keys)}\r\n`);
    await new Promise((r) => setTimeout(r, 300));
    const conn = [...server.core.connections][0]!;
    expect(conn.pendingOutput).toBeLessThanOrEqual(OUTPUT_HIGH_WATER + size + 4096);
    expect(heapUsed() - base).toBeLessThan(16 * 1024 * 1024);
    const c = new Collector(s, false);
    let tail = '';
    let done = false;
    s.on('data', (d: Buffer) => {
      tail = (tail + d.toString('latin1')).slice(-16);
      if (tail.endsWith('\r\nEND\r\n')) done = true;
    });
    s.resume();
    await c.until(() => done, 30_000);
    expect(c.bytes).toBe(keys * (size + 'VALUE v 0 102400\r\n'.length + 2) + 5);
    s.destroy();
  }, 40_000);

  it('a non-reader is closed by the idle timeout', async () => {
    server = await startCore({ idleTimeout: 10 });
    await setValue(server.port, 'big', 256 * 1024);
    const s = await connect(server.port);
    s.pause();
    const c = new Collector(s, false);
    s.write('get big\r\n'.repeat(100));
    await new Promise((r) => setTimeout(r, 100));
    expect(server.core.connections.size).toBe(1);
    server.clock.advance(11);
    server.core.sweepIdle();
    // the paused client sees the close only once it reads; the server has let go
    expect(server.core.connections.size).toBe(0);
    expect(server.core.idleKicks).toBe(1);
    s.resume();
    expect(await c.closedWithin()).toBe(true);
  });
});

describe('listening on every interface', () => {
  it('warns without authentication only', () => {
    const c = { ...defaultConfig(), listen: ['0.0.0.0'] };
    expect(openListenWarning(c)).toMatch(/^WARNING: listening on all interfaces \(0\.0\.0\.0\)/);
    expect(openListenWarning({ ...c, listen: ['::'] })).toMatch(/all interfaces/);
    expect(openListenWarning({ ...c, authFile: '/etc/auth' })).toBeNull();
    expect(openListenWarning(defaultConfig())).toBeNull();
  });

  it('warns for every spelling of the unspecified address', () => {
    const c = { ...defaultConfig(), listen: ['127.0.0.1'] };
    for (const any of ['0', '0.0.0.0', '0.0', '00', '0x0', '::', '::0', '0::0', '0:0:0:0:0:0:0:0',
      '0000::0000', '::0.0.0.0', '[::]', '[::0]', '*', '']) {
      expect(isUnspecifiedAddress(any), any).toBe(true);
      expect(openListenWarning({ ...c, listen: ['127.0.0.1', any] }), any).toMatch(/all interfaces/);
    }
    for (const one of ['127.0.0.1', '::1', '0.0.0.1', '10.0.0.0', '1::', '::ffff:0.0.0.1', 'localhost', '[::1]', '0:0']) {
      expect(isUnspecifiedAddress(one), one).toBe(false);
    }
    expect(openListenWarning({ ...c, listen: ['::1', '127.0.0.1'] })).toBeNull();
  });
});
