// Loads a snapshot at startup (before the listeners open, so it may block). Only checksummed
// blocks are trusted, and in them only records a daemon could have written: a damaged file
// loads every block that verifies (a bad block costs its own records), a truncated one its
// verified prefix, an incompatible one nothing; each is logged in one line and moved aside so
// the next snapshot cannot overwrite it.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { hashKey } from '../cache/hash.js';
import { HEADER_BYTES as ITEM_HEADER_BYTES, memcachedItemSize } from '../cache/item.js';
import type { Cache } from '../cache/cache.js';
import { Outcome } from '../cache/outcome.js';
import { RestoreRecord } from '../cache/restore.js';
import type { Logger } from '../log.js';
import {
  BLOCK_HEADER_BYTES,
  BLOCK_MAGIC,
  blockChecksumOk,
  CAS_MAX,
  decodeEndPayload,
  decodeHeader,
  END_MAGIC,
  END_PAYLOAD_BYTES,
  FORMAT_VERSION,
  HEADER_BYTES,
  KEY_MAX_BYTES,
  MAX_BLOCK_PAYLOAD,
  possibleCas,
  RECORD_HEADER_BYTES,
  type SnapshotEnd,
  type SnapshotHeader,
} from './format.js';

export type LoadStatus =
  /** no file: a first start */
  | 'missing'
  /** every block verified and the end block present */
  | 'loaded'
  /** the verified prefix was loaded; the rest was damaged or missing; file moved aside */
  | 'partial'
  /** nothing could be trusted (bad header, future version, empty); file moved aside */
  | 'rejected'
  /** the path could not be read at all (a directory, no permission); left where it is */
  | 'unreadable';

export interface LoadResult {
  status: LoadStatus;
  items: number;
  /** key + value bytes of the loaded items */
  bytes: number;
  expired: number;
  tooLarge: number;
  noRoom: number;
  /** records skipped because no daemon could have written them (checksums valid) */
  invalid: number;
  seconds: number;
  /** where a bad file was moved, or null */
  movedTo: string | null;
  /** the one line logged, or '' when nothing was logged */
  line: string;
}

export interface LoadOptions {
  log?: Logger;
  /** Suffix for a bad file's new name; defaults to a UTC timestamp. */
  badSuffix?: () => string;
}

