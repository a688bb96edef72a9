// Answers sent before the body (401, 409) reach a client that is still uploading, also one
// that reads only once it has sent everything; a body of up to 16 MiB is read through and the
// connection stays usable, a larger one closes it.
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig, MB, type Config } from '../../src/config/config.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { captureLog, tempDir } from '../snapshot/helpers.js';
import { ask } from './client.js';

let daemon: Daemon | null = null;
afterEach(async () => {
  await daemon?.stop('test');
  daemon = null;
});

async function start(extra: Partial<Config> = {}): Promise<{ d: Daemon; port: number }> {
  daemon = await startDaemon({ ...defaultConfig(), port: -1, httpPort: -1, ...extra }, { log: captureLog(), lruCrawler: false });
  return { d: daemon, port: daemon.httpPort! };
}

interface Upload {
  /** Everything the server sent. */
  got: string;
  /** Body bytes the client managed to send. */
  sent: number;
  /** The server closed the connection (rather than `until` being met). */
  closed: boolean;
}

/**
 * Send `head`, then `bodyLength` bytes as fast as the server takes them (as curl does: it does
 * not wait for an answer before it uploads), then `after`; resolve once `until(got)` holds or
 * the connection closes.
 */
function upload(port: number, head: string, bodyLength: number, after = '', until: (got: string) => boolean = () => false, readAfterSending = false): Promise<Upload> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    // as Python's http.client does: read nothing until the whole body is sent
    if (readAfterSending) s.pause();
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let got = '';
    let sent = 0;
    let finished = false;
    const finish = (closed: boolean): void => {
      if (finished) return;
      finished = true;
      s.destroy();
      resolve({ got, sent, closed });
    };
    const pump = (): void => {
      while (!s.destroyed && sent < bodyLength) {
        const n = Math.min(chunk.length, bodyLength - sent);
        sent += n;
        if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void s.once('drain', pump);
      }
      if (!s.destroyed && sent === bodyLength && after !== '') s.write(after);
      if (!s.destroyed && sent === bodyLength && readAfterSending) setTimeout(() => s.resume(), 200);
    };
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (until(got)) finish(false);
    });
    s.on('error', () => {});
    s.on('close', () => finish(true));
    s.write(head);
    pump();
  });
}

function statuses(got: string): string[] {
  return [...got.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => m[1]!);
}

describe('early answers reach a client that is still uploading', () => {
  it('401 before a 64 MiB body, to a client that reads while it uploads: the answer arrives, then the connection closes', async () => {
    const dir = tempDir();
    const file = join(dir, 'auth');
    writeFileSync(file, 'alice:secret\n');
    const { port } = await start({ authFile: file, itemSizeMax: 128 * MB });
    const r = await upload(port, `PUT /store/big HTTP/1.1\r\nHost: x\r\nContent-Length: ${64 * MB}\r\n\r\n`, 64 * MB);
    expect(statuses(r.got)).toEqual(['401']);
    expect(r.got).toMatch(/\r\nConnection: close\r\n/i);
    expect(r.closed).toBe(true);
  });

  it('401 before a 24 MiB body, to a client that reads only once it has sent it all: the connection closes only after the client has read it', async () => {
    const dir = tempDir();
    const file = join(dir, 'auth');
    writeFileSync(file, 'alice:secret\n');
    const { port } = await start({ authFile: file, itemSizeMax: 128 * MB });
    const r = await upload(port, `PUT /store/big HTTP/1.1\r\nHost: x\r\nContent-Length: ${24 * MB}\r\n\r\n`, 24 * MB, '', () => false, true);
    expect(statuses(r.got)).toEqual(['401']);
    expect(r.closed).toBe(true);
    expect(r.sent).toBe(24 * MB);
  });

  it('409 before an 8 MiB body: the answer arrives, the body is read through, and the connection serves the next request', async () => {
    const { port } = await start({ itemSizeMax: 32 * MB });
    expect((await ask(port, { method: 'PUT', path: '/store/taken', body: 'first' })).status).toBe(201);
    const r = await upload(port, `POST /store/taken HTTP/1.1\r\nHost: x\r\nContent-Length: ${8 * MB}\r\n\r\n`, 8 * MB, 'GET /store/taken HTTP/1.1\r\nHost: x\r\n\r\n', (got) => got.endsWith('\r\n\r\nfirst'));
    expect(statuses(r.got)).toEqual(['409', '200']);
    expect(r.closed).toBe(false);
    expect(r.sent).toBe(8 * MB);
  });

  it('409 before a 20 MiB body (over 16 MiB) or an unbounded chunked one: the answer arrives, then the connection closes', async () => {
    const { port } = await start({ itemSizeMax: 32 * MB });
    expect((await ask(port, { method: 'PUT', path: '/store/taken', body: 'first' })).status).toBe(201);
    const r = await upload(port, `POST /store/taken HTTP/1.1\r\nHost: x\r\nContent-Length: ${20 * MB}\r\n\r\n`, 20 * MB);
    expect(statuses(r.got)).toEqual(['409']);
    expect(r.got).toMatch(/\r\nConnection: close\r\n/i);
    expect(r.closed).toBe(true);
    const c = await upload(port, 'POST /store/taken HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000\r\n', 64 * 1024);
    expect(statuses(c.got)).toEqual(['409']);
    expect(c.closed).toBe(true);
    expect((await ask(port, { path: '/store/taken' })).body.toString()).toBe('first');
  });
});

describe('idle keep-alive connections', () => {
  it('close at -o idle_timeout (1 s here), not at node\'s default of 5 s', async () => {
    const { port } = await start({ idleTimeout: 1 });
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    let got = '';
    const closed = new Promise<number>((resolve) => s.on('close', () => resolve(Date.now())));
    const answered = new Promise<number>((resolve) => {
      s.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        if (got.endsWith('\r\n\r\nok\n')) resolve(Date.now());
      });
    });
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const t0 = await answered;
    const idle = (await closed) - t0;
    expect(got).toMatch(/^HTTP\/1\.1 200 .*Connection: keep-alive/s);
    expect(idle).toBeGreaterThanOrEqual(900);
    expect(idle).toBeLessThan(4900);
  });
});

describe('slow readers of a big GET', () => {
  it('twelve clients that do not read a 24 MiB blob pin one copy of it, not twelve', async () => {
    const { port } = await start({ itemSizeMax: 32 * MB, memoryLimit: 128 * MB });
    const big = Buffer.alloc(24 * MB, 0x5a);
    expect((await ask(port, { method: 'PUT', path: '/store/big', body: big })).status).toBe(201);
    expect((await ask(port, { path: '/store/big' })).body.equals(big)).toBe(true);
    const before = process.memoryUsage().arrayBuffers;
    const readers = await Promise.all(
      Array.from({ length: 12 }, () =>
        new Promise<net.Socket>((resolve) => {
          const s = net.connect(port, '127.0.0.1');
          s.on('error', () => {});
          // read the status line, then stop reading: the rest stays on the server's side
          s.once('data', (d: Buffer) => {
            expect(d.toString('latin1')).toMatch(/^HTTP\/1\.1 200 /);
            s.pause();
            resolve(s);
          });
          s.write('GET /store/big HTTP/1.1\r\nHost: x\r\n\r\n');
        }),
      ),
    );
    const pinned = process.memoryUsage().arrayBuffers - before;
    for (const s of readers) s.destroy();
    expect(pinned).toBeLessThan(4 * 24 * MB);
  });
});
