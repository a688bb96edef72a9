// A multi-get whose values fill the reply buffer is answered in batches (the session yields
// and comes back, src/protocol/text/retrieval.ts). With more than 23 keys the keys come first
// from the tokenized part of the line and then from the rest of it; a batch boundary in either
// part, or between them, must lose or repeat no value.
import { describe, expect, it } from 'vitest';
import { textHarness } from '../helpers/text-harness.js';

function valueOf(i: number, size: number): string {
  return String.fromCharCode(97 + (i % 26)).repeat(size);
}

describe('multi-get answered in several batches', () => {
  for (const [keys, size] of [
    // the line is `get k0 k0-missing k1 k1-missing ...`: its 22 tokenized keys hold hits k0..k10
    [30, 20_000], // the first batch ends in the untokenized rest (at k13)
    [30, 40_000], // batches end among the tokens (k6) and in the rest (k13, k20, k27)
    [30, 24_000], // the first batch ends at the last tokenized hit (k10)
  ] as const) {
    it(`${keys} keys of ${size} bytes`, () => {
      const h = textHarness();
      let setup = '';
      for (let i = 0; i < keys; i++) setup += `set k${i} ${i} 0 ${size}\r\n${valueOf(i, size)}\r\n`;
      expect(h.send(setup)).toBe('STORED\r\n'.repeat(keys));
      const names = Array.from({ length: keys }, (_, i) => `k${i}`);
      // every other key is missing, so hits and misses alternate across the batches
      const line = `get ${names.flatMap((n) => [n, `${n}-missing`]).join(' ')}\r\n`;
      let want = '';
      for (let i = 0; i < keys; i++) want += `VALUE k${i} ${i} ${size}\r\n${valueOf(i, size)}\r\n`;
      want += 'END\r\n';
      const got = h.send(line);
      expect(got.length).toBe(want.length);
      expect(got === want).toBe(true);
    });
  }
});
