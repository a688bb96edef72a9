// Bytes a connection has read but its protocol has not consumed yet. A chunk that holds only
// whole requests is parsed where it lies; a partial request is copied once into a buffer
// sized for the whole request (no concatenation per chunk). The buffer never grows past
// `limit`: a request that claims more closes the connection.
import { CLOSE } from '../protocol/types.js';

const MIN_SIZE = 16 * 1024;
const EMPTY = Buffer.alloc(0);

export class ReadBuffer {
  readonly limit: number;
  #buf: Buffer | null = null;
  #len = 0;

  constructor(limit = Number.POSITIVE_INFINITY) {
    this.limit = limit;
  }

  /** Bytes held for the next chunk. */
  get length(): number {
    return this.#len;
  }

  /** Bytes of memory held (for the per-connection accounting). */
  get capacity(): number {
    return this.#buf?.length ?? 0;
  }

  /** Keep a chunk without parsing it (the connection is not taking requests right now). */
  append(chunk: Buffer): number {
    if (this.#len + chunk.length > this.limit) return CLOSE;
    this.#reserve(this.#len + chunk.length);
    chunk.copy(this.#buf!, this.#len);
    this.#len += chunk.length;
    return this.#len;
  }

  /**
   * Add a chunk (possibly empty, to go on with requests already held) and let `consume`
   * take whole requests from the front. `consume` returns how many bytes it took, or CLOSE;
   * `want` tells how large the pending request will be. Returns the bytes left, or CLOSE.
   */
  feed(chunk: Buffer, consume: (buf: Buffer) => number, want: () => number): number {
    let buf: Buffer;
    if (this.#len === 0) {
      buf = chunk;
    } else {
      if (chunk.length > 0 && this.append(chunk) === CLOSE) {
        this.clear();
        return CLOSE;
      }
      buf = this.#buf!.subarray(0, this.#len);
    }
    const consumed = consume(buf);
    if (consumed === CLOSE) {
      this.clear();
      return CLOSE;
    }
    const left = buf.length - consumed;
    const need = Math.max(left, left > 0 ? want() : 0);
    if (need > this.limit) {
      this.clear();
      return CLOSE;
    }
    if (left === 0) {
      this.#len = 0;
      // give back a buffer that grew for one large value
      if (this.#buf !== null && this.#buf.length > 4 * MIN_SIZE) this.#buf = null;
    } else if (buf === chunk) {
      this.#len = 0;
      this.#reserve(need);
      chunk.copy(this.#buf!, 0, consumed);
      this.#len = left;
    } else {
      this.#buf!.copyWithin(0, consumed, this.#len);
      this.#len = left;
      this.#reserve(need);
    }
    return left;
  }

  /** Go on with the requests already held, without new bytes. */
  resume(consume: (buf: Buffer) => number, want: () => number): number {
    return this.feed(EMPTY, consume, want);
  }

  clear(): void {
    this.#len = 0;
    this.#buf = null;
  }

  #reserve(n: number): void {
    const cur = this.#buf;
    if (cur !== null && cur.length >= n) return;
    // grow by doubling, but never past the limit (unless one request needs exactly that)
    const doubled = Math.min(cur ? cur.length * 2 : 0, Math.max(this.limit, n));
    const next = Buffer.allocUnsafe(Math.max(n, MIN_SIZE, doubled));
    if (cur !== null && this.#len > 0) cur.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }
}
