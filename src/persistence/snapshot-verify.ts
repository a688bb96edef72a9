// Pass 1 of a snapshot load: walk the file block by block and trust only what verifies. A
// bad block (marker, length, checksum, malformed or impossible records) costs its own
// records: the walk resynchronises at the next block that verifies whole. It records, per
// live record, what pass 2 (loader.ts) needs to choose what fits the memory budget.
import fs from 'node:fs';
import { chunkBytes, continuationChunks, memcachedItemSize } from '../cache/item.js';
import type { Cache } from '../cache/cache.js';
import type { Logger } from '../log.js';
import {
  BLOCK_HEADER_BYTES,
  BLOCK_MAGIC,
  blockChecksumOk,
  CAS_MAX,
  decodeEndPayload,
  END_MAGIC,
  END_PAYLOAD_BYTES,
  HEADER_BYTES,
  KEY_MAX_BYTES,
  MAX_BLOCK_PAYLOAD,
  possibleCas,
  RECORD_HEADER_BYTES,
  type SnapshotEnd,
  type SnapshotHeader,
} from './format.js';
export interface Pass1 {
  header: SnapshotHeader;
  end: SnapshotEnd | null;
  /** offsets of the data blocks that verified, in file order */
  offsets: number[];
  blocks: number;
  /** records in the verified blocks */
  records: number;
  /** records skipped as impossible (see impossibleRecord) */
  invalid: number;
  /** why the file is not whole, or null */
  problem: string | null;
  /** per live record (not expired, fits -I): last-access time, slab class, chunks */
  atime: Uint32Array;
  cls: Uint8Array;
  chunks: Uint32Array;
  live: number;
  /** Hashes of the keys restored so far, or null when the cache held items before the load. */
  seen: HashFilter | null;
}

/**
 * A set of key hashes with false positives and no false negatives, ~16 bits per record. A
 * snapshot rarely holds a key twice (only a key rewritten during the write window), so for
 * most records the filter proves the key new and the restore skips the index lookup, whose
 * walk to random item headers was the largest cost of a load after the index was pre-sized.
 * A hit (a repeated key, or 1 in ~16 otherwise) falls back to the full lookup.
 */
export class HashFilter {
  readonly #bits: Uint32Array;
  readonly #mask: number;

  constructor(records: number) {
    let words = 1 << 11;
    while (words * 2 < records && words < 1 << 26) words *= 2;
    this.#bits = new Uint32Array(words);
    this.#mask = words * 32 - 1;
  }

  /** True when `hash` was never added before; adds it. */
  firstSight(hash: number): boolean {
    // the index takes its buckets from the low bits; mixing in the high bits keeps keys
    // that share a bucket from also sharing a filter bit
    const bit = (hash ^ (hash >>> 17) ^ Math.imul(hash >>> 7, 0x9e3779b1)) & this.#mask;
    const w = bit >>> 5;
    const m = 1 << (bit & 31);
    const had = this.#bits[w]! & m;
    this.#bits[w] = this.#bits[w]! | m;
    return had === 0;
  }
}


/** What one block at an offset turned out to be. */
type Examined =
  | { kind: 'block'; len: number; count: number; body: Buffer }
  | { kind: 'end'; len: number; count: number; body: Buffer }
  | { kind: 'bad'; why: string; truncated: boolean };

/**
 * Pass 1: check every block's checksum and structure; note what each live record needs. A bad
 * block does not end the load: the bytes after it are searched for the next block whose
 * marker, length, checksum and records all verify, so a damaged block costs only its own
 * records. A file cut short still loads the blocks before the cut.
 */
