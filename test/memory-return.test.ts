// The idle collector runs a GC only when the daemon is quiet and buffer memory grew.
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
});
