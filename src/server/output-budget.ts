// The copied reply bytes that sockets have not taken yet, across all of a server's
// connections. Values of PINNED_VALUE bytes or more are not copied into replies: they go out
// from their slab chunks with the item pinned until the socket has taken them (output.ts,
// memcached's item references), so 300 clients that send `get` of 20 one-MiB items and never
// read hold those items, not copies of them (bench/unread-replies.ts). What remains copied is
// smaller replies, and a connection stops taking requests once OUTPUT_HIGH_WATER bytes of
// them are pending, so each non-reading client holds at most one batch of them. Nothing here
// holds a client up: the count is for tests and figures.
export class HeldReplies {
  /** Bytes of copied replies handed to sockets that the kernel has not taken yet. */
  held = 0;

  /** A write of `bytes` copied bytes was left for the kernel to take later. */
  charge(bytes: number): void {
    this.held += bytes;
  }

  /** A charged write has been taken by the kernel (or its connection is gone). */
  release(bytes: number): void {
    this.held -= bytes;
  }
}
