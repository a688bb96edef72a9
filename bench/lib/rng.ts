// Small, fast, seedable random sources for the load generator. Everything the
// benchmark decides at random (keys, sizes, value bytes, the get/set mix) comes
// from these, so a fixed --seed gives the same per-connection request sequence.

/** 32-bit integer hash (lowbias32 by Chris Wellons); good avalanche, cheap. */
export function hash32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** mulberry32: a 32-bit state PRNG, plenty for picking keys. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = hash32(seed ^ 0x9e3779b9) | 0;
  }

  /** Uniform unsigned 32-bit integer. */
  nextU32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** Picks key indices in [0, n). */
export interface KeyChooser {
  next(rng: Rng): number;
}

export class UniformKeys implements KeyChooser {
  constructor(private readonly n: number) {}
  next(rng: Rng): number {
    return rng.below(this.n);
  }
}

/**
 * Zipfian key choice (Gray et al., "Quickly generating billion-record synthetic
 * databases", as used by YCSB), with the rank scrambled through a hash so the hot
 * keys are spread over the key space rather than being keys 0, 1, 2...
 * Setup is O(n) once; each draw is O(1).
 */
export class ZipfKeys implements KeyChooser {
  private readonly alpha: number;
  private readonly zetan: number;
  private readonly eta: number;
  private readonly halfPowTheta: number;

  constructor(
    private readonly n: number,
    private readonly theta: number,
  ) {
    if (!(theta > 0 && theta < 1)) throw new Error(`zipf theta must be in (0,1), got ${theta}`);
    let zetan = 0;
    for (let i = 1; i <= n; i++) zetan += 1 / Math.pow(i, theta);
    const zeta2 = 1 + 1 / Math.pow(2, theta);
    this.zetan = zetan;
    this.alpha = 1 / (1 - theta);
    this.eta = (1 - Math.pow(2 / n, 1 - theta)) / (1 - zeta2 / zetan);
    this.halfPowTheta = 1 + Math.pow(0.5, theta);
  }

  next(rng: Rng): number {
    const u = rng.next();
    const uz = u * this.zetan;
    let rank: number;
    if (uz < 1) rank = 0;
    else if (uz < this.halfPowTheta) rank = 1;
    else rank = Math.floor(this.n * Math.pow(this.eta * u - this.eta + 1, this.alpha));
    if (rank >= this.n) rank = this.n - 1;
    return hash32(rank) % this.n;
  }
}

export type KeyDist = { kind: 'uniform' } | { kind: 'zipf'; theta: number };

export function makeKeyChooser(dist: KeyDist, n: number): KeyChooser {
  return dist.kind === 'uniform' ? new UniformKeys(n) : new ZipfKeys(n, dist.theta);
}

export function parseKeyDist(s: string): KeyDist {
  if (s === 'uniform') return { kind: 'uniform' };
  const m = /^zipf(?::([0-9.]+))?$/.exec(s);
  if (m) return { kind: 'zipf', theta: m[1] ? Number(m[1]) : 0.99 };
  throw new Error(`unknown key distribution "${s}" (uniform | zipf[:theta])`);
}

export function describeKeyDist(d: KeyDist): string {
  return d.kind === 'uniform' ? 'uniform' : `zipf(${d.theta})`;
}
