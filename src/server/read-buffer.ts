// Bytes a connection has read but its protocol has not consumed yet. A chunk that holds only
// whole requests is parsed where it lies; a partial request is copied once into a buffer
// sized for the whole request (no concatenation per chunk). The buffer never grows past
// `limit`: a request that claims more closes the connection.
import { BufferPool } from '../protocol/buffer-pool.js';
import { CLOSE } from '../protocol/types.js';

const MIN_SIZE = 16 * 1024;
/**
 * A buffer up to this size stays with its connection; a larger one (a large value arriving)
 * comes from the pool below and goes back to it once its request is consumed.
 */
const OWN_MAX = 4 * MIN_SIZE;
const EMPTY = Buffer.alloc(0);

/** Buffers for large requests (1 MiB values), shared by all connections. */
const pool = new BufferPool(4, 4 * 1024 * 1024, 256 * 1024);

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
      if (this.#buf !== null && this.#buf.length > OWN_MAX) this.#drop();
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
    this.#drop();
  }

  #drop(): void {
    if (this.#buf !== null && this.#buf.length > OWN_MAX) pool.give(this.#buf);
    this.#buf = null;
  }

  #reserve(n: number): void {
    const cur = this.#buf;
    if (cur !== null && cur.length >= n) return;
    // grow by doubling, but never past the limit (unless one request needs exactly that)
    const doubled = Math.min(cur ? cur.length * 2 : 0, Math.max(this.limit, n));
    const size = Math.max(n, MIN_SIZE, doubled);
    const next = size > OWN_MAX ? pool.take(size) : Buffer.allocUnsafe(size);
    if (cur !== null && this.#len > 0) cur.copy(next, 0, 0, this.#len);
    this.#drop();
    this.#buf = next;
  }
}