export function verify(cache: Cache, fd: number, size: number, header: SnapshotHeader, log: Logger | undefined, file: string): Pass1 {
  const now = cache.clock.now();
  const r: Pass1 = {
    header,
    end: null,
    offsets: [],
    blocks: 0,
    records: 0,
    invalid: 0,
    problem: null,
    atime: new Uint32Array(1024),
    cls: new Uint8Array(1024),
    chunks: new Uint32Array(1024),
    live: 0,
    seen: null,
  };
  const slabs = cache.slabs;
  const chunkMax = cache.options.slabChunkMax;
  const largest = slabs.geometry.largest;
  // an honest block is at most blockTarget plus one record of the largest item
  const maxPayload = Math.min(MAX_BLOCK_PAYLOAD, header.blockTarget + RECORD_HEADER_BYTES + KEY_MAX_BYTES + header.itemSizeMax);
  const bh = Buffer.alloc(BLOCK_HEADER_BYTES);
  let payload = Buffer.allocUnsafe(Math.max(header.blockTarget, 1 << 16) + 64 * 1024);

  /** Walk a block's records; with `collect`, count them and note the live ones (undone on failure). */
  const walk = (body: Buffer, len: number, count: number, collect: boolean): boolean => {
    let p = 0;
    let n = 0;
    const mark = r.live;
    const invalid = r.invalid;
    while (p < len) {
      if (p + RECORD_HEADER_BYTES > len) break;
      const vlen = u32(body, p + 12);
      const klen = body[p + 24]!;
      if (p + RECORD_HEADER_BYTES + klen + vlen > len) break;
      const at = p;
      p += RECORD_HEADER_BYTES + klen + vlen;
      n++;
      if (!collect) continue;
      if (impossibleRecord(body, at, klen, vlen, header)) {
        r.invalid++;
        continue;
      }
      const exptime = u32(body, at + 4);
      if (exptime !== 0 && exptime <= now) continue;
      if (memcachedItemSize(klen, vlen, cache.options.useCas) > cache.options.itemSizeMax) continue;
      if (r.live === r.atime.length) grow(r);
      const need = chunkBytes(klen, vlen, u32(body, at));
      r.atime[r.live] = u32(body, at + 8);
      if (need <= chunkMax) {
        r.cls[r.live] = slabs.classFor(need);
        r.chunks[r.live] = 1;
      } else {
        r.cls[r.live] = largest;
        r.chunks[r.live] = continuationChunks(need, chunkMax) + 1;
      }
      r.live++;
    }
    if (p !== len || n !== count) {
      r.live = mark;
      r.invalid = invalid;
      return false;
    }
    if (collect) r.records += n;
    return true;
  };

  /** Read and check the block at `off`; `collect` as for walk(). */
  const examine = (off: number, nth: number, collect: boolean): Examined => {
    if (off + BLOCK_HEADER_BYTES > size) return { kind: 'bad', why: `is truncated inside block ${nth} at byte ${off}`, truncated: true };
    readAt(fd, bh, 0, BLOCK_HEADER_BYTES, off);
    const magic = bh.readUInt32LE(0);
    const len = bh.readUInt32LE(4);
    const count = bh.readUInt32LE(8);
    if (magic !== BLOCK_MAGIC && magic !== END_MAGIC) {
      return { kind: 'bad', why: `is damaged at byte ${off} (block ${nth} has a bad marker)`, truncated: false };
    }
    if (magic === END_MAGIC ? len !== END_PAYLOAD_BYTES : len > maxPayload || count === 0 || len < count * RECORD_HEADER_BYTES) {
      return { kind: 'bad', why: `is damaged at byte ${off} (block ${nth} has an impossible length)`, truncated: false };
    }
    if (off + BLOCK_HEADER_BYTES + len > size) return { kind: 'bad', why: `is truncated inside block ${nth} at byte ${off}`, truncated: true };
    if (payload.length < len) payload = Buffer.allocUnsafe(len);
    const body = payload.subarray(0, len);
    readAt(fd, body, 0, len, off + BLOCK_HEADER_BYTES);
    if (!blockChecksumOk(bh, body)) return { kind: 'bad', why: `is damaged at byte ${off} (block ${nth} fails its checksum)`, truncated: false };
    if (magic === END_MAGIC) return { kind: 'end', len, count, body };
    if (!walk(body, len, count, collect)) return { kind: 'bad', why: `is damaged at byte ${off} (block ${nth} has malformed records)`, truncated: false };
    return { kind: 'block', len, count, body };
  };

  /** The offset of the next block after `from` that verifies whole, or -1. */
  let win: Buffer | null = null;
  const resync = (from: number): number => {
    win ??= Buffer.allocUnsafe(1 << 20);
    let at = from;
    for (;;) {
      const c = nextMarker(fd, size, at, win);
      if (c < 0) return -1;
      if (examine(c, 0, false).kind !== 'bad') return c;
      at = c + 1;
    }
  };

  let off = HEADER_BYTES;
  let lastLog = performance.now();
  let damage: string | null = null;
  let regions = 0;
  let skipped = 0;
  let stop: string | null = null;
  for (;;) {
    if (off === size) {
      stop = `is truncated (no end block after ${r.blocks} blocks)`;
      break;
    }
    const got = examine(off, r.blocks + regions + 1, true);
    if (got.kind === 'block') {
      r.offsets.push(off);
      r.blocks++;
      off += BLOCK_HEADER_BYTES + got.len;
      if (performance.now() - lastLog > 1000) {
        lastLog = performance.now();
        log?.info(`snapshot: verifying ${file}: ${Math.round((100 * off) / size)}%`);
      }
      continue;
    }
    if (got.kind === 'end') {
      const end = decodeEndPayload(got.count, got.body);
      if (!possibleCas(end.casCounter)) {
        stop = `is damaged (its end block holds an impossible CAS counter)`;
        break;
      }
      // blocks lost to damage cannot be counted here; the problem is already recorded
      if (regions === 0 && got.count !== r.blocks) {
        stop = `is damaged (the end block counts ${got.count} blocks, found ${r.blocks})`;
        break;
      }
      r.end = end;
      const endsAt = off + BLOCK_HEADER_BYTES + got.len;
      if (endsAt !== size) stop = `has ${size - endsAt} unexpected bytes after its end block`;
      break;
    }
    const next = resync(off + 1);
    if (next < 0) {
      stop = got.truncated ? got.why : `${got.why}, and no block after it verifies (${size - off} bytes skipped)`;
      break;
    }
    // a block that seemed to run past the end had a damaged length, since another follows it
    damage ??= got.truncated ? `is damaged at byte ${off} (block ${r.blocks + regions + 1} has an impossible length)` : got.why;
    regions++;
    skipped += next - off;
    off = next;
  }
  const parts: string[] = [];
  if (damage !== null) {
    const lost =
      r.end !== null
        ? `${r.end.blocks - r.blocks} of ${r.end.blocks} blocks, ${Math.max(0, r.end.items - r.records)} records`
        : `${regions} damaged region${regions === 1 ? '' : 's'}`;
    parts.push(`${damage}; skipped ${lost} (${skipped} bytes) and resynchronised at the next good block`);
  }
  if (stop !== null) parts.push(stop);
  if (r.invalid > 0) parts.push(`holds ${r.invalid} impossible record${r.invalid === 1 ? '' : 's'} (bad key length, value length or CAS), skipped`);
  r.problem = parts.length > 0 ? parts.join('; and ') : null;
  return r;
}

