// Loads a snapshot at startup (before the listeners open, so it may block). Only checksummed
// blocks are trusted, and in them only records a daemon could have written: a damaged file
// loads every block that verifies (a bad block costs its own records), a truncated one its
// verified prefix, an incompatible one nothing; each is logged in one line and moved aside so
// the next snapshot cannot overwrite it.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { hashKey } from '../cache/hash.js';
import { memcachedItemSize } from '../cache/item.js';
import type { Cache } from '../cache/cache.js';
import { Outcome } from '../cache/outcome.js';
import { RestoreRecord } from '../cache/restore.js';
import type { Logger } from '../log.js';
import {
  BLOCK_HEADER_BYTES,
  blockChecksumOk,
  decodeHeader,
  FORMAT_VERSION,
  HEADER_BYTES,
  RECORD_HEADER_BYTES,
} from './format.js';
import { HashFilter, impossibleRecord, readAt, u32, verify, type Pass1 } from './snapshot-verify.js';

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
