// Large replies are built in pooled buffers that go back to the pool once their socket write
// has completed (src/protocol/output.ts). A buffer handed out again too early would change
// bytes still waiting to be sent; these tests look for exactly that.
import { afterEach, describe, expect, it } from 'vitest';
import { Output, OUTPUT_HIGH_WATER, releaseLargeBuffers } from '../../src/protocol/output.js';
import { connect } from '../support/raw-client.js';
import { startCore, type CoreServer } from './core-server.js';

let server: CoreServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe('Output: pooled buffers for large replies', () => {
  it('a large reply uses a pooled buffer that comes back only through releaseLargeBuffers', () => {
    const out = new Output();
    out.ascii('x'.repeat(300 * 1024));
    const first = out.buf;
    const slice = out.take()!;
    expect(slice.length).toBe(300 * 1024);
    expect(out.buf).not.toBe(first); // moved off it at once
    const retired = out.takeRetired();
    expect(retired).toEqual([first]);
    expect(out.takeRetired()).toBeNull();
    // not released yet: the next large reply gets another buffer
    out.ascii('y'.repeat(300 * 1024));
    const second = out.buf;
    expect(second).not.toBe(first);
    out.take();
    releaseLargeBuffers(retired!);
    releaseLargeBuffers(out.takeRetired()!);
    out.ascii('z'.repeat(200 * 1024) + 'z'.repeat(100 * 1024));
    expect([first, second]).toContain(out.buf);
  });

  it('small replies never take a pooled buffer', () => {
    const out = new Output();
    for (let i = 0; i < 100; i++) out.ascii('VALUE k 0 1\r\nx\r\nEND\r\n');
    out.take();
    expect(out.takeRetired()).toBeNull();
    expect(OUTPUT_HIGH_WATER).toBeGreaterThan(0);
  });
});

describe('Output: reusing the arena after a completed write', () => {
  const warm = (): Output => {
    // the first, small arena is let go at the first take(); the second is the one kept
    const out = new Output();
    out.ascii('first');
    out.take();
    return out;
  };

  it('after written() the next batch starts at the arena start, in the same slice object', () => {
    const out = warm();
    out.ascii('STORED\r\n');
    const a = out.take()!;
    out.written();
    out.ascii('NOT_FOUND\r\n');
    const b = out.take()!;
    expect(b.byteOffset).toBe(a.byteOffset);
    expect(b.toString()).toBe('NOT_FOUND\r\n');
    out.written();
    // a reply of a length seen before comes in the slice object made for it then
    out.ascii('EXISTS\r\n');
    const c = out.take()!;
    expect(c).toBe(a);
    expect(c.toString()).toBe('EXISTS\r\n');
  });

  it('without written() a taken slice is never rewritten', () => {
    const out = warm();
    out.ascii('VALUE a 0 1\r\na\r\nEND\r\n');
    const a = out.take()!;
    for (let i = 0; i < 1000; i++) {
      out.ascii(`reply ${i}\r\n`);
      out.take();
    }
    expect(a.toString()).toBe('VALUE a 0 1\r\na\r\nEND\r\n');
  });

  it('written() with bytes still pending keeps them', () => {
    const out = warm();
    out.ascii('one\r\n');
    out.take();
    out.ascii('two\r\n');
    out.written();
    expect(out.take()!.toString()).toBe('two\r\n');
  });
});

describe('large replies over a socket', () => {
  it('readers that lag while the value is rewritten get every reply whole', async () => {
    server = await startCore();
    const size = 300 * 1024;
    const writer = await connect(server.port);
    const setTo = (ch: string): Promise<void> =>
      new Promise((resolve) => {
        writer.once('data', () => resolve());
        writer.write(`set big 0 0 ${size}\r\n${ch.repeat(size)}\r\n`);
      });
    await setTo('a');
    // several readers that do not read for now: each one's pending reply sits in a pooled
    // buffer while the others' replies are built, so a buffer given back before its write
    // completed would carry another reader's bytes
    const readers = await Promise.all([0, 1, 2].map(() => connect(server!.port)));
    const received = readers.map(() => [] as Buffer[]);
    readers.forEach((r, i) => {
      r.pause();
      r.on('data', (d: Buffer) => received[i]!.push(d));
    });
    // 15 MB per reader: more than loopback socket buffers take, so writes stay pending
    const gets = 50;
    for (let i = 0; i < gets; i++) {
      for (const r of readers) r.write('get big\r\n');
      await new Promise((r) => setTimeout(r, 10));
      // rewrite the value between rounds, in other letters
      await setTo(String.fromCharCode(98 + (i % 20)));
    }
    for (const r of readers) r.resume();
    const header = `VALUE big 0 ${size}\r\n`;
    const replyBytes = header.length + size + '\r\nEND\r\n'.length;
    const total = (i: number): number => received[i]!.reduce((n, c) => n + c.length, 0);
    const end = Date.now() + 20_000;
    while (readers.some((_, i) => total(i) < gets * replyBytes) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    for (let k = 0; k < readers.length; k++) {
      const all = Buffer.concat(received[k]!).toString('latin1');
      expect(all.length).toBe(gets * replyBytes);
      for (let i = 0; i < gets; i++) {
        const reply = all.slice(i * replyBytes, (i + 1) * replyBytes);
        expect(reply.startsWith(header)).toBe(true);
        const value = reply.slice(header.length, header.length + size);
        // one letter throughout: no reply mixes bytes of two values
        expect(value).toBe(value[0]!.repeat(size));
        expect(reply.endsWith('\r\nEND\r\n')).toBe(true);
      }
    }
    writer.destroy();
    for (const r of readers) r.destroy();
  }, 30_000);
});
