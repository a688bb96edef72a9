// The idle collector runs a GC only when the daemon is quiet and buffer memory grew.
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { MemoryReturn } from '../src/server/memory-return.js';

describe('MemoryReturn', () => {
  it('collects once buffers grew while quiet, never while busy', () => {
    let busy = true;
    const m = new MemoryReturn(() => 0, () => busy);
    m.start();
    let junk: Buffer[] | null = Array.from({ length: 40 }, () => Buffer.alloc(1024 * 1024, 1));
    m.check();
    expect(m.collections).toBe(0); // busy
    busy = false;
    m.check();
    expect(m.collections).toBe(1);
    junk = null;
    m.check();
    expect(m.collections).toBe(1); // no new growth since the last collection
    m.stop();
    expect(junk).toBeNull();
  });

  it('collects after many connections closed while quiet, even without buffer growth', () => {
    let closed = 0;
    const m = new MemoryReturn(() => process.memoryUsage().arrayBuffers, () => false, () => closed);
    m.start();
    m.check();
    expect(m.collections).toBe(0);
    closed = 999;
    m.check();
    expect(m.collections).toBe(0);
    closed = 1000;
    m.check();
    expect(m.collections).toBe(1);
    m.check();
    expect(m.collections).toBe(1); // none closed since
    m.stop();
  });

  it('with settle, collects once at the first quiet check after start, whatever grew', () => {
    let busy = true;
    const m = new MemoryReturn(() => process.memoryUsage().arrayBuffers, () => busy);
    m.start({ settle: true });
    m.check();
    expect(m.collections).toBe(0); // busy
    busy = false;
    m.check();
    expect(m.collections).toBe(1);
    m.check();
    expect(m.collections).toBe(1); // once only
    m.stop();
  });

  it('frees buffers that lived long enough to reach the old generation', async () => {
    // start from a settled heap: garbage of earlier tests would move the baseline
    v8.setFlagsFromString('--expose-gc');
    (vm.runInNewContext('gc') as () => void)();
    const m = new MemoryReturn(() => 0, () => false);
    m.start();
    const before = process.memoryUsage().arrayBuffers;
    let held: Buffer[] | null = Array.from({ length: 25 }, () => Buffer.alloc(1024 * 1024, 1));
    // survive collections first, so a minor collection alone could not free them
    m.check();
    expect(m.collections).toBe(1);
    expect(process.memoryUsage().arrayBuffers - before).toBeGreaterThan(20 * 1024 * 1024);
    held = null;
    m.check(); // below the growth threshold now: no collection
    expect(m.collections).toBe(1);
    let more: Buffer[] | null = Array.from({ length: 20 }, () => Buffer.alloc(1024 * 1024, 2));
    more = null;
    m.check();
    expect(m.collections).toBe(2);
    // V8 may finish sweeping freed array buffers a moment after the collection returns (it
    // did in a busy test run), so give the count a little time to fall
    const deadline = Date.now() + 3000;
    while (process.memoryUsage().arrayBuffers - before >= 8 * 1024 * 1024 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);
    m.stop();
    expect([held, more]).toEqual([null, null]);
  });
});
