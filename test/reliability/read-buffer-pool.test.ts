// Large requests (1 MiB values) are gathered in buffers from a shared pool that go back once
// the request is consumed (src/server/read-buffer.ts, src/protocol/buffer-pool.ts). A buffer
// handed to a second connection while the first still holds part of a request would mix
// their bytes; these tests look for exactly that, and for the reuse itself.
import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/protocol/buffer-pool.js';
import { ReadBuffer } from '../../src/server/read-buffer.js';

const MiB = 1024 * 1024;

describe('BufferPool', () => {
  it('hands out a kept buffer that is large enough, else a new one in whole units', () => {
    const pool = new BufferPool(2, 4 * MiB, 256 * 1024);
    const a = pool.take(300 * 1024);
    expect(a.length).toBe(512 * 1024);
    pool.give(a);
    expect(pool.size).toBe(1);
    expect(pool.take(600 * 1024)).not.toBe(a); // too small for that
    expect(pool.take(100 * 1024)).toBe(a);
    expect(pool.size).toBe(0);
  });

  it('keeps at most its count, preferring larger buffers, and never one over its limit', () => {
    const pool = new BufferPool(2, 4 * MiB, 256 * 1024);
    const small = Buffer.allocUnsafeSlow(256 * 1024);
    const mid = Buffer.allocUnsafeSlow(512 * 1024);
    const big = Buffer.allocUnsafeSlow(MiB);
    pool.give(small);
    pool.give(mid);
    pool.give(big);
    expect(pool.size).toBe(2);
    expect(pool.take(MiB)).toBe(big);
    expect(pool.take(1)).toBe(mid);
    pool.give(Buffer.allocUnsafeSlow(5 * MiB));
    expect(pool.size).toBe(0);
  });
});

/** A set request for `n` value bytes, cut after `sent` bytes of the whole. */
function partialSet(key: string, n: number, sent: number): { chunk: Buffer; total: number } {
  const head = `set ${key} 0 0 ${n}\r\n`;
  const whole = Buffer.concat([Buffer.from(head), Buffer.alloc(n, key), Buffer.from('\r\n')]);
  return { chunk: whole.subarray(0, sent), total: whole.length };
}

describe('ReadBuffer: pooled buffers for large requests', () => {
  it('a consumed large request gives its buffer back for the next one; a pending one keeps it', () => {
    const seen: ArrayBufferLike[] = [];
    const take = (total: number) => (buf: Buffer): number => {
      seen.push(buf.buffer);
      return buf.length >= total ? total : 0;
    };
    const a = new ReadBuffer(4 * MiB);
    const b = new ReadBuffer(4 * MiB);
    const reqA = partialSet('a', MiB, 1000);
    const reqB = partialSet('b', MiB, 1000);
    // a's request arrives in part: its remainder goes into a buffer sized for the whole
    expect(a.feed(reqA.chunk, take(reqA.total), () => reqA.total)).toBe(1000);
    expect(a.capacity).toBeGreaterThanOrEqual(reqA.total);
    // b's arrives in part too: it must get a buffer of its own
    b.feed(reqB.chunk, take(reqB.total), () => reqB.total);
    const rest = Buffer.alloc(reqA.total - 1000, 0x61);
    rest.write('\r\n', rest.length - 2);
    seen.length = 0;
    expect(a.feed(rest, take(reqA.total), () => 0)).toBe(0);
    const bufA = seen[0]!;
    expect(a.capacity).toBe(0); // given back
    seen.length = 0;
    b.feed(Buffer.alloc(0), take(reqB.total), () => reqB.total);
    expect(seen[0] === bufA).toBe(false); // (identity as a boolean: a failed toBe would print 1 MiB)
    // a third request, on a, gets a's old buffer back from the pool
    const c = new ReadBuffer(4 * MiB);
    const reqC = partialSet('c', MiB, 500);
    c.feed(reqC.chunk, take(reqC.total), () => reqC.total);
    seen.length = 0;
    c.feed(Buffer.alloc(0), take(reqC.total), () => reqC.total);
    expect(seen[0] === bufA).toBe(true);
  });

  it('a buffer that still holds the start of the next request is not given back', () => {
    const seen: ArrayBufferLike[] = [];
    const first = partialSet('x', MiB, 0).total;
    const x = new ReadBuffer(4 * MiB);
    // a large request arrives in part: x takes a pooled buffer for it
    const whole = Buffer.concat([partialSet('x', MiB, first).chunk, Buffer.from('set y 0 0 5\r\nab')]);
    x.feed(whole.subarray(0, 1000), () => 0, () => first);
    // the rest arrives with the head of the next request: the first is consumed, the next
    // one's bytes move to the front of the same buffer (it must stay x's)
    let bufX: ArrayBufferLike | null = null;
    const left = x.feed(whole.subarray(1000), (buf) => {
      bufX = buf.buffer;
      return first;
    }, () => 0);
    expect(left).toBe(whole.length - first);
    expect(x.capacity).toBeGreaterThan(64 * 1024);
    // another connection's large request now gets some other buffer
    const y = new ReadBuffer(4 * MiB);
    const reqY = partialSet('y', MiB, 500);
    y.feed(reqY.chunk, () => 0, () => reqY.total);
    y.feed(Buffer.alloc(0), (buf) => {
      seen.push(buf.buffer);
      return 0;
    }, () => reqY.total);
    expect(seen[0] === bufX).toBe(false);
    // x still has the next request's head intact
    let head = '';
    x.feed(Buffer.alloc(0), (buf) => {
      head = buf.toString('latin1');
      return 0;
    }, () => 0);
    expect(head).toBe('set y 0 0 5\r\nab');
  });

  it('small requests never touch the pool', () => {
    const rb = new ReadBuffer(4 * MiB);
    const req = partialSet('k', 100, 20);
    rb.feed(req.chunk, () => 0, () => req.total);
    expect(rb.capacity).toBe(16 * 1024);
    rb.clear();
    expect(rb.capacity).toBe(0);
  });
});
