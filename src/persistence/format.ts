// The snapshot file format: an 80-byte header, blocks of item records each with its own
// CRC-32, and an end block. Everything little-endian. A reader trusts only what a checksum
// covers, so a truncated or damaged file yields its verified prefix and nothing else.
//
//   header   "MCTSSNAP" u32 version u32 headerBytes u32 flags u32 itemSizeMax
//            u32 slabChunkMax u32 reserved f64 memoryLimit f64 casCounter f64 savedAtMs
//            f64 oldestCas u32 oldestLive u32 blockTarget u32 reserved u32 crc32(bytes 0..76)
//   block    u32 "BLK1" u32 payloadBytes u32 records u32 crc32(payloadBytes, records, payload)
//            then records: u32 flags u32 exptime u32 atime u32 valueBytes u32 casLo u32 casHi
//            u8 keyBytes u8 iflags u16 0, key, value
//   end      u32 "END1" u32 32 u32 blocks u32 crc32(...) then f64 items f64 itemBytes
//            f64 casCounter f64 finishedAtMs
import zlib from 'node:zlib';

export const MAGIC = Buffer.from('MCTSSNAP', 'latin1');
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 80;
export const BLOCK_HEADER_BYTES = 16;
export const RECORD_HEADER_BYTES = 28;
export const BLOCK_MAGIC = 0x314b4c42; // "BLK1"
export const END_MAGIC = 0x31444e45; // "END1"
export const END_PAYLOAD_BYTES = 32;
/** Payload size the writer aims for; one checksum covers this much. */
export const DEFAULT_BLOCK_TARGET = 1 << 20;
/** No honest block is larger than one record of the largest item -I allows, plus slack. */
export const MAX_BLOCK_PAYLOAD = 1024 * 1024 * 1024 + 4096;

export const HF_USE_CAS = 1;
/** memcached's KEY_MAX_LENGTH: no front end stores a longer key, so no record holds one. */
export const KEY_MAX_BYTES = 250;
/** CAS values are exact doubles; the counter never gets near this, so a larger one is damage. */
export const CAS_MAX = 2 ** 53;
/** The largest -I the daemon accepts (1024m). */
export const ITEM_SIZE_LIMIT = 1024 * 1024 * 1024;

export interface SnapshotHeader {
  version: number;
  useCas: boolean;
  itemSizeMax: number;
  slabChunkMax: number;
  memoryLimit: number;
  casCounter: number;
  savedAtMs: number;
  oldestLive: number;
  oldestCas: number;
  blockTarget: number;
}

export interface SnapshotEnd {
  blocks: number;
  items: number;
  itemBytes: number;
  casCounter: number;
  finishedAtMs: number;
}

// ---- CRC-32 ------------------------------------------------------------------------------

let table: Int32Array | null = null;

/** Table-driven CRC-32 (zlib polynomial) for runtimes without zlib.crc32 (before Node 20.15). */
export function crc32Fallback(data: Uint8Array, value = 0): number {
  if (table === null) {
    table = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c;
    }
  }
  let c = ~value;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const native = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
/** zlib.crc32 where Node has it (20.15+, 22.2+), the same function in JS otherwise. */
export const crc32: (data: Uint8Array, value?: number) => number =
  typeof native === 'function' ? (d, v = 0) => native(d, v) : crc32Fallback;
export const crc32IsNative = typeof native === 'function';

// ---- header ------------------------------------------------------------------------------

export function encodeHeader(h: SnapshotHeader): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(b, 0);
  b.writeUInt32LE(h.version, 8);
  b.writeUInt32LE(HEADER_BYTES, 12);
  b.writeUInt32LE(h.useCas ? HF_USE_CAS : 0, 16);
  b.writeUInt32LE(h.itemSizeMax >>> 0, 20);
  b.writeUInt32LE(h.slabChunkMax >>> 0, 24);
  b.writeDoubleLE(h.memoryLimit, 32);
  b.writeDoubleLE(h.casCounter, 40);
  b.writeDoubleLE(h.savedAtMs, 48);
  b.writeDoubleLE(h.oldestCas, 56);
  b.writeUInt32LE(h.oldestLive >>> 0, 64);
  b.writeUInt32LE(h.blockTarget >>> 0, 68);
  b.writeUInt32LE(crc32(b.subarray(0, 76)), 76);
  return b;
}

