// StoreRequest.chunks: a value given as pieces (an HTTP body as it arrived) is written into the
// item piece by piece. The item, the stats and what the change listener reads must be what the
// same value in one buffer gives, for every store mode, one-chunk and chained items, over an
// existing item (where a one-buffer set would be overwritten in place); pieces that do not add
// up to vLen are refused before anything is written; copyValueRange and isSameVersion read it.
import { describe, expect, it } from 'vitest';
import { NONE, OpStatus, Outcome, StoreMode, StoreRequest } from '../../src/cache/api.js';
import type { Cache } from '../../src/cache/cache.js';
import { ChangeKind, type Change, type ItemReader } from '../../src/cache/change.js';
import { ManualClock } from '../../src/cache/clock.js';
import { newCache } from '../snapshot/helpers.js';
import { seededRandom } from '../support/random.js';

const MB = 1024 * 1024;

function bytes(n: number, seed: number): Buffer {
  const rnd = seededRandom(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/** `value` cut at the given offsets. */
function cut(value: Buffer, at: number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const to of [...at, value.length]) {
    out.push(value.subarray(from, to));
    from = to;
  }
  return out;
}

function store(c: Cache, key: string, value: Buffer, mode: StoreMode, chunks: Buffer[] | null, flags = 5): Outcome {
  const r = new StoreRequest();
  r.mode = mode;
  r.key = Buffer.from(key);
  r.kLen = r.key.length;
  r.flags = flags;
  if (chunks === null) r.value = value;
  else r.chunks = chunks;
  r.vLen = value.length;
  return c.store(r, new OpStatus());
}

function valueOf(c: Cache, key: string): Buffer | null {
  const id = c.find(Buffer.from(key), 0, key.length);
  if (id === NONE) return null;
  const out = Buffer.alloc(c.itemValueLength(id));
  c.copyValue(id, out, 0);
  return out;
}

describe('StoreRequest.chunks', () => {
  for (const size of [10, 3000, 700 * 1024, 3 * MB + 17]) {
    it(`${size} bytes in pieces: the same item, stats and change report as in one buffer, for every mode`, () => {
      const value = bytes(size, size);
      const pieces = cut(value, [1, Math.floor(size / 3), Math.floor(size / 3) + 1, size - 1].filter((x, i, a) => x > 0 && x < size && a.indexOf(x) === i));
      const base = Buffer.from('base');
      const caches = [null, pieces].map((chunks) => {
        const c = newCache(new ManualClock(), 64, { itemSizeMax: 8 * MB });
        const results: unknown[] = [];
        for (const [key, mode, pre] of [
          ['s', StoreMode.Set, null],
          ['s', StoreMode.Set, null], // over the item just stored: the one-buffer set overwrites in place
          ['a', StoreMode.Add, null],
          ['a', StoreMode.Add, null],
          ['r', StoreMode.Replace, base],
          ['ap', StoreMode.Append, base],
          ['pp', StoreMode.Prepend, base],
        ] as const) {
          if (pre !== null) store(c, key, pre, StoreMode.Set, null);
          const out: Buffer[] = [];
          c.setChangeListener({
            onChange(ch: Readonly<Change>, items: ItemReader) {
              if (ch.kind !== ChangeKind.Item) return;
              const b = Buffer.alloc(items.itemValueLength(ch.id));
              items.copyValue(ch.id, b, 0);
              out.push(b);
            },
          });
          results.push(key, store(c, key, value, mode, chunks), valueOf(c, key)?.toString('hex'), out.map((b) => b.toString('hex')));
          c.setChangeListener(null);
        }
        return { results, stats: { ...c.stats, time: 0, uptime: 0 } };
      });
      expect(pieces.length).toBeGreaterThan(1);
      expect(caches[1]!.results).toEqual(caches[0]!.results);
      expect(caches[1]!.stats).toEqual(caches[0]!.stats);
      expect(valueOf(newCacheWith(value, pieces), 'k')!.equals(value)).toBe(true);
    });
  }

  it('pieces that do not add up to vLen are refused before anything is written', () => {
    const c = newCache(new ManualClock());
    store(c, 'k', Buffer.from('old'), StoreMode.Set, null);
    const r = new StoreRequest();
    r.key = Buffer.from('k');
    r.kLen = 1;
    r.chunks = [Buffer.from('abc'), Buffer.from('de')];
    r.vLen = 4;
    expect(() => c.store(r, new OpStatus())).toThrow(RangeError);
    expect(valueOf(c, 'k')!.toString()).toBe('old');
  });

  it('copyValueRange reads any slice of one-chunk and chained values; isSameVersion follows the version', () => {
    const c = newCache(new ManualClock(), 64, { itemSizeMax: 8 * MB });
    for (const size of [100, 3 * MB + 5]) {
      const value = bytes(size, 7);
      store(c, 'v', value, StoreMode.Set, null);
      const id = c.find(Buffer.from('v'), 0, 1);
      for (const [from, len] of [[0, size], [1, size - 2], [size - 1, 1], [Math.floor(size / 2), Math.min(70_000, size - Math.floor(size / 2))]] as const) {
        const out = Buffer.alloc(len + 2, 0xee);
        expect(c.copyValueRange(id, from, len, out, 1)).toBe(1 + len);
        expect(out.subarray(1, 1 + len).equals(value.subarray(from, from + len))).toBe(true);
        expect([out[0], out[len + 1]]).toEqual([0xee, 0xee]);
      }
      const cls = c.itemClass(id);
      const cas = c.itemCas(id);
      expect(c.isSameVersion(id, cls, cas)).toBe(true);
      store(c, 'v', value, StoreMode.Set, null);
      const now = c.find(Buffer.from('v'), 0, 1);
      expect(c.isSameVersion(id, cls, cas)).toBe(false);
      expect(c.isSameVersion(now, c.itemClass(now), c.itemCas(now))).toBe(true);
      c.delete(Buffer.from('v'), 0, 1);
      expect(c.isSameVersion(now, c.itemClass(now), c.itemCas(now))).toBe(false);
    }
  });
});

function newCacheWith(value: Buffer, pieces: Buffer[]): Cache {
  const c = newCache(new ManualClock(), 64, { itemSizeMax: 8 * MB });
  expect(store(c, 'k', value, StoreMode.Set, pieces)).toBe(Outcome.Stored);
  return c;
}
