// A few large buffers kept for reuse. A fresh 1 MiB buffer per large request or reply costs
// an allocation, page faults and a collection later, and with glibc's malloc a stream of
// them leaves the heap fragmented; a buffer comes back here once nothing refers to it.
// Buffers are made in whole multiples of `unit`, so one serves requests of about its size
// again without holding much more than they need.

export class BufferPool {
  readonly #bufs: Buffer[] = [];
  readonly #count: number;
  readonly #maxBytes: number;
  readonly #unit: number;

  /** Keeps at most `count` buffers of at most `maxBytes` each; sizes are multiples of `unit`. */
  constructor(count: number, maxBytes: number, unit: number) {
    this.#count = count;
    this.#maxBytes = maxBytes;
    this.#unit = unit;
  }

  /** Buffers held now. */
  get size(): number {
    return this.#bufs.length;
  }

  /** A buffer of at least n bytes: a kept one that is large enough, or a new one. */
  take(n: number): Buffer {
    const bufs = this.#bufs;
    for (let i = 0; i < bufs.length; i++) {
      const b = bufs[i]!;
      if (b.length >= n) {
        bufs[i] = bufs[bufs.length - 1]!;
        bufs.pop();
        return b;
      }
    }
    return Buffer.allocUnsafeSlow(n <= this.#maxBytes ? Math.ceil(n / this.#unit) * this.#unit : n);
  }

  /** Give back a buffer nothing refers to any more; a full pool keeps the larger ones. */
  give(b: Buffer): void {
    if (b.length > this.#maxBytes) return;
    const bufs = this.#bufs;
    if (bufs.length < this.#count) {
      bufs.push(b);
      return;
    }
    let smallest = 0;
    for (let i = 1; i < bufs.length; i++) if (bufs[i]!.length < bufs[smallest]!.length) smallest = i;
    if (bufs[smallest]!.length < b.length) bufs[smallest] = b;
  }
}
