// Writes the cache to a snapshot file in slices, without stalling clients, and replaces the
// previous snapshot only once the new one is complete and durable.
//
// Consistency: a snapshot is NOT a point-in-time image. It is a per-item-consistent image
// taken over the window the write lasts (a few seconds for a large cache). The writer walks
// the slab pages in order, a few MB per event-loop turn, and copies each live item whole in
// one synchronous step, so:
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
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { makeId } from '../cache/item.js';
import type { Cache } from '../cache/store.js';
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
import { realSnapshotFs, type SnapshotFs } from './snapshot-fs.js';

export interface WriteOptions {
  fs?: SnapshotFs;
  /** Payload bytes per checksummed block. */
  blockTarget?: number;
  /** Bytes serialized per event-loop turn before the writer yields. */
  sliceBytes?: number;
  /** Longest a slice may run before it yields, in ms. */
  sliceMs?: number;
  /** Called after each slice is handed to the disk (tests change the cache here). */
  onSlice?: () => void | Promise<void>;
}

export type WriteResult =
  | { ok: true; items: number; itemBytes: number; fileBytes: number; durationMs: number; slices: number; maxSliceMs: number }
  | { ok: false; code: string; message: string; durationMs: number };

const DEFAULT_SLICE_BYTES = 4 << 20;
const DEFAULT_SLICE_MS = 8;
let tempSeq = 0;

export async function writeSnapshot(cache: Cache, file: string, opts: WriteOptions = {}): Promise<WriteResult> {
  const t0 = performance.now();
  const sfs = opts.fs ?? realSnapshotFs;
  const tmp = `${file}.tmp-${process.pid}-${++tempSeq}`;
  let handle: Awaited<ReturnType<SnapshotFs['create']>> | null = null;
  let created = false;
  try {
    handle = await sfs.create(tmp);
    created = true;
    const r = await writeBody(cache, handle, opts);
    await handle.sync();
    const h = handle;
    handle = null;
    await h.close();
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

async function writeBody(
  cache: Cache,
  out: { write(buf: Uint8Array, off: number, len: number): Promise<void> },
  opts: WriteOptions,
): Promise<{ items: number; itemBytes: number; fileBytes: number; slices: number; maxSliceMs: number }> {
  const blockTarget = opts.blockTarget ?? DEFAULT_BLOCK_TARGET;
  const sliceBytes = Math.max(opts.sliceBytes ?? DEFAULT_SLICE_BYTES, blockTarget);
  const sliceMs = opts.sliceMs ?? DEFAULT_SLICE_MS;
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

  // Two buffers: one is filled while the other is on its way to the disk.
  const normalSize = sliceBytes + blockTarget + BLOCK_HEADER_BYTES + 1024;
  const bufs = [Buffer.allocUnsafe(normalSize), Buffer.allocUnsafe(normalSize)];
  const inFlight: Array<Promise<unknown> | null> = [null, null];
  let which = 0;

  // Scan cursor: page p, chunk k. Pages are never freed or moved, so the cursor stays valid
  // across yields; what a chunk holds is re-checked when the walk reaches it.
  let p = 0;
  let k = 0;
  let items = 0;
  let itemBytes = 0;
  let blocks = 0;
  let slices = 0;
  let maxSliceMs = 0;

  while (p < slabs.pages.length) {
    let buf = bufs[which]!;
    const prev = inFlight[which];
    if (prev) {
      const err = await prev;
      if (err) throw err;
    }
    const start = performance.now();
    const now = cache.clock.now();
    let blockStart = 0;
    let pos = BLOCK_HEADER_BYTES;
    let count = 0;
    let checked = 0;
    const seal = (): void => {
      sealBlock(buf, blockStart, BLOCK_MAGIC, pos - blockStart - BLOCK_HEADER_BYTES, count);
      blocks++;
      blockStart = pos;
      pos += BLOCK_HEADER_BYTES;
      count = 0;
    };
    // Chunks of a class below the largest hold whole items or freed chunks, except past the
    // carve point of the class's newest page (never-written memory). There the linked flag is
    // proof enough; elsewhere (largest class: chained continuation chunks hold raw value
    // bytes) the hash table decides. Skipping that lookup doubles the scan speed.
    const newestPage = new Int32Array(slabs.geometry.sizes.length).fill(-1);
    for (let i = 0; i < slabs.pages.length; i++) newestPage[slabs.pageClass[i] ?? 0] = i;
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
      carved = newestPage[cls] === p ? perPage - slabs.unCarved(cls) : perPage;
      trust = cls !== largest;
    };
    enterPage();
    scan: while (p < slabs.pages.length) {
      if (k >= perPage) {
        p++;
        k = 0;
        if (p >= slabs.pages.length) break;
        enterPage();
        continue;
      }
      if ((++checked & 63) === 0 && performance.now() - start > sliceMs) break;
      const id = makeId(p, k * size);
      if (!cache.isLinkedItem(id, trust && k < carved) || cache.isExpired(id, now) || cache.isFlushed(id, now)) {
        k++;
        continue;
      }
      const klen = cache.itemKeyLength(id);
      const vlen = cache.itemValueLength(id);
      const need = RECORD_HEADER_BYTES + klen + vlen;
      if (pos + need > buf.length) {
        if (count > 0) {
          seal();
          break scan;
        }
        // one record larger than a whole slice (a big item): give it its own buffer
        const big = Buffer.allocUnsafe(pos + need);
        buf.copy(big, 0, 0, pos);
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
      if (pos - blockStart - BLOCK_HEADER_BYTES >= blockTarget) {
        seal();
        if (blockStart >= sliceBytes) break;
      }
    }
    if (count > 0) seal();
    const took = performance.now() - start;
    if (took > maxSliceMs) maxSliceMs = took;
    const len = blockStart;
    if (len > 0) {
      const b = buf;
      inFlight[which] = out.write(b, 0, len).then(
        () => null,
        (e: unknown) => e,
      );
      fileBytes += len;
      which ^= 1;
    }
    slices++;
    if (opts.onSlice) await opts.onSlice();
    await yieldToLoop();
  }
  for (const w of inFlight) {
    const err = w ? await w : null;
    if (err) throw err;
  }
  const end = encodeEnd({ blocks, items, itemBytes, casCounter: cache.casCounter, finishedAtMs: Date.now() });
  await out.write(end, 0, end.length);
  fileBytes += end.length;
  return { items, itemBytes, fileBytes, slices, maxSliceMs };
}
