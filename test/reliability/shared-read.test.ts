// Plain TCP connections read into one shared buffer (src/server/shared-read.ts). Every other
// socket test runs through that path too; these pin down what it must keep: the path is in
// use, many connections with partial requests interleaved do not see each other's bytes,
// server.close() still waits for its sockets, and pause/resume (backpressure) still works.
import { afterEach, describe, expect, it } from 'vitest';
import { readsIntoSink } from '../../src/server/shared-read.js';
import { Collector, connect, until } from '../support/raw-client.js';
import { startCore, type CoreServer } from './core-server.js';

let server: CoreServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe('shared read buffer', () => {
  it('is what plain TCP connections read through', async () => {
    server = await startCore();
    const c = new Collector(await connect(server.port));
    c.socket.write('version\r\n');
    await until(() => c.text().includes('\r\n'));
    const [conn] = [...server.core.connections];
    expect(conn).toBeDefined();
    expect(readsIntoSink(conn!.socket)).toBe(true);
  });

  it('keeps the partial requests of interleaved connections apart', async () => {
    server = await startCore();
    const n = 20;
    const clients = await Promise.all(Array.from({ length: n }, async () => new Collector(await connect(server!.port))));
    // every client sends its set in three pieces, the pieces of all clients interleaved,
    // so each read lands in the shared buffer while the others hold a partial request
    const value = (i: number): string => `value-of-client-${i}-`.repeat(20 + i);
    const pieces = clients.map((_, i) => {
      const req = `set key${i} ${i} 0 ${value(i).length}\r\n${value(i)}\r\nget key${i}\r\n`;
      return [req.slice(0, 7), req.slice(7, 60), req.slice(60)];
    });
    for (let p = 0; p < 3; p++) {
      for (let i = 0; i < n; i++) clients[i]!.socket.write(pieces[i]![p]!);
      await new Promise((r) => setTimeout(r, 20));
    }
    for (let i = 0; i < n; i++) {
      const want = `STORED\r\nVALUE key${i} ${i} ${value(i).length}\r\n${value(i)}\r\nEND\r\n`;
      await until(() => clients[i]!.text().length >= want.length);
      expect(clients[i]!.text()).toBe(want);
    }
  });

  it('stops reading from a client that does not read its replies, and goes on when it does', async () => {
    server = await startCore();
    const setter = await connect(server.port);
    setter.on('data', () => setter.destroy());
    await new Promise<void>((resolve) => setter.write(`set big 0 0 100000\r\n${'x'.repeat(100000)}\r\n`, () => resolve()));
    const sock = await connect(server.port);
    sock.pause();
    // far more replies than the kernel and the connection's high-water mark hold
    const burst = 'get big\r\n'.repeat(400);
    for (let i = 0; i < 20; i++) sock.write(burst);
    await new Promise((r) => setTimeout(r, 300));
    const [conn] = [...server.core.connections].filter((c) => c.socket.remotePort === sock.localPort);
    expect(conn).toBeDefined();
    expect(conn!.state).toBe('conn_mwrite');
    let got = 0;
    const want = 8000 * (100000 + 'VALUE big 0 100000\r\n\r\nEND\r\n'.length);
    sock.on('data', (d: Buffer) => {
      got += d.length;
    });
    sock.resume();
    await until(() => got >= want, 30_000);
    expect(got).toBe(want);
    sock.destroy();
  }, 40_000);

  it('server.close() waits for connections accepted this way', async () => {
    server = await startCore();
    const c = new Collector(await connect(server.port));
    c.socket.write('version\r\n');
    await until(() => c.text().includes('\r\n'));
    let closed = false;
    const listenersClosed = server.core.closeListeners().then(() => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(false);
    c.socket.destroy();
    await listenersClosed;
    expect(closed).toBe(true);
  });
});
