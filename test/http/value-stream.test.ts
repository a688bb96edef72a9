// sendValue with a response that drains only when the test says so: what happens between two
// slices is chosen exactly. A value moved to another chunk by the slab page mover (same CAS)
// is followed and sent whole; one replaced in place (same chunk, new CAS) or deleted is cut
// off after the slices already sent, which are all of the old version.
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { NONE } from '../../src/cache/api.js';
import type { Cache } from '../../src/cache/cache.js';
import { ManualClock } from '../../src/cache/clock.js';
import { MoveResult } from '../../src/cache/page-mover.js';
import { HttpCounters, type HttpContext } from '../../src/protocol/http/context.js';
import { PENDING_MAX, SLICE_BYTES, sendValue } from '../../src/protocol/http/value-stream.js';
import { captureLog, newCache, set } from '../snapshot/helpers.js';
import { seededRandom } from '../support/random.js';

/** The parts of a ServerResponse sendValue uses; output stays pending until drain(). */
class SlowResponse extends EventEmitter {
  readonly req = { method: 'GET' };
  readonly writableHighWaterMark = 16 * 1024;
  writableLength = 0;
  destroyed = false;
  ended = false;
  readonly sent: Buffer[] = [];

  write(b: Buffer): boolean {
    this.sent.push(b);
    this.writableLength += b.length;
    return this.writableLength < this.writableHighWaterMark;
  }
  end(b?: Buffer): void {
    if (b !== undefined) this.sent.push(b);
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  drain(): void {
    this.writableLength = 0;
    this.emit('drain');
  }
  get body(): Buffer {
    return Buffer.concat(this.sent);
  }
}

function bytes(n: number, seed: number): Buffer {
  const rnd = seededRandom(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

const SIZE = 300 * 1024; // over PENDING_MAX, and unchained (a page mover relocates it)

function setup(): { c: Cache; ctx: HttpContext; values: Buffer[] } {
  const c = newCache(new ManualClock(), 64);
  const values: Buffer[] = [];
  for (let i = 0; i < 6; i++) {
    values.push(bytes(SIZE, i));
    set(c, `v${i}`, values[i]!);
  }
  const ctx = { cache: c, counters: new HttpCounters(), log: captureLog() } as unknown as HttpContext;
  return { c, ctx, values };
}

function start(c: Cache, ctx: HttpContext, key: string): SlowResponse {
  const res = new SlowResponse();
  const k = Buffer.from(key);
  const id = c.get(k, 0, k.length);
  expect(id).not.toBe(NONE);
  sendValue(ctx, res as unknown as ServerResponse, k, id, 0, c.itemValueLength(id));
  // it stops once PENDING_MAX wait, having copied no more than that and one slice
  expect(res.ended).toBe(false);
  expect(res.writableLength).toBeGreaterThanOrEqual(PENDING_MAX);
  expect(res.writableLength).toBeLessThan(PENDING_MAX + SLICE_BYTES);
  return res;
}

describe('sendValue between slices', () => {
  it('an item moved to another chunk by the page mover (same CAS) is followed: the whole value arrives', () => {
    const { c, ctx, values } = setup();
    const k = Buffer.from('v0');
    const before = c.find(k, 0, k.length);
    const cls = c.itemClass(before);
    // free the later items' chunks so the moved page's items are rescued, not dropped
    for (let i = 3; i < 6; i++) c.delete(Buffer.from(`v${i}`), 0, 2);
    const res = start(c, ctx, 'v0');
    expect(c.mover.move(cls, 1)).toBe(MoveResult.Ok);
    const after = c.find(k, 0, k.length);
    expect(after).not.toBe(before);
    expect(c.mover.stats.slab_reassign_rescues).toBeGreaterThan(0);
    res.drain();
    expect([res.ended, res.destroyed]).toEqual([true, false]);
    expect(res.body.equals(values[0]!)).toBe(true);
    expect(ctx.counters.abortedBodies).toBe(0);
  });

  for (const change of ['replaced in its own chunk', 'deleted'] as const) {
    it(`an item ${change} between slices: cut off after the old version's slices`, () => {
      const { c, ctx, values } = setup();
      const res = start(c, ctx, 'v1');
      const id = c.find(Buffer.from('v1'), 0, 2);
      if (change === 'deleted') c.delete(Buffer.from('v1'), 0, 2);
      else {
        set(c, 'v1', bytes(SIZE, 99));
        expect(c.find(Buffer.from('v1'), 0, 2)).toBe(id); // the same chunk, rewritten
      }
      const sent = res.body.length;
      res.drain();
      expect([res.ended, res.destroyed]).toEqual([false, true]);
      expect(res.body.length).toBe(sent);
      expect(res.body.equals(values[1]!.subarray(0, sent))).toBe(true);
      expect(ctx.counters.abortedBodies).toBe(1);
    });
  }
});
