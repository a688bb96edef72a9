// Graceful shutdown of a real daemon process: SIGTERM stops accepting, answers every request
// already read (replies flushed), and exits 0 within a bounded time; a second signal exits
// at once.
import { describe, expect, it } from 'vitest';
import { startDaemonProcess } from '../support/daemon-process.js';
import { Collector, connect, request } from '../support/raw-client.js';

describe('graceful shutdown', () => {
  it('SIGTERM answers the requests already read, then exits 0', async () => {
    const d = await startDaemonProcess();
    const size = 200 * 1024;
    expect(await request(d.port, `set big 0 0 ${size}\r\n${'b'.repeat(size)}\r\n`, (t) => t.endsWith('\r\n'))).toBe('STORED\r\n');
    // a client that has sent 50 gets (10 MB of replies) and is not reading yet
    const s = await connect(d.port);
    s.pause();
    const n = 50;
    s.write('get big\r\n'.repeat(n));
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    process.kill(d.pid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    // new connections are refused while it drains
    const late = await connect(d.port).then(
      (sock) => new Collector(sock).closedWithin(2000),
      () => true,
    );
    expect(late).toBe(true);
    const c = new Collector(s, false);
    s.resume();
    expect(await c.closedWithin(5000)).toBe(true);
    expect(c.bytes).toBe(n * (`VALUE big 0 ${size}\r\n`.length + size + 2 + 5));
    expect(await d.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('gives up on a client that never reads after a bounded time', async () => {
    const d = await startDaemonProcess();
    const size = 500 * 1024;
    await request(d.port, `set big 0 0 ${size}\r\n${'b'.repeat(size)}\r\n`, (t) => t.endsWith('\r\n'));
    const s = await connect(d.port);
    s.pause();
    s.write('get big\r\n'.repeat(100));
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    process.kill(d.pid, 'SIGTERM');
    expect(await d.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(6000);
    s.destroy();
  });

  it('a second signal exits at once', async () => {
    const d = await startDaemonProcess();
    const size = 500 * 1024;
    await request(d.port, `set big 0 0 ${size}\r\n${'b'.repeat(size)}\r\n`, (t) => t.endsWith('\r\n'));
    const s = await connect(d.port);
    s.pause();
    s.write('get big\r\n'.repeat(100));
    await new Promise((r) => setTimeout(r, 200));
    process.kill(d.pid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    process.kill(d.pid, 'SIGINT');
    const code = await d.exited;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(code).toBe(1);
    s.destroy();
  });
});