interface Pass1 {
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
class HashFilter {
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

const MB = 1024 * 1024;

export function loadSnapshot(cache: Cache, file: string, opts: LoadOptions = {}): LoadResult {
  const t0 = performance.now();
  const log = opts.log;
  const result: LoadResult = {
    status: 'missing',
    items: 0,
    bytes: 0,
    expired: 0,
    tooLarge: 0,
    noRoom: 0,
    invalid: 0,
    seconds: 0,
    movedTo: null,
    line: '',
  };
  const say = (line: string): LoadResult => {
    result.seconds = (performance.now() - t0) / 1000;
    result.line = line;
    log?.warn(line);
    return result;
  };
  const moveAside = (): string => {
    const suffix = opts.badSuffix ? opts.badSuffix() : new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
    const to = `${file}.bad-${suffix}`;
    try {
      fs.renameSync(file, to);
      result.movedTo = to;
      return `moved it to ${to}`;
    } catch (err) {
      return `could not move it aside (${errText(err)}); the next snapshot will replace it`;
    }
  };

  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return result;
    result.status = 'unreadable';
    return say(`snapshot: cannot read ${file} (${errText(err)}); starting with an empty cache`);
  }
  if (!st.isFile()) {
    result.status = 'unreadable';
    return say(`snapshot: ${file} is not a regular file; starting with an empty cache, and snapshots will fail until it is removed`);
  }
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    result.status = 'unreadable';
    return say(`snapshot: cannot open ${file} (${errText(err)}); starting with an empty cache`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(HEADER_BYTES);
    const got = readAt(fd, head, 0, Math.min(size, HEADER_BYTES), 0);
    const decoded = decodeHeader(head.subarray(0, got));
    if (!decoded.ok) {
      result.status = 'rejected';
      const why: Record<typeof decoded.problem, string> = {
        empty: 'is empty',
        short: `is too short (${size} bytes) to hold a snapshot header`,
        'not-a-snapshot': 'is not a memcached-ts snapshot (bad magic)',
        'header-checksum': 'has a damaged header (checksum mismatch)',
        'future-version': `is format version ${decoded.version ?? '?'}, newer than this daemon reads (${FORMAT_VERSION})`,
        'bad-header': 'has an invalid header',
        'impossible-header': 'has a header with impossible values (CAS counter, -I or block size)',
      };
      fs.closeSync(fd);
      fd = -1;
      return say(`snapshot: ${file} ${why[decoded.problem]}; loaded nothing; ${moveAside()}`);
    }
    const p1 = verify(cache, fd, size, decoded.header, log, file);
    result.invalid = p1.invalid;
    // one bucket per item from the start: growing the index step by step while millions of
    // items arrive rethreads every chain each time, a sixth of the load time before
    cache.table.reserve(cache.table.count + p1.live);
    if (cache.table.count === 0) p1.seen = new HashFilter(p1.live);
    const cutoff = fitCutoff(cache, p1);
    if (cutoff === 0) loadVerified(cache, fd, p1, 'all', 0, result, log, file, size);
    else {
      // newer than the cutoff first (they fit), then records at the cutoff time while room lasts
      loadVerified(cache, fd, p1, 'newer', cutoff, result, log, file, size);
      loadVerified(cache, fd, p1, 'at', cutoff, result, log, file, size);
    }
    cache.restorer.orderLruByTime();
    cache.raiseCasCounter(Math.max(p1.header.casCounter, p1.end?.casCounter ?? 0));
    cache.restoreFlush(p1.header.oldestLive, p1.header.oldestCas);
    fs.closeSync(fd);
    fd = -1;
    const secs = ((performance.now() - t0) / 1000).toFixed(2);
    const age = Math.max(0, Math.round((Date.now() - p1.header.savedAtMs) / 1000));
    const summary =
      `${result.items} items (${(result.bytes / MB).toFixed(1)} MB) in ${secs} s` +
      `; skipped ${result.expired} expired, ${result.tooLarge} larger than -I, ` +
      `${result.noRoom} that did not fit in -m${result.noRoom > 0 ? ' (kept the most recently used)' : ''}` +
      (p1.invalid > 0 ? `, ${p1.invalid} impossible` : '');
    if (p1.problem !== null) {
      result.status = 'partial';
      return say(`snapshot: ${file} ${p1.problem}; loaded the verified part: ${summary}; ${moveAside()}`);
    }
    result.status = 'loaded';
    return say(`snapshot: loaded ${file} (saved ${age} s ago): ${summary}`);
  } catch (err) {
    // an I/O error while reading: keep what was restored, leave the file for inspection
    result.status = 'unreadable';
    return say(`snapshot: reading ${file} failed (${errText(err)}); kept ${result.items} items loaded before the error`);
  } finally {
    if (fd >= 0) fs.closeSync(fd);
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
function verify(cache: Cache, fd: number, size: number, header: SnapshotHeader, log: Logger | undefined, file: string): Pass1 {
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
      const need = ITEM_HEADER_BYTES + klen + vlen;
      r.atime[r.live] = u32(body, at + 8);
      if (need <= chunkMax) {
        r.cls[r.live] = slabs.classFor(need);
        r.chunks[r.live] = 1;
      } else {
        let c = 1;
        while (chunkMax - ITEM_HEADER_BYTES - klen - 4 * c + c * chunkMax < vlen) c++;
        r.cls[r.live] = largest;
        r.chunks[r.live] = c + 1;
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
function impossibleRecord(body: Uint8Array, at: number, klen: number, vlen: number, header: SnapshotHeader): boolean {
  if (klen === 0 || klen > KEY_MAX_BYTES) return true;
  if (klen + vlen > header.itemSizeMax) return true;
  // compared in halves: as a double, 2^53 + 1 would round down to 2^53
  const casHi = u32(body, at + 20);
  return casHi > CAS_MAX / 0x100000000 || (casHi === CAS_MAX / 0x100000000 && u32(body, at + 16) !== 0);
}

const BLOCK_MARK = Buffer.from('BLK1', 'latin1');
const END_MARK = Buffer.from('END1', 'latin1');

/** The offset of the next "BLK1" or "END1" at or after `from`, or -1. */
function nextMarker(fd: number, size: number, from: number, win: Buffer): number {
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

function grow(r: Pass1): void {
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

/**
 * 0 when everything fits in -m; otherwise the last-access time at which adding records newest
 * first runs out of slab pages. Records newer than it fit; records older are not loaded;
 * records at exactly that time load while their class has room.
 */
function fitCutoff(cache: Cache, p1: Pass1): number {
  const slabs = cache.slabs;
  const perSlab = slabs.geometry.perSlab;
  const budget = slabs.pageLimit - slabs.pages.length;
  const classes = perSlab.length;
  const used = new Float64Array(classes);
  const pagesFor = (c: number, chunks: number): number => Math.ceil(chunks / Math.max(1, perSlab[c] ?? 1));
  let pages = 0;
  for (let i = 0; i < p1.live; i++) used[p1.cls[i]!]! += p1.chunks[i]!;
  for (let c = 0; c < classes; c++) pages += pagesFor(c, used[c]!);
  if (pages <= budget) return 0;
  // newest first: sort indices by descending atime (typed-array sort of packed keys)
  const n = p1.live;
  let min = 0xffffffff;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const t = p1.atime[i]!;
    if (t < min) min = t;
    if (t > max) max = t;
  }
  const posBits = Math.max(1, Math.ceil(Math.log2(n + 1)));
  const scale = 2 ** posBits;
  const useKeys = (max - min + 1) * scale < 2 ** 53;
  let order: ArrayLike<number>;
  if (useKeys) {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = (max - p1.atime[i]!) * scale + i;
    keys.sort();
    const o = new Uint32Array(n);
    for (let i = 0; i < n; i++) o[i] = keys[i]! % scale;
    order = o;
  } else {
    const o = Array.from({ length: n }, (_, i) => i);
    o.sort((a, b) => p1.atime[b]! - p1.atime[a]!);
    order = o;
  }
  used.fill(0);
  pages = 0;
  for (let j = 0; j < n; j++) {
    const i = order[j]!;
    const c = p1.cls[i]!;
    const before = pagesFor(c, used[c]!);
    used[c]! += p1.chunks[i]!;
    pages += pagesFor(c, used[c]!) - before;
    if (pages > budget) return p1.atime[i]!;
  }
  return 0;
}

/**
 * Pass 2: restore the records of the verified blocks: all of them, those newer than the
 * cutoff, or those at the cutoff. Records another pass handles are not counted.
 */
function loadVerified(
  cache: Cache,
  fd: number,
  p1: Pass1,
  which: 'all' | 'newer' | 'at',
  cutoff: number,
  result: LoadResult,
  log: Logger | undefined,
  file: string,
  size: number,
): void {
  const now = cache.clock.now();
  const restorer = cache.restorer;
  const rec = new RestoreRecord();
  const bh = Buffer.alloc(BLOCK_HEADER_BYTES);
  let payload = Buffer.allocUnsafe(Math.max(p1.header.blockTarget, 1 << 16) + 64 * 1024);
  let lastLog = performance.now();
  const savedCas = p1.header.useCas;
  const seen = p1.seen;
  for (const off of p1.offsets) {
    readAt(fd, bh, 0, BLOCK_HEADER_BYTES, off);
    const len = bh.readUInt32LE(4);
    if (payload.length < len) payload = Buffer.allocUnsafe(len);
    const body = payload.subarray(0, len);
    readAt(fd, body, 0, len, off + BLOCK_HEADER_BYTES);
    // the file cannot change under an open descriptor unless someone writes it in place;
    // check again rather than trust pass 1
    if (!blockChecksumOk(bh, body)) throw Object.assign(new Error('file changed while loading'), { code: 'ESTALE' });
    let p = 0;
    while (p < len) {
      const flags = u32(body, p);
      const exptime = u32(body, p + 4);
      const atime = u32(body, p + 8);
      const vlen = u32(body, p + 12);
      const cas = savedCas ? u32(body, p + 20) * 0x100000000 + u32(body, p + 16) : 0;
      const klen = body[p + 24]!;
      const iflags = body[p + 25]!;
      const kOff = p + RECORD_HEADER_BYTES;
      if (impossibleRecord(body, p, klen, vlen, p1.header)) {
        p = kOff + klen + vlen;
        continue; // counted in pass 1
      }
      p = kOff + klen + vlen;
      const first = which !== 'at';
      if (exptime !== 0 && exptime <= now) {
        if (first) result.expired++;
        continue;
      }
      if (memcachedItemSize(klen, vlen, cache.options.useCas) > cache.options.itemSizeMax) {
        if (first) result.tooLarge++;
        continue;
      }
      if (which === 'newer' && atime <= cutoff) {
        if (atime < cutoff) result.noRoom++;
        continue;
      }
      if (which === 'at' && atime !== cutoff) continue;
      const hash = hashKey(body, kOff, klen);
      const absent = seen !== null && seen.firstSight(hash);
      const before = cache.stats.curr_items;
      rec.key = body;
      rec.kOff = kOff;
      rec.kLen = klen;
      rec.value = body;
      rec.vOff = kOff + klen;
      rec.vLen = vlen;
      rec.flags = flags;
      rec.exptime = exptime;
      rec.cas = cas;
      rec.time = atime;
      rec.iflags = iflags;
      rec.hash = hash;
      rec.absent = absent;
      const o = restorer.restore(rec);
      if (o === Outcome.Stored) {
        // a repeated key replaced its earlier record: count items, not records
        if (cache.stats.curr_items > before) result.items++;
        result.bytes += klen + vlen;
      } else if (o === Outcome.TooLarge) result.tooLarge++;
      else result.noRoom++;
    }
    if (performance.now() - lastLog > 1000) {
      lastLog = performance.now();
      log?.info(`snapshot: loading ${file}: ${Math.round((100 * off) / size)}%, ${result.items} items`);
    }
  }
}

/** Little-endian u32 at any offset; cheaper per record than Buffer#readUInt32LE's checks. */
function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

function readAt(fd: number, buf: Buffer, at: number, len: number, pos: number): number {
  let done = 0;
  while (done < len) {
    const n = fs.readSync(fd, buf, at + done, len - done, pos + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message.replace(/^\w+: /, '')}` : String(e.message ?? err);
}

/** Remove temp files a killed writer left next to the snapshot (PATH.tmp-<pid>-<n>). */
export function removeStaleTemps(file: string): number {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.tmp-`;
  let removed = 0;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^\d+-\d+$/.test(name.slice(prefix.length))) continue;
    try {
      fs.unlinkSync(path.join(dir, name));
      removed++;
    } catch {
      // not ours to worry about
    }
  }
  return removed;
}
