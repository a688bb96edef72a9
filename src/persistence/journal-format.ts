// The journal's bytes: a 64-byte file header, then records. A record is one change, or a
// batch of changes that replays all or nothing, under one CRC-32 and one sequence number.
// Everything little-endian.
//
//   header  8 "MCTSJNL1" u32 version u32 flags(bit 0: CAS on) f64 firstSeq f64 createdMs
//           u32 itemSizeMax  ... reserved ...  u32 crc32(bytes 0..60) at 60
//   record  u32 len u32 crc f64 seq, then `len - 8` bytes of entries; crc covers the len
//           field and everything after the crc field
//   entry   u8 type u32 bodyLen body
//     Item    u32 flags u32 exptime u32 time u32 casLo u32 casHi u8 iflags u8 klen u32 vlen key value
//     Meta    u32 exptime u32 time u32 casLo u32 casHi u8 iflags u8 klen key
//     Delete  u8 klen key
//     Flush   i32 delay u32 oldestLive f64 oldestCas
// Exptimes and times are absolute unix seconds, so replay after downtime keeps remaining TTLs.
import { crc32 } from './format.js';

export const JOURNAL_MAGIC = 'MCTSJNL1';
export const JOURNAL_VERSION = 1;
export const JOURNAL_HEADER_BYTES = 64;
export const RECORD_HEADER_BYTES = 16;
export const ENTRY_HEADER_BYTES = 5;

export const EntryType = { Item: 1, Meta: 2, Delete: 3, Flush: 4 } as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export const ITEM_FIXED = 26;
export const META_FIXED = 18;
export const FLUSH_FIXED = 16;

export interface JournalHeader {
  version: number;
  useCas: boolean;
  firstSeq: number;
  createdMs: number;
  itemSizeMax: number;
}

export function encodeHeader(h: JournalHeader): Buffer {
  const b = Buffer.alloc(JOURNAL_HEADER_BYTES);
  b.write(JOURNAL_MAGIC, 0, 'latin1');
  b.writeUInt32LE(h.version, 8);
  b.writeUInt32LE(h.useCas ? 1 : 0, 12);
  b.writeDoubleLE(h.firstSeq, 16);
  b.writeDoubleLE(h.createdMs, 24);
  b.writeUInt32LE(h.itemSizeMax, 32);
  b.writeUInt32LE(crc32(b.subarray(0, 60)), 60);
  return b;
}

export type HeaderProblem = 'short' | 'magic' | 'checksum' | 'version';

export function decodeHeader(b: Buffer): JournalHeader | HeaderProblem {
  if (b.length < JOURNAL_HEADER_BYTES) return 'short';
  if (b.toString('latin1', 0, 8) !== JOURNAL_MAGIC) return 'magic';
  if (crc32(b.subarray(0, 60)) !== b.readUInt32LE(60)) return 'checksum';
  const version = b.readUInt32LE(8);
  if (version !== JOURNAL_VERSION) return 'version';
  return {
    version,
    useCas: (b.readUInt32LE(12) & 1) !== 0,
    firstSeq: b.readDoubleLE(16),
    createdMs: b.readDoubleLE(24),
    itemSizeMax: b.readUInt32LE(32),
  };
}

/** The checksum of the record at `off` whose length field says `len`. */
export function recordCrc(b: Uint8Array, off: number, len: number): number {
  return crc32(b.subarray(off + 8, off + 8 + len), crc32(b.subarray(off, off + 4)));
}

/** One decoded entry; key and value are views into the record's bytes. */
export interface Entry {
  type: EntryType;
  key: Buffer;
  value: Buffer;
  flags: number;
  exptime: number;
  time: number;
  cas: number;
  iflags: number;
  delay: number;
  oldestLive: number;
  oldestCas: number;
}

/**
 * The entries of a verified record, or a string saying why they cannot be trusted (lengths
 * that do not add up, an unknown type, a key memcached could not hold).
 */
export function decodeEntries(b: Buffer, start: number, end: number): Entry[] | string {
  const out: Entry[] = [];
  let p = start;
  while (p < end) {
    if (end - p < ENTRY_HEADER_BYTES) return 'entry header past the record';
    const type = b[p]!;
    const len = b.readUInt32LE(p + 1);
    const s = p + ENTRY_HEADER_BYTES;
    if (len > end - s) return 'entry body past the record';
    const e = decodeEntry(b, type, s, len);
    if (typeof e === 'string') return e;
    out.push(e);
    p = s + len;
  }
  if (out.length === 0) return 'empty record';
  return out;
}

const EMPTY = Buffer.alloc(0);

function decodeEntry(b: Buffer, type: number, s: number, len: number): Entry | string {
  const e: Entry = { type: type as EntryType, key: EMPTY, value: EMPTY, flags: 0, exptime: 0, time: 0, cas: 0, iflags: 0, delay: 0, oldestLive: 0, oldestCas: 0 };
  switch (type) {
    case EntryType.Item: {
      if (len < ITEM_FIXED) return 'item entry too short';
      e.flags = b.readUInt32LE(s);
      e.exptime = b.readUInt32LE(s + 4);
      e.time = b.readUInt32LE(s + 8);
      e.cas = b.readUInt32LE(s + 16) * 0x100000000 + b.readUInt32LE(s + 12);
      e.iflags = b[s + 20]!;
      const klen = b[s + 21]!;
      const vlen = b.readUInt32LE(s + 22);
      if (ITEM_FIXED + klen + vlen !== len) return 'item entry lengths do not add up';
      e.key = b.subarray(s + ITEM_FIXED, s + ITEM_FIXED + klen);
      e.value = b.subarray(s + ITEM_FIXED + klen, s + len);
      break;
    }
    case EntryType.Meta: {
      if (len < META_FIXED) return 'meta entry too short';
      e.exptime = b.readUInt32LE(s);
      e.time = b.readUInt32LE(s + 4);
      e.cas = b.readUInt32LE(s + 12) * 0x100000000 + b.readUInt32LE(s + 8);
      e.iflags = b[s + 16]!;
      const klen = b[s + 17]!;
      if (META_FIXED + klen !== len) return 'meta entry lengths do not add up';
      e.key = b.subarray(s + META_FIXED, s + len);
      break;
    }
    case EntryType.Delete: {
      if (len < 1 || 1 + b[s]! !== len) return 'delete entry lengths do not add up';
      e.key = b.subarray(s + 1, s + len);
      break;
    }
    case EntryType.Flush:
      if (len !== FLUSH_FIXED) return 'flush entry of the wrong size';
      e.delay = b.readInt32LE(s);
      e.oldestLive = b.readUInt32LE(s + 4);
      e.oldestCas = b.readDoubleLE(s + 8);
      break;
    default:
      return `unknown entry type ${type}`;
  }
  if (type !== EntryType.Flush && (e.key.length === 0 || e.key.length > 250)) return 'key length out of range';
  if (!Number.isSafeInteger(e.cas) || !Number.isSafeInteger(e.oldestCas) || e.oldestCas < 0) return 'CAS out of range';
  return e;
}
