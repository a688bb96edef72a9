// The one seeded pseudo-random generator of the test tree. Tests that need reproducible
// randomness (random cut points, fuzz payloads, sampled offsets) take it from here, so a
// failure can be replayed from the seed it reports.
import { randomBytes } from 'node:crypto';

/** A generator of numbers in [0, 1), like Math.random but determined by its seed. */
export type Random = () => number;

/** mulberry32: a small, fast 32-bit generator with a good spread for test inputs. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n). */
export function randomInt(rand: Random, n: number): number {
  return Math.floor(rand() * n);
}

/** FNV-1a of a string: a stable seed derived from a name (e.g. a test case's). */
export function seedFromString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * The seed of a fuzz/randomised test: FUZZ_SEED when set (to replay a run), else `fallback`
 * ('fresh': a new seed each run, for tests that sample differently every time). It is
 * printed, so a failing run's log says how to replay it; put it in the test name too.
 */
export function fuzzSeed(what: string, fallback: number | 'fresh'): number {
  const fromEnv = process.env.FUZZ_SEED;
  const seed =
    fromEnv !== undefined && fromEnv !== ''
      ? Number(fromEnv) >>> 0
      : fallback === 'fresh'
        ? randomBytes(4).readUInt32BE(0)
        : fallback >>> 0;
  console.log(`${what}: seed ${seed} (replay with FUZZ_SEED=${seed})`);
  return seed;
}
