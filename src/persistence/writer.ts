// Writes the cache to a snapshot file in slices, without stalling clients, and replaces the
// previous snapshot only once the new one is complete and durable.
//
// Consistency: a snapshot is NOT a point-in-time image. It is a per-item-consistent image
// taken over the window the write lasts (a few seconds for a large cache). The writer walks
// the slab pages in order, at most ~2 ms or 1 MB per event-loop turn, and copies each live
// item whole in one synchronous step, so:
//   - every record is one item exactly as it was at one instant (never torn or mixed);
//   - an item that was live and unchanged for the whole window is saved exactly once;
//   - an item set, deleted, touched or evicted during the window may be saved in its old
//     state, its new state, both (the later record wins on load, because it was read later),
//     or, if its new version landed in a chunk the walk had already passed while its old one
//     was freed, not at all;
//   - expired and flushed items are not written.
// A snapshot taken at shutdown runs after the listeners and connections are closed, so it is a
// point-in-time image of the final state.
//
// Safety: records go to PATH.tmp-<pid>-<n> in the same directory, which is fsynced, renamed
// over PATH, and the directory fsynced. Until the rename, PATH is the previous snapshot; a crash
// or kill -9 at any moment leaves it intact. Any error removes the temp file and reports.
// Only a regular file (or nothing) at PATH is ever replaced: anything else (a symlink, a FIFO,
// a device such as /dev/null, a directory) fails the write with code ENOTREG, checked before
// the temp file is made and again just before the rename.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Cache } from '../cache/cache.js';
import { F_META, HEADER_BYTES as ITEM_HEADER_BYTES, IF_LINKED, makeId, OFF_MASK, PAGE_SHIFT, type ItemId } from '../cache/item.js';
import {
  BLOCK_HEADER_BYTES,
  BLOCK_MAGIC,
  DEFAULT_BLOCK_TARGET,
  encodeEnd,
  encodeHeader,
  FORMAT_VERSION,
  HEADER_BYTES,
  RECORD_HEADER_BYTES,
  sealBlock,
} from './format.js';
import { targetProblemAsync } from './path-check.js';
import { realSnapshotFs, type SnapshotFs } from './snapshot-fs.js';

export interface WriteOptions {
  fs?: SnapshotFs;
  /** Payload bytes per checksummed block (a block also ends with each slice). */
  blockTarget?: number;
  /** Bytes serialized per event-loop turn before the writer yields. */
  sliceBytes?: number;
  /** Longest a slice may run before it yields, in ms. */
  sliceMs?: number;
  /** Bytes gathered (over several slices) before they are handed to the disk in one write. */
  writeBytes?: number;
  /** Called after each slice, between event-loop turns (tests change the cache here). */
  onSlice?: () => void | Promise<void>;
}

export type WriteResult =
  | { ok: true; items: number; itemBytes: number; fileBytes: number; durationMs: number; slices: number; maxSliceMs: number }
  | { ok: false; code: string; message: string; durationMs: number };

// A slice holds the event loop; requests that arrive meanwhile wait for it. At 2 ms a slice
// adds at most about that to a request's latency, and ~1 MB of records per slice keeps the
// yields (a setImmediate each) a small share of the time. The clock is read every few
// records, so a slice overruns its budget by one record at most (one large item is copied
// whole, in one step, to keep records per-item consistent).
const DEFAULT_SLICE_BYTES = 1 << 20;
const DEFAULT_SLICE_MS = 2;
const DEFAULT_WRITE_BYTES = 4 << 20;
/** Chunks visited between clock reads (a mask: every 16th). */
const CLOCK_MASK = 15;
let tempSeq = 0;

export async function writeSnapshot(cache: Cache, file: string, opts: WriteOptions = {}): Promise<WriteResult> {
  const t0 = performance.now();
  const sfs = opts.fs ?? realSnapshotFs;
  const tmp = `${file}.tmp-${process.pid}-${++tempSeq}`;
  let handle: Awaited<ReturnType<SnapshotFs['create']>> | null = null;
  let created = false;
  try {
    await refuseNonRegular(file);
    handle = await sfs.create(tmp);
    created = true;
    // the scan keeps a (page, chunk) cursor across yields: no page may change class meanwhile
    cache.mover.pin();
    let r: Awaited<ReturnType<typeof writeBody>>;
    try {
      r = await writeBody(cache, handle, opts);
    } finally {
      cache.mover.unpin();
    }
    await handle.sync();
    const h = handle;
    handle = null;
    await h.close();
    await refuseNonRegular(file);
    await sfs.rename(tmp, file);
    created = false;
    await sfs.syncDir(path.dirname(file));
    return { ok: true, ...r, durationMs: performance.now() - t0 };
  } catch (err) {
    if (handle !== null) await handle.close().catch(() => {});
    if (created) await sfs.unlink(tmp).catch(() => {});
    const e = err as NodeJS.ErrnoException;
    return { ok: false, code: e.code ?? 'EIO', message: e.message ?? String(err), durationMs: performance.now() - t0 };
  }
}

