// Sending a value (or a range of it) as a response body straight from the slab pages, in
// slices: each slice is copied out of the item and handed to the socket, and once
// PENDING_MAX bytes wait in node for a client, the rest waits for 'drain'. A slow reader of a
// big blob therefore holds at most about PENDING_MAX + SLICE_BYTES of it in the process, not
// a copy of the whole value, and a fast one gets slices as fast as the kernel takes them.
//
// The item may change between two slices (replaced, deleted, evicted, moved by the slab
// rebalancer). Every byte sent must come from the version whose headers (Content-Length,
// ETag) went out, so before each slice the item is checked to be the same version: the same
// linked item and CAS (cache.isSameVersion; CAS is unique per version). An item moved by the
// rebalancer is found again under its key with the same CAS and the body goes on from there.
// Otherwise the version is gone; the status line has been sent, so the only truthful thing
// left is to abort the response: the connection is destroyed and the client sees a body
// shorter than its Content-Length (every HTTP client reports that as an error).
//
// Without CAS (-C) versions cannot be told apart, so a value longer than one slice is copied
// out whole once (one copy, then sent in slices of that copy with the same backpressure).
import type { ServerResponse } from 'node:http';
import { NONE, type CacheApi, type ItemId } from '../../cache/api.js';
import { BufferPool } from '../buffer-pool.js';
import type { HttpContext } from './context.js';

/** Bytes copied out of the item per slice; a value up to this size goes out in one write. */
export const SLICE_BYTES = 64 * 1024;
/** Output waiting in node for one response beyond which the next slice waits for 'drain'. */
export const PENDING_MAX = 256 * 1024;

/**
 * Slice buffers come back here once the socket has taken them (the write's callback): a new
 * 64 KiB buffer per slice would cost an mmap, page faults and an munmap each (glibc maps
 * blocks of 64 KiB and more on their own, src/cli/malloc-tuning.ts). At most 2 MiB are kept.
 */
const slices = new BufferPool(32, SLICE_BYTES, SLICE_BYTES);
const giveBack = (b: Buffer) => (err?: Error | null) => {
  if (err == null) slices.give(b);
};

/**
 * End `res` (its head already written; HEAD: no body) with value bytes [start, end) of item `id`, stored
 * under `key`. Call synchronously after finding `id` (an ItemId is valid until the next change).
 */
export function sendValue(ctx: HttpContext, res: ServerResponse, key: Buffer, id: ItemId, start: number, end: number): void {
  const cache = ctx.cache;
  const len = end - start;
  if (res.req.method === 'HEAD') {
    res.end();
    return;
  }
  if (len <= SLICE_BYTES) {
    const body = Buffer.allocUnsafe(len);
    cache.copyValueRange(id, start, len, body, 0);
    res.end(body);
    return;
  }
  if (!cache.options.useCas) {
    const whole = Buffer.allocUnsafe(len);
    cache.copyValueRange(id, start, len, whole, 0);
    pump(ctx, res, start, end, false, (pos, n) => whole.subarray(pos - start, pos - start + n));
    return;
  }
  let at = id;
  let cls = cache.itemClass(id);
  const cas = cache.itemCas(id);
  pump(ctx, res, start, end, true, (pos, n) => {
    if (!cache.isSameVersion(at, cls, cas)) {
      const moved = relocated(cache, key, cas);
      if (moved === NONE) return null;
      at = moved;
      cls = cache.itemClass(moved);
    }
    const slice = slices.take(n);
    cache.copyValueRange(at, pos, n, slice, 0);
    return slice;
  });
}

/** The item now under `key` if it is the version with `cas` (moved to another chunk), else NONE. */
function relocated(cache: CacheApi, key: Buffer, cas: number): ItemId {
  const id = cache.find(key, 0, key.length);
  return id !== NONE && cache.itemCas(id) === cas ? id : NONE;
}

/**
 * A buffer whose first n bytes are body bytes [pos, pos + n), or null when the version being
 * sent is gone.
 */
type Slicer = (pos: number, n: number) => Buffer | null;

/** Send body bytes [start, end) from `slice`; `pooled`: its buffers come from `slices` and go back there. */
function pump(ctx: HttpContext, res: ServerResponse, start: number, end: number, pooled: boolean, slice: Slicer): void {
  let pos = start;
  const limit = Math.max(PENDING_MAX, res.writableHighWaterMark);
  const more = (): void => {
    while (!res.destroyed) {
      const n = Math.min(SLICE_BYTES, end - pos);
      const bytes = slice(pos, n);
      if (bytes === null) {
        // the version whose head went out is gone: end the response unfinished
        ctx.counters.abortedBodies++;
        ctx.log.debug(`HTTP body aborted after ${pos - start} of ${end - start} bytes: the item changed while it was sent`);
        res.destroy();
        return;
      }
      pos += n;
      const body = bytes.length === n ? bytes : bytes.subarray(0, n);
      const done = pooled ? giveBack(bytes) : undefined;
      if (pos === end) {
        res.end(body, done);
        return;
      }
      res.write(body, done);
      // past `limit` the write above returned false (limit >= the high-water mark), so 'drain' comes
      if (res.writableLength >= limit) {
        res.once('drain', more);
        return;
      }
    }
  };
  more();
}
