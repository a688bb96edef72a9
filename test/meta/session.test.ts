// Meta commands through a TextSession in-process: every case fed whole, byte by byte and at
// random cut points, on a ManualClock so TTLs move without sleeping. Expected bytes are the
// replies memcached 1.6.18 gave to the same input (see differential.test.ts for the live check).
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/cache/clock.js';
import { CASES } from './cases.js';
import { bytes, Client, makeCache, splits, text } from './in-process.js';

describe('meta commands in-process', () => {
  for (const c of CASES) {
    describe(c.name, () => {
      for (const sp of splits(c.name.length * 7919)) {
        it(sp.name, () => {
          const clock = new ManualClock();
          const cache = makeCache(clock);
          const clients = [new Client(cache), new Client(cache)];
          for (const step of c.steps) {
            if ('advance' in step) {
              clock.advance(step.advance);
              continue;
            }
            const input = bytes(step.send);
            // byte-by-byte over a 2 MB block is slow and adds nothing: cut it coarsely
            const cuts = input.length > 100_000 && sp.name === 'byte by byte' ? [1, 2, 3, 5000, 65536] : sp.cuts(input.length);
            const got = clients[step.client ?? 0]!.feedSplit(input, cuts);
            expect(text(got), `${c.name}: ${JSON.stringify(step.send.slice(0, 200))}`).toBe(step.expect);
          }
        });
      }
    });
  }
});
