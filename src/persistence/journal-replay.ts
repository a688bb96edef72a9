// Startup side of the journal: after the snapshot has loaded, replay `<file>.prev` (records
// kept while the snapshot that follows them was unfinished) and then `<file>`, in order, onto
// the cache, with no change listener registered. A record is applied only whole and only
// when its checksum and sequence number are right; at the first bad one the file is cut
// there (the offset and the bytes dropped are logged). A file of another format version or
// with other settings is moved aside, never read as garbage.
import fs from 'node:fs';
import path from 'node:path';
import type { Cache } from '../cache/cache.js';
import { NONE } from '../cache/item.js';
import { Outcome } from '../cache/outcome.js';
import { RestoreRecord } from '../cache/restore.js';
import type { Logger } from '../log.js';
import {
  decodeEntries,
  decodeHeader,
  encodeHeader,
  EntryType,
  JOURNAL_HEADER_BYTES,
  JOURNAL_VERSION,
  recordCrc,
  RECORD_HEADER_BYTES,
  type Entry,
  type JournalHeader,
} from './journal-format.js';
import type { JournalFile, JournalFs } from './journal-fs.js';

export interface ReplayResult {
  /** Records applied, and the changes in them. */
  records: number;
  entries: number;
  /** Items whose replayed state had expired by now (treated as gone). */
  expired: number;
  /** Items that did not fit the memory budget or -I. */
  noRoom: number;
  /** Bytes cut off torn or corrupt tails, over both files. */
  droppedBytes: number;
  /** Files moved aside (other version, other settings, bad header). */
  movedAside: string[];
}

export interface OpenedJournal {
  file: JournalFile;
  /** Where the next record goes. */
  size: number;
  nextSeq: number;
  result: ReplayResult;
}

export interface OpenOptions {
  log: Logger;
  fs: JournalFs;
  useCas: boolean;
  itemSizeMax: number;
  /** Suffix for moved-aside files (tests fix it). */
  badSuffix?: () => string;
}

/** Create `file` holding only a header, durably (the caller syncs the directory). */
export function newJournalFile(fsys: JournalFs, file: string, h: { useCas: boolean; itemSizeMax: number; firstSeq: number }): JournalFile {
  const f = fsys.create(file);
  const header = encodeHeader({ version: JOURNAL_VERSION, useCas: h.useCas, firstSeq: h.firstSeq, createdMs: Date.now(), itemSizeMax: h.itemSizeMax });
  try {
    f.writeSync(header, 0, header.length, 0);
    f.datasyncSync();
  } catch (err) {
    f.close();
    throw err;
  }
  return f;
}

/** Replay what the journal holds onto `cache`, then open it for appending. Throws when it cannot. */
export function openJournal(cache: Cache, file: string, o: OpenOptions): OpenedJournal {
  const result: ReplayResult = { records: 0, entries: 0, expired: 0, noRoom: 0, droppedBytes: 0, movedAside: [] };
  const prev = `${file}.prev`;
  const next = `${file}.next`;
  const dir = path.dirname(file);
  if (!o.fs.exists(file) && o.fs.exists(next)) {
    // a rotation stopped between its two renames: .next is the journal
    o.fs.rename(next, file);
    o.fs.syncDir(dir);
  } else if (o.fs.exists(next)) {
    o.fs.unlink(next);
  }
  let seq = 0;
  const replay = new Replay(cache, result);
  if (o.fs.exists(prev)) {
    const r = replayFile(prev, replay, o, result, seq);
    if (r !== null) seq = r.nextSeq;
  }
  let size = 0;
  if (o.fs.exists(file)) {
    const r = replayFile(file, replay, o, result, seq);
    if (r !== null) {
      seq = r.nextSeq;
      size = r.size;
    }
  }
  if (seq === 0) seq = 1;
  // replayed items were linked at their LRU heads in the order they changed, newest first, as
  // the snapshot's were by access time: no reordering pass (a second sort of every item)
  let f: JournalFile;
  if (size === 0) {
    f = newJournalFile(o.fs, file, { useCas: o.useCas, itemSizeMax: o.itemSizeMax, firstSeq: seq });
    o.fs.syncDir(dir);
    size = JOURNAL_HEADER_BYTES;
  } else {
    f = o.fs.open(file);
  }
  return { file: f, size, nextSeq: seq, result };
}

/**
 * Apply the good records of one file; cut a bad tail off. Returns the next sequence number and
 * the length kept, or null when the file was moved aside.
 */
