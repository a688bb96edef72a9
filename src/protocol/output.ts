// Reply bytes of one connection, gathered so a whole batch of replies leaves in one socket
// write. Bytes are appended to an arena; take() hands the pending slice to the socket and the
// arena moves on (it is never rewritten under a pending write). A large value is not copied:
// pinValue() puts the item's chunks in the batch, between arena slices (takeParts()).
import { viewOf } from '../cache/bytes.js';
import { writeDecimal } from '../cache/numbers.js';
import { BufferPool } from './buffer-pool.js';
import type { CacheApi, ItemId } from '../cache/api.js';

const ARENA = 64 * 1024;
/**
 * A connection's first arena: small enough to come from Node's shared 8 KiB allocation pool,
 * so a client that sends one command and leaves (thousands a second, in a burst) costs no
 * 64 KiB allocation. One that keeps talking gets a whole arena next.
 */
const FIRST_ARENA = 2048;
const EMPTY = Buffer.alloc(0);
/** How many arena-head slices an Output keeps (a power of two). */
const HEADS = 8;
/** 32 - log2(HEADS): the top bits of a multiplicative hash pick the slot. */
const HEAD_SHIFT = 29;
const EMPTY_VIEW = viewOf(EMPTY);

/**
 * Pending reply bytes at which a session stops taking requests until the socket drains
 * (the rest of the input stays buffered). Keeps a pipeline from a client that does not
 * read its replies from growing the heap.
 */
export const OUTPUT_HIGH_WATER = 256 * 1024;

/** Replies at least this large get a buffer from the pool below instead of a new one. */
const LARGE = 256 * 1024;
/**
 * Buffers for large replies (1 MiB values), shared by all connections. A buffer comes back
 * once the socket write that last used it has completed (Connection#flush), and otherwise is
 * simply left to the garbage collector.
 */
const pool = new BufferPool(4, 4 * 1024 * 1024, LARGE);

/** Give back buffers the socket is done with; a full pool keeps the larger ones. */
export function releaseLargeBuffers(bufs: readonly Buffer[]): void {
  for (const b of bufs) pool.give(b);
}

/**
 * Values at least this large are not copied into a reply: the reply points at the item's
 * chunks in the slab pages (CacheApi#valueViews), and the item stays pinned until the socket
 * has taken the bytes, as memcached's replies hold a reference to the item. So a client that
 * does not read holds no copy of them. Smaller values are copied, one reply per write.
 */
export const PINNED_VALUE = 16 * 1024;

/** What a reply needs of the cache to send a value from its chunks. */
export type ValueSource = Pick<CacheApi, 'pin' | 'valueViews'>;

export class Output {
  buf: Buffer;
  /** A DataView over `buf`, for the cache's fast copies. */
  view: DataView;
  pos = 0;
  #start = 0;
  /** Arenas taken so far (the first one is small). */
  #arenas = 0;
  /** `buf` came from the large-buffer pool. */
  #pooled = false;
  /** Pooled buffers this Output has moved off; they go back once the next write completes. */
  #retired: Buffer[] = [];
  /**
   * Slices of the arena's first bytes, made once per length (direct-mapped on a hash of it):
   * after written() every batch starts at the arena's offset 0, so a reply of a length seen
   * before is handed to the socket without a new Buffer object. Cleared with the arena.
   */
  #heads: Array<Buffer | undefined> = [];

  constructor() {
    // the arena comes with the first reply, so an idle connection holds none
    this.buf = EMPTY;
    this.view = EMPTY_VIEW;
  }

  /** Bytes waiting to be taken (value views not counted: they are item memory). */
  get pending(): number {
    let n = this.pos - this.#start;
    for (const p of this.#parts) n += p.length;
    return n - this.#viewBytes;
  }

  /** Enough replies are pending that the session should yield (see OUTPUT_HIGH_WATER). */
  get full(): boolean {
    return this.pos - this.#start + this.#viewBytes >= OUTPUT_HIGH_WATER;
  }

  /**
   * Pieces of the batch ahead of the arena's pending bytes, in order: arena slices and value
   * views (pinValue). Empty for a batch of copied replies only, the usual case.
   */
  #parts: Buffer[] = [];
  /** Bytes of the value views in #parts. */
  #viewBytes = 0;
  /** Bytes of everything in #parts. */
  #setAside = 0;
  /** The items the views in #parts belong to, each pinned once per view set. */
  #pinned: ItemId[] = [];
  readonly #addView = (view: Buffer): void => {
    this.#parts.push(view);
    this.#viewBytes += view.length;
    this.#setAside += view.length;
  };

  /** The batch holds value views: the connection writes it with takeParts(), not take(). */
  get hasParts(): boolean {
    return this.#parts.length !== 0;
  }