export type HeaderResult =
  | { ok: true; header: SnapshotHeader }
  | {
      ok: false;
      problem: 'empty' | 'short' | 'not-a-snapshot' | 'header-checksum' | 'future-version' | 'bad-header' | 'impossible-header';
      version?: number;
    };

/** A CAS value or counter a daemon could have reached: an integer in 0..2^53. */
export function possibleCas(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= CAS_MAX;
}

export function decodeHeader(b: Buffer): HeaderResult {
  if (b.length === 0) return { ok: false, problem: 'empty' };
  const magicLen = Math.min(b.length, MAGIC.length);
  if (!b.subarray(0, magicLen).equals(MAGIC.subarray(0, magicLen))) return { ok: false, problem: 'not-a-snapshot' };
  if (b.length < HEADER_BYTES) return { ok: false, problem: 'short' };
  if (crc32(b.subarray(0, 76)) !== b.readUInt32LE(76)) return { ok: false, problem: 'header-checksum' };
  const version = b.readUInt32LE(8);
  if (version > FORMAT_VERSION) return { ok: false, problem: 'future-version', version };
  if (version < 1 || b.readUInt32LE(12) !== HEADER_BYTES) return { ok: false, problem: 'bad-header', version };
  const header: SnapshotHeader = {
    version,
    useCas: (b.readUInt32LE(16) & HF_USE_CAS) !== 0,
    itemSizeMax: b.readUInt32LE(20),
    slabChunkMax: b.readUInt32LE(24),
    memoryLimit: b.readDoubleLE(32),
    casCounter: b.readDoubleLE(40),
    savedAtMs: b.readDoubleLE(48),
    oldestCas: b.readDoubleLE(56),
    oldestLive: b.readUInt32LE(64),
    blockTarget: b.readUInt32LE(68),
  };
  // a valid checksum over values no daemon writes: the file is not to be trusted at all
  const sane =
    possibleCas(header.casCounter) &&
    possibleCas(header.oldestCas) &&
    header.itemSizeMax > 0 &&
    header.itemSizeMax <= ITEM_SIZE_LIMIT &&
    header.blockTarget > 0 &&
    header.blockTarget <= MAX_BLOCK_PAYLOAD;
  return sane ? { ok: true, header } : { ok: false, problem: 'impossible-header', version };
}

// ---- blocks ------------------------------------------------------------------------------

/** Fill in a block header in front of `payloadBytes` bytes already at b[at + 16 ...]. */
export function sealBlock(b: Buffer, at: number, magic: number, payloadBytes: number, count: number): void {
  b.writeUInt32LE(magic, at);
  b.writeUInt32LE(payloadBytes, at + 4);
  b.writeUInt32LE(count, at + 8);
  const lenAndCount = b.subarray(at + 4, at + 12);
  const payload = b.subarray(at + BLOCK_HEADER_BYTES, at + BLOCK_HEADER_BYTES + payloadBytes);
  b.writeUInt32LE(crc32(payload, crc32(lenAndCount)), at + 12);
}

/** The checksum a block header at b[at..] should carry for the payload that follows it. */
export function blockChecksumOk(head: Buffer, payload: Buffer): boolean {
  return crc32(payload, crc32(head.subarray(4, 12))) === head.readUInt32LE(12);
}

export function encodeEnd(e: SnapshotEnd): Buffer {
  const b = Buffer.alloc(BLOCK_HEADER_BYTES + END_PAYLOAD_BYTES);
  b.writeDoubleLE(e.items, 16);
  b.writeDoubleLE(e.itemBytes, 24);
  b.writeDoubleLE(e.casCounter, 32);
  b.writeDoubleLE(e.finishedAtMs, 40);
  sealBlock(b, 0, END_MAGIC, END_PAYLOAD_BYTES, e.blocks);
  return b;
}

export function decodeEndPayload(blocks: number, p: Buffer): SnapshotEnd {
  return {
    blocks,
    items: p.readDoubleLE(0),
    itemBytes: p.readDoubleLE(8),
    casCounter: p.readDoubleLE(16),
    finishedAtMs: p.readDoubleLE(24),
  };
}

/** Bytes a record of this key and value takes in a block. */
export function recordBytes(keyLen: number, valueLen: number): number {
  return RECORD_HEADER_BYTES + keyLen + valueLen;
}
