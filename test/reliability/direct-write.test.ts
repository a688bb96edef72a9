// Replies of plain sockets go straight to the libuv handle (src/server/direct-write.ts). These
// pin down that the path is in use, that a write the kernel cannot take whole holds the
// connection until libuv has finished it with every byte in order, that a client leaving
// mid-write costs only its own connection, and that socket.write() still serves when a
// DirectWriter cannot be made.
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DirectWriter } from '../../src/server/direct-write.js';
import { Collector, connect, until } from '../support/raw-client.js';
import { startCore, type CoreServer } from './core-server.js';

let server: CoreServer | null = null;
afterEach(async () => {
  vi.restoreAllMocks();
  await server?.close();
  server = null;
});

const connectionOf = (s: CoreServer, sock: net.Socket) => [...s.core.connections].find((c) => c.socket.remotePort === sock.localPort);

/** Ten distinct 200 KB values, each byte a function of key and position. */
const VALUE_BYTES = 200_000;
const valueOf = (k: number): Buffer => {
  const b = Buffer.allocUnsafe(VALUE_BYTES);
  for (let i = 0; i < b.length; i++) b[i] = 97 + ((i * 7 + k * 13) % 26);
  return b;
};

async function storeValues(port: number): Promise<void> {
  const c = new Collector(await connect(port));
  for (let k = 0; k < 10; k++) c.socket.write(Buffer.concat([Buffer.from(`set k${k} 0 0 ${VALUE_BYTES}\r\n`), valueOf(k), Buffer.from('\r\n')]));
  await until(() => c.text().split('STORED\r\n').length > 10);
  c.socket.destroy();
}

describe('direct socket writes', () => {
  it('are how plain TCP connections send replies', async () => {
    server = await startCore();
    const direct = vi.spyOn(DirectWriter.prototype, 'write');
    const c = new Collector(await connect(server.port));
    const conn = await (async () => {
      c.socket.write('version\r\n');
      await until(() => c.text().includes('\r\n'));
      return connectionOf(server!, c.socket)!;
    })();
    const viaStream = vi.spyOn(conn.socket, 'write');
    const before = direct.mock.calls.length;
    c.socket.write('set a 5 0 3\r\nabc\r\nget a\r\n');
    await until(() => c.text().endsWith('END\r\n'));
    expect(c.text()).toMatch(/STORED\r\nVALUE a 5 3\r\nabc\r\nEND\r\n$/);
    expect(direct.mock.calls.length).toBeGreaterThan(before);
    expect(viaStream).not.toHaveBeenCalled();
  });

  it('hold a connection whose reply the kernel did not take whole, and deliver every byte in order', async () => {
    const order: number[] = [];
    for (let round = 0; round < 30; round++) for (let k = 0; k < 10; k++) order.push((k * 3 + round) % 10);
    const sock = await stalledClient(order.map((k) => `get k${k}\r\n`).join(''));
    const conn = connectionOf(server!, sock)!;
    // the queued rest is counted as this client's pending output
    expect(conn.pendingOutput).toBeGreaterThan(0);
    const got = await readAll(sock, order.map(reply));
    expect(got.equals(Buffer.concat(order.map(reply)))).toBe(true);
    expect(conn.state).toBe('conn_waiting');
    sock.destroy();
  }, 40_000);

  it('cost only the connection of a client that leaves while a write is queued', async () => {
    const sock = await stalledClient('get k1\r\n'.repeat(200));
    const gone = new Promise((r) => sock.on('close', r));
    sock.destroy();
    await gone;
    await until(() => server!.core.connections.size === 0);
    const c = new Collector(await connect(server!.port));
    c.socket.write('get k2\r\n');
    await until(() => c.text().endsWith('END\r\n'));
    expect(c.text().startsWith(`VALUE k2 0 ${VALUE_BYTES}\r\n`)).toBe(true);
  });

  it('fall back to socket.write() when no DirectWriter can be made', async () => {
    vi.spyOn(DirectWriter, 'for').mockReturnValue(null);
    const sock = await stalledClient('get k3\r\n'.repeat(50));
    const want = Array.from({ length: 50 }, () => reply(3));
    expect((await readAll(sock, want)).equals(Buffer.concat(want))).toBe(true);
  }, 40_000);
});

/** A server holding the ten values, and a client that asked for `gets` and reads nothing yet. */
async function stalledClient(gets: string): Promise<net.Socket> {
  server = await startCore();
  await storeValues(server.port);
  const sock = await connect(server.port);
  sock.pause();
  sock.write(gets);
  await until(() => connectionOf(server!, sock)?.state === 'conn_mwrite');
  return sock;
}

/** The whole get reply for key k{k}. */
const reply = (k: number): Buffer => Buffer.concat([Buffer.from(`VALUE k${k} 0 ${VALUE_BYTES}\r\n`), valueOf(k), Buffer.from('\r\nEND\r\n')]);

/** Resume a paused socket and collect what it receives until it has as many bytes as `parts`. */
async function readAll(sock: net.Socket, parts: Buffer[]): Promise<Buffer> {
  const n = parts.reduce((sum, b) => sum + b.length, 0);
  const chunks: Buffer[] = [];
  let got = 0;
  sock.on('data', (d: Buffer) => {
    chunks.push(d);
    got += d.length;
  });
  sock.resume();
  await until(() => got >= n, 30_000);
  return Buffer.concat(chunks);
}