function replayFile(file: string, replay: Replay, o: OpenOptions, result: ReplayResult, expectSeq: number): { nextSeq: number; size: number } | null {
  const buf = fs.readFileSync(file);
  const h = decodeHeader(buf);
  const aside = (why: string): null => {
    const to = `${file}.bad-${o.badSuffix ? o.badSuffix() : new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')}`;
    o.fs.rename(file, to);
    result.movedAside.push(to);
    o.log.warn(`journal: ${file} ${why}; not replayed; moved it to ${to}`);
    return null;
  };
  if (typeof h === 'string') {
    if (h === 'short' && buf.length === 0) return aside('is empty');
    return aside(h === 'version' ? `is of another format version (${buf.readUInt32LE(8)}, this build reads ${JOURNAL_VERSION})` : `has no valid journal header (${h})`);
  }
  const settings = mismatch(h, o);
  if (settings !== null) return aside(`was written with other settings (${settings})`);
  if (expectSeq !== 0 && h.firstSeq !== expectSeq) {
    o.log.warn(`journal: ${file} starts at record ${h.firstSeq}, expected ${expectSeq}: records in between are missing; replaying what there is`);
  }
  let seq = h.firstSeq;
  let off = JOURNAL_HEADER_BYTES;
  let problem: string | null = null;
  while (off < buf.length) {
    if (buf.length - off < RECORD_HEADER_BYTES) {
      problem = 'a torn record header';
      break;
    }
    const len = buf.readUInt32LE(off);
    if (len < 8 + 5 || off + 8 + len > buf.length) {
      problem = len < 13 ? 'an impossible record length' : 'a torn record';
      break;
    }
    if (recordCrc(buf, off, len) !== buf.readUInt32LE(off + 4)) {
      problem = 'a record with a bad checksum';
      break;
    }
    if (buf.readDoubleLE(off + 8) !== seq) {
      problem = `a record numbered ${buf.readDoubleLE(off + 8)} where ${seq} was due`;
      break;
    }
    const entries = decodeEntries(buf, off + RECORD_HEADER_BYTES, off + 8 + len);
    if (typeof entries === 'string') {
      problem = `an unreadable record (${entries})`;
      break;
    }
    replay.apply(entries);
    result.records++;
    result.entries += entries.length;
    seq++;
    off += 8 + len;
  }
  if (problem !== null) {
    const dropped = buf.length - off;
    result.droppedBytes += dropped;
    fs.truncateSync(file, off);
    o.log.warn(`journal: ${file} has ${problem} at offset ${off}: cut there, ${dropped} bytes dropped; ${seq - h.firstSeq} records before it replayed`);
  }
  return { nextSeq: seq, size: off };
}

function mismatch(h: JournalHeader, o: OpenOptions): string | null {
  if (h.useCas !== o.useCas) return `CAS ${h.useCas ? 'on' : 'off'}, now ${o.useCas ? 'on' : 'off'} (-C)`;
  return null;
}

/** Applies decoded entries to the cache the way the changes were first applied. */
class Replay {
  readonly #cache: Cache;
  readonly #result: ReplayResult;
  readonly #rec = new RestoreRecord();
  readonly #now: number;

  constructor(cache: Cache, result: ReplayResult) {
    this.#cache = cache;
    this.#result = result;
    this.#now = cache.clock.now();
  }

  apply(entries: Entry[]): void {
    for (const e of entries) this.#one(e);
  }

  #one(e: Entry): void {
    const cache = this.#cache;
    switch (e.type) {
      case EntryType.Item: {
        if (e.exptime !== 0 && e.exptime <= this.#now) {
          // the key's latest state has expired: nothing older may stay under it
          cache.dropStale(e.key, 0, e.key.length);
          this.#result.expired++;
          return;
        }
        const r = this.#rec;
        r.key = e.key;
        r.kOff = 0;
        r.kLen = e.key.length;
        r.value = e.value;
        r.vOff = 0;
        r.vLen = e.value.length;
        r.flags = e.flags;
        r.exptime = e.exptime;
        r.cas = e.cas;
        r.time = e.time;
        r.iflags = e.iflags;
        r.hash = -1;
        r.absent = false;
        const outcome = cache.restorer.restore(r);
        if (outcome !== Outcome.Stored) {
          cache.dropStale(e.key, 0, e.key.length);
          this.#result.noRoom++;
        }
        return;
      }
      case EntryType.Meta: {
        const id = cache.find(e.key, 0, e.key.length);
        if (id !== NONE) cache.restoreMeta(id, e.exptime, e.cas, e.iflags, e.time);
        return;
      }
      case EntryType.Delete:
        cache.dropStale(e.key, 0, e.key.length);
        return;
      case EntryType.Flush:
        cache.setFlushPoint(e.oldestLive, e.oldestCas);
        cache.raiseCasCounter(e.oldestCas);
        return;
    }
  }
}