async function refuseNonRegular(file: string): Promise<void> {
  const problem = await targetProblemAsync(file, 'snapshot file');
  if (problem !== null) throw Object.assign(new Error(problem), { code: 'ENOTREG' });
}

async function writeBody(
  cache: Cache,
  out: { write(buf: Uint8Array, off: number, len: number): Promise<void> },
  opts: WriteOptions,
): Promise<{ items: number; itemBytes: number; fileBytes: number; slices: number; maxSliceMs: number }> {
  const blockTarget = opts.blockTarget ?? DEFAULT_BLOCK_TARGET;
  const sliceBytes = opts.sliceBytes ?? DEFAULT_SLICE_BYTES;
  const sliceMs = opts.sliceMs ?? DEFAULT_SLICE_MS;
  const writeBytes = Math.max(opts.writeBytes ?? DEFAULT_WRITE_BYTES, sliceBytes);
  const slabs = cache.slabs;

  const header = encodeHeader({
    version: FORMAT_VERSION,
    useCas: cache.options.useCas,
    itemSizeMax: cache.options.itemSizeMax,
    slabChunkMax: cache.options.slabChunkMax,
    memoryLimit: cache.options.memoryLimit,
    casCounter: cache.casCounter,
    savedAtMs: Date.now(),
    oldestLive: cache.oldestLive,
    oldestCas: cache.oldestCas,
    blockTarget,
  });
  await out.write(header, 0, HEADER_BYTES);
  let fileBytes = HEADER_BYTES;

  // Two buffers: slices fill one until it holds writeBytes, then it goes to the disk in one
  // write (on libuv's thread pool, off the event loop) while slices fill the other. Each
  // buffer has room for a whole slice past the threshold.
  const capacity = writeBytes + Math.max(sliceBytes, blockTarget) + 64 * 1024;
  const bufs = [Buffer.allocUnsafe(capacity), Buffer.allocUnsafe(capacity)];
  const inFlight: Array<Promise<unknown> | null> = [null, null];
  let which = 0;
  let buf: Buffer = bufs[0]!;
  let fill = 0;
  const flush = async (): Promise<void> => {
    if (fill === 0) return;
    const b = buf;
    inFlight[which] = out.write(b, 0, fill).then(
      () => null,
      (e: unknown) => e,
    );
    fileBytes += fill;
    which ^= 1;
    fill = 0;
    const prev = inFlight[which];
    inFlight[which] = null;
    buf = bufs[which]!;
    if (prev) {
      const err = await prev;
      if (err) throw err;
    }
  };

  // Scan cursor: page p, chunk k. Pages are never freed, and none changes class while the
  // writer holds them pinned (writeSnapshot), so the cursor stays valid across yields; what
  // a chunk holds is re-checked when the walk reaches it.
  let p = 0;
  let k = 0;
  let items = 0;
  let itemBytes = 0;
  let blocks = 0;
  let slices = 0;
  let maxSliceMs = 0;

  while (p < slabs.pages.length) {
    const start = performance.now();
    const now = cache.clock.now();
    // one block per slice at most blockTarget long; its checksum is computed as it is sealed
    let blockStart = fill;
    let pos = fill + BLOCK_HEADER_BYTES;
    let count = 0;
    let checked = 0;
    const sliceEnd = fill + sliceBytes;
    const seal = (): void => {
      sealBlock(buf, blockStart, BLOCK_MAGIC, pos - blockStart - BLOCK_HEADER_BYTES, count);
      blocks++;
      blockStart = pos;
      pos += BLOCK_HEADER_BYTES;
      count = 0;
    };
    // Chunks of a class below the largest hold whole items or freed chunks, except past the
    // carve point of the page the class is carving (never-written memory, or the bytes of the
    // class a moved page came from). There the linked flag is proof enough; elsewhere
    // (largest class: chained continuation chunks hold raw value bytes) the hash table
    // decides. Skipping that lookup doubles the scan speed.
    const largest = slabs.geometry.largest;
    let cls = 0;
    let size = 0;
    let perPage = 0;
    let carved = 0;
    let trust = false;
    const enterPage = (): void => {
      cls = slabs.pageClass[p] ?? 0;
      size = slabs.chunkSize(cls);
      perPage = slabs.geometry.perSlab[cls] ?? 0;
      carved = cls === 0 ? 0 : slabs.carvedChunks(p, cls);
      trust = cls !== largest;
    };
    enterPage();
    let big: Buffer | null = null;
    let full = false;
    scan: while (p < slabs.pages.length) {
      if (k >= perPage) {
        p++;
        k = 0;
        if (p >= slabs.pages.length) break;
        enterPage();
        continue;
      }
      if ((++checked & CLOCK_MASK) === 0 && performance.now() - start > sliceMs) break;
      const id = makeId(p, k * size);
      if (!isLinkedItem(cache, id, trust && k < carved) || cache.isExpired(id, now) || cache.isFlushed(id, now)) {
        k++;
        continue;
      }
      const klen = cache.itemKeyLength(id);
      const vlen = cache.itemValueLength(id);
      const need = RECORD_HEADER_BYTES + klen + vlen;
      if (pos + need > buf.length) {
        // past the buffer's slack: only a record larger than a slice gets here. Send what
        // the buffer holds, and the record starts the next slice in an empty one
        if (count > 0 || blockStart > 0) {
          full = true;
          break scan;
        }
        // alone in an empty buffer: give it a buffer of its own
        big = Buffer.allocUnsafe(pos + need + BLOCK_HEADER_BYTES);
        buf = big;
      }
      const cas = cache.itemCas(id);
      buf.writeUInt32LE(cache.itemFlags(id), pos);
      buf.writeUInt32LE(cache.itemExptime(id), pos + 4);
      buf.writeUInt32LE(cache.itemTime(id), pos + 8);
      buf.writeUInt32LE(vlen, pos + 12);
      buf.writeUInt32LE(cas >>> 0, pos + 16);
      buf.writeUInt32LE(Math.floor(cas / 0x100000000) >>> 0, pos + 20);
      buf[pos + 24] = klen;
      buf[pos + 25] = cache.itemIflags(id) & 0xff;
      buf[pos + 26] = 0;
      buf[pos + 27] = 0;
      cache.copyKey(id, buf, pos + RECORD_HEADER_BYTES);
      cache.copyValue(id, buf, pos + RECORD_HEADER_BYTES + klen);
      pos += need;
      count++;
      items++;
      itemBytes += klen + vlen;
      k++;
      if (big !== null || pos >= sliceEnd) break;
      if (pos - blockStart - BLOCK_HEADER_BYTES >= blockTarget) seal();
    }
    if (count > 0) seal();
    fill = blockStart;
    const took = performance.now() - start;
    if (took > maxSliceMs) maxSliceMs = took;
    slices++;
    if (big !== null) {
      // the big record's own buffer goes out alone; the double buffers were empty
      buf = bufs[which]!;
      const b = big;
      const len = fill;
      fill = 0;
      const err = await out.write(b, 0, len).then(
        () => null,
        (e: unknown) => e,
      );
      if (err) throw err;
      fileBytes += len;
    } else if (full || fill >= writeBytes) await flush();
    if (opts.onSlice) await opts.onSlice();
    await yieldToLoop();
  }
  await flush();
  for (const w of inFlight) {
    const err = w ? await w : null;
    if (err) throw err;
  }
  const end = encodeEnd({ blocks, items, itemBytes, casCounter: cache.casCounter, finishedAtMs: Date.now() });
  await out.write(end, 0, end.length);
  fileBytes += end.length;
  return { items, itemBytes, fileBytes, slices, maxSliceMs };
}

/**
 * True when `id` is the head chunk of an item that is linked right now. The writer scans slab
 * pages chunk by chunk, where free chunks, chained continuation chunks and never-carved
 * memory can hold any bytes; only the hash table can say a chunk is live.
 */
function isLinkedItem(cache: Cache, id: ItemId, trustFlag: boolean): boolean {
  const p32 = cache.items.pages32[id >>> PAGE_SHIFT];
  if (p32 === undefined) return false;
  const o = (id & OFF_MASK) << 1;
  const meta = p32[o + F_META]!;
  const klen = meta & 0xff;
  if (((meta >>> 16) & IF_LINKED) === 0 || klen === 0) return false;
  // a carved chunk of a class below the largest is only ever a whole item or a freed chunk
  // (free() zeroes F_META), so the flag is proof; the caller says when that holds
  if (trustFlag) return true;
  if ((o << 2) + ITEM_HEADER_BYTES + klen > cache.slabs.pageSize) return false;
  return cache.table.find(cache.items.pages[id >>> PAGE_SHIFT]!, (o << 2) + ITEM_HEADER_BYTES, klen, cache.items.hash(id)) === id;
}