  /**
   * Append item `id`'s value as views of its slab chunks, after the bytes written so far,
   * without copying it; the item is pinned, and whoever writes the batch unpins it (takePins)
   * once the socket has taken the bytes or is gone.
   */
  pinValue(cache: ValueSource, id: ItemId): void {
    if (this.pos !== this.#start) {
      // the bytes before the value leave as a slice of their own; the arena moves on and is
      // not rewritten under it (written() is not called for a batch of parts)
      this.#parts.push(this.buf.subarray(this.#start, this.pos));
      this.#setAside += this.pos - this.#start;
      this.#start = this.pos;
    }
    cache.pin(id);
    this.#pinned.push(id);
    cache.valueViews(id, this.#addView);
  }

  /** The batch's pieces in order, the pending arena bytes last (take()); empties the batch. */
  takeParts(): Buffer[] {
    const parts = this.#parts;
    const tail = this.take();
    if (tail !== null) parts.push(tail);
    this.#parts = [];
    this.#viewBytes = 0;
    this.#setAside = 0;
    return parts;
  }

  /** The items pinned for the views takeParts() returned: to unpin once they are written. */
  takePins(): ItemId[] {
    const p = this.#pinned;
    this.#pinned = [];
    return p;
  }

  /** Make room for n more bytes; returns the buffer to write into at `pos`. */
  ensure(n: number): Buffer {
    if (this.pos + n > this.buf.length) {
      const keep = this.pos - this.#start;
      const size = Math.max(this.#arenas++ === 0 ? FIRST_ARENA : ARENA, keep + n + (keep >> 1));
      const large = size >= LARGE;
      const next = large ? pool.take(size) : Buffer.allocUnsafe(size);
      this.buf.copy(next, 0, this.#start, this.pos);
      this.#retire();
      this.#pooled = large;
      this.buf = next;
      this.view = viewOf(next);
      this.#heads.length = 0;
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

  /**
   * A position in the batch that stays valid when ensure() moves the pending bytes, counting
   * the pieces pinValue() set aside (until the batch is taken).
   */
  mark(): number {
    return this.pos - this.#start + this.#setAside;
  }

  /**
   * Forget the pending bytes written since `mark()` (a reply that turned into an error; never
   * one past a pinned value).
   */
  rewind(mark: number): void {
    this.pos = this.#start + mark - this.#setAside;
  }

  /** A copy of the batch's bytes from `mark()` on, values included: for -vv tracing only. */
  bytesSince(mark: number): Buffer {
    const all = [...this.#parts, this.buf.subarray(this.#start, this.pos)];
    return Buffer.concat(all).subarray(mark);
  }

  /** The pending bytes as one slice for the socket, or null when there are none. */
  take(): Buffer | null {
    if (this.pos === this.#start) return null;
    const out = this.#start === 0 ? this.#head(this.pos) : this.buf.subarray(this.#start, this.pos);
    if (this.buf.length - this.pos < 4096 || this.#pooled) {
      // a pooled buffer is not kept for small replies: it goes back once `out` is written.
      // The next arena comes with the next reply, so a client that leaves now costs none.
      this.#retire();
      this.#pooled = false;
      this.buf = EMPTY;
      this.view = EMPTY_VIEW;
      this.#heads.length = 0;
      this.pos = 0;
    }
    this.#start = this.pos;
    return out;
  }

  /**
   * Pooled buffers moved off since the last call: the caller hands them to
   * releaseLargeBuffers() when the write of the slice take() just returned has completed
   * (socket writes complete in order, so every earlier slice of them is written by then).
   */
  takeRetired(): Buffer[] | null {
    if (this.#retired.length === 0) return null;
    const r = this.#retired;
    this.#retired = [];
    return r;
  }

  /**
   * The socket has taken every byte of the slice take() last returned (a write that completed
   * at once): the arena is free again from its start. Not after a write that was queued or
   * buffered, whose bytes must stay as they are until it completes.
   */
  written(): void {
    if (this.pos === this.#start && !this.#pooled) {
      this.pos = 0;
      this.#start = 0;
    }
  }

  #head(len: number): Buffer {
    // Fibonacci hashing of the length: the low bits alone put the binary protocol's 24-byte
    // store reply and its 128-byte get reply (100-byte value) in one slot, and a client
    // alternating the two made a new slice nearly every time
    const slot = Math.imul(len, 0x9e3779b1) >>> HEAD_SHIFT;
    const b = this.#heads[slot];
    if (b !== undefined && b.length === len) return b;
    const fresh = this.buf.subarray(0, len);
    this.#heads[slot] = fresh;
    return fresh;
  }

  #retire(): void {
    if (this.#pooled) this.#retired.push(this.buf);
  }
}
