// A dump larger than one slice (src/protocol/text/dump.ts) reads as the same bytes as one
// built in one go: metadump lists every item once in LRU order, cachedump stops at its limit
// or at memcached's 2 MiB cap.
import { describe, expect, it } from 'vitest';
import { HOT, lruOf } from '../../src/cache/lru-segment.js';
import { textHarness } from '../helpers/text-harness.js';

const N = 30_000;

function filled() {
  const h = textHarness({ memoryLimit: 64 * 1024 * 1024 });
  let setup = '';
  for (let i = 0; i < N; i++) setup += `set key:${i} 0 0 2\r\nab\r\n`;
  h.send(setup);
  return h;
}

/**
 * A second later, let the LRU maintainer move everything out of HOT into COLD (the list a
 * cachedump shows), in order: HOT holds its share only while its items are younger than the
 * COLD tail's age times hot_max_factor (0 here).
 */
function settle(h: ReturnType<typeof textHarness>): void {
  h.clock.advance(1);
  while (h.cache.lru.size[lruOf(1, HOT)]! > 0) h.cache.maintainer.tick();
}

describe('dumps sent in slices', () => {
  it('metadump: every item once, most recent first, then END', () => {
    const h = filled();
    const now = h.clock.now();
    const got = h.send('lru_crawler metadump all\r\n');
    let want = '';
    for (let i = N - 1; i >= 0; i--) want += `key=key%3A${i} exp=-1 la=${now} cas=${i + 1} fetch=no cls=1 size=${h.cache.itemSize(h.cache.find(Buffer.from(`key:${i}`), 0, `key:${i}`.length))}\n`;
    expect(got.length).toBeGreaterThan(64 * 1024 * 2);
    expect(got === `${want}END\r\n`).toBe(true);
    // the session takes commands again
    expect(h.send('get key:1\r\n')).toBe('VALUE key:1 0 2\r\nab\r\nEND\r\n');
  });

  it('cachedump: the limit, or 2 MiB, across slices', () => {
    const h = filled();
    settle(h);
    const line = (i: number) => `ITEM key:${i} [2 b; 0 s]\r\n`;
    let want = '';
    for (let i = N - 1; i >= N - 5000; i--) want += line(i);
    expect(h.send('stats cachedump 1 5000\r\n') === `${want}END\r\n`).toBe(true);
    const all = h.send('stats cachedump 1 0\r\n');
    expect(all.endsWith('END\r\n')).toBe(true);
    expect(all.split('\r\n').length - 2).toBe(N);
    // 80,000 lines of 25-38 bytes pass 2 MiB: memcached stops before the line that would not fit
    let big = '';
    for (let i = 0; i < 50_000; i++) big += `set k${i}:padpadpadpad 0 0 2\r\nab\r\n`;
    h.send(big);
    settle(h);
    const capped = h.send('stats cachedump 1 0\r\n');
    expect(capped.length).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(capped.length).toBeGreaterThan(2 * 1024 * 1024 - 64);
    expect(capped.endsWith('END\r\n')).toBe(true);
  });
});
