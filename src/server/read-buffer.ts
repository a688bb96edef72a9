// Bytes a connection has read but its protocol has not consumed yet. A chunk that holds only
// whole requests is parsed where it lies; a partial request is copied once into a buffer
// sized for the whole request (no concatenation per chunk).
import { CLOSE } from '../protocol/types.js';

const MIN_SIZE = 16 * 1024;

export class ReadBuffer {
  #buf: Buffer | null = null;
  #len = 0;

  /** Bytes held for the next chunk. */
  get length(): number {
    return this.#len;
  }

  /**
   * Add a chunk and let `consume` take whole requests from the front. `consume` returns how
   * many bytes it took, or CLOSE; `want` tells how large the pending request will be.
   */
  feed(chunk: Buffer, consume: (buf: Buffer) => number, want: () => number): number {
    let buf: Buffer;
    if (this.#len === 0) {
      buf = chunk;
    } else {
      this.#reserve(this.#len + chunk.length);
      chunk.copy(this.#buf!, this.#len);
      this.#len += chunk.length;
      buf = this.#buf!.subarray(0, this.#len);
    }
    const consumed = consume(buf);
    if (consumed === CLOSE) {
      this.#len = 0;
      this.#buf = null;
      return CLOSE;
    }
    const left = buf.length - consumed;
    if (left === 0) {
      this.#len = 0;
      // give back a buffer that grew for one large value
      if (this.#buf !== null && this.#buf.length > 4 * MIN_SIZE) this.#buf = null;
    } else if (buf === chunk) {
      this.#len = 0;
      this.#reserve(Math.max(left, want()));
      chunk.copy(this.#buf!, 0, consumed);
      this.#len = left;
    } else {
      this.#buf!.copyWithin(0, consumed, this.#len);
      this.#len = left;
      this.#reserve(Math.max(left, want()));
    }
    return left;
  }

  #reserve(n: number): void {
    const cur = this.#buf;
    if (cur !== null && cur.length >= n) return;
    const next = Buffer.allocUnsafe(Math.max(n, MIN_SIZE, cur ? cur.length * 2 : 0));
    if (cur !== null && this.#len > 0) cur.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }
}
