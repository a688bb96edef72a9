// Reply bytes of one connection, gathered so a whole batch of replies leaves in one socket
// write. Bytes are appended to an arena; take() hands the pending slice to the socket and the
// arena moves on (it is never rewritten under a pending write).
import { viewOf } from '../cache/bytes.js';
import { writeDecimal } from '../cache/numbers.js';

const ARENA = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * Pending reply bytes at which a session stops taking requests until the socket drains
 * (the rest of the input stays buffered). Keeps a pipeline from a client that does not
 * read its replies from growing the heap.
 */
export const OUTPUT_HIGH_WATER = 256 * 1024;

export class Output {
  buf: Buffer;
  /** A DataView over `buf`, for the cache's fast copies. */
  view: DataView;
  pos = 0;
  #start = 0;

  constructor() {
    // the arena comes with the first reply, so an idle connection holds none
    this.buf = EMPTY;
    this.view = viewOf(EMPTY);
  }

  /** Bytes waiting to be taken. */
  get pending(): number {
    return this.pos - this.#start;
  }

  /** Enough replies are pending that the session should yield (see OUTPUT_HIGH_WATER). */
  get full(): boolean {
    return this.pos - this.#start >= OUTPUT_HIGH_WATER;
  }

  /** Make room for n more bytes; returns the buffer to write into at `pos`. */
  ensure(n: number): Buffer {
    if (this.pos + n > this.buf.length) {
      const keep = this.pos - this.#start;
      const next = Buffer.allocUnsafe(Math.max(ARENA, keep + n + (keep >> 1)));
      this.buf.copy(next, 0, this.#start, this.pos);
      this.buf = next;
      this.view = viewOf(next);
      this.#start = 0;
      this.pos = keep;
    }
    return this.buf;
  }

  bytes(src: Uint8Array, off: number, len: number): void {
    const b = this.ensure(len);
    b.set(src.subarray(off, off + len), this.pos);
    this.pos += len;
  }

  raw(src: Uint8Array): void {
    const b = this.ensure(src.length);
    b.set(src, this.pos);
    this.pos += src.length;
  }

  /** An ASCII/latin1 string. */
  ascii(s: string): void {
    const b = this.ensure(s.length);
    this.pos += b.write(s, this.pos, 'latin1');
  }

  decimal(n: number): void {
    const b = this.ensure(21);
    this.pos = writeDecimal(b, this.pos, n);
  }

  /** A position in the pending bytes that stays valid when ensure() moves them. */
  mark(): number {
    return this.pos - this.#start;
  }

  /** Forget the pending bytes written since `mark()` (a reply that turned into an error). */
  rewind(mark: number): void {
    this.pos = this.#start + mark;
  }

  /** The pending bytes as one slice for the socket, or null when there are none. */
  take(): Buffer | null {
    if (this.pos === this.#start) return null;
    const out = this.buf.subarray(this.#start, this.pos);
    if (this.buf.length - this.pos < 4096) {
      this.buf = Buffer.allocUnsafe(ARENA);
      this.view = viewOf(this.buf);
      this.pos = 0;
    }
    this.#start = this.pos;
    return out;
  }
}