/**
 * True for a record no daemon could have written, though its block's checksum holds: a key
 * of 0 or more than 250 bytes, key plus value larger than the -I of the daemon that wrote the
 * file, or a CAS above 2^53. Key bytes are not checked: the binary protocol stores any bytes
 * in a key, spaces and control characters included, without a flag that says so.
 */
export function impossibleRecord(body: Uint8Array, at: number, klen: number, vlen: number, header: SnapshotHeader): boolean {
  if (klen === 0 || klen > KEY_MAX_BYTES) return true;
  if (klen + vlen > header.itemSizeMax) return true;
  // compared in halves: as a double, 2^53 + 1 would round down to 2^53
  const casHi = u32(body, at + 20);
  return casHi > CAS_MAX / 0x100000000 || (casHi === CAS_MAX / 0x100000000 && u32(body, at + 16) !== 0);
}

const BLOCK_MARK = Buffer.from('BLK1', 'latin1');
const END_MARK = Buffer.from('END1', 'latin1');

/** The offset of the next "BLK1" or "END1" at or after `from`, or -1. */
export function nextMarker(fd: number, size: number, from: number, win: Buffer): number {
  for (let at = from; at + 4 <= size; ) {
    const n = readAt(fd, win, 0, Math.min(win.length, size - at), at);
    const view = win.subarray(0, n);
    const b = view.indexOf(BLOCK_MARK);
    const e = view.indexOf(END_MARK);
    const hit = b < 0 ? e : e < 0 ? b : Math.min(b, e);
    if (hit >= 0) return at + hit;
    if (at + n >= size) return -1;
    at += n - 3; // a marker may straddle two windows
  }
  return -1;
}

export function grow(r: Pass1): void {
  const n = r.atime.length * 2;
  const a = new Uint32Array(n);
  a.set(r.atime);
  r.atime = a;
  const c = new Uint8Array(n);
  c.set(r.cls);
  r.cls = c;
  const k = new Uint32Array(n);
  k.set(r.chunks);
  r.chunks = k;
}


/** Little-endian u32 at any offset; cheaper per record than Buffer#readUInt32LE's checks. */
export function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

export function readAt(fd: number, buf: Buffer, at: number, len: number, pos: number): number {
  let done = 0;
  while (done < len) {
    const n = fs.readSync(fd, buf, at + done, len - done, pos + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
