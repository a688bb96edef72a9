// The 24-byte binary header, big-endian on the wire: magic, opcode, key length, extras
// length, data type, vbucket (request) or status (response), total body length, opaque, CAS.
// Decoding fills a reusable object so the request path allocates nothing.
import { HEADER_LEN, RES_MAGIC } from './opcodes.js';

const TWO_32 = 0x100000000;

export class Header {
  magic = 0;
  opcode = 0;
  keyLen = 0;
  extLen = 0;
  dataType = 0;
  /** vbucket id in a request, status in a response. */
  vbucketOrStatus = 0;
  bodyLen = 0;
  /** Echoed back untouched, so kept as an unsigned 32-bit number. */
  opaque = 0;
  /** 64-bit CAS as a number; exact up to 2^53, beyond any CAS this daemon hands out. */
  cas = 0;

  /** Read the header at buf[off, off+24); the caller checks that 24 bytes are there. */
  decode(buf: Uint8Array, off: number): this {
    this.magic = buf[off]!;
    this.opcode = buf[off + 1]!;
    this.keyLen = (buf[off + 2]! << 8) | buf[off + 3]!;
    this.extLen = buf[off + 4]!;
    this.dataType = buf[off + 5]!;
    this.vbucketOrStatus = (buf[off + 6]! << 8) | buf[off + 7]!;
    this.bodyLen = readU32(buf, off + 8);
    this.opaque = readU32(buf, off + 12);
    this.cas = readU32(buf, off + 16) * TWO_32 + readU32(buf, off + 20);
    return this;
  }

  /** Write this header at dst[off, off+24). */
  encode(dst: Uint8Array, off: number): number {
    dst[off] = this.magic;
    dst[off + 1] = this.opcode;
    dst[off + 2] = this.keyLen >>> 8;
    dst[off + 3] = this.keyLen & 0xff;
    dst[off + 4] = this.extLen;
    dst[off + 5] = this.dataType;
    dst[off + 6] = this.vbucketOrStatus >>> 8;
    dst[off + 7] = this.vbucketOrStatus & 0xff;
    writeU32(dst, off + 8, this.bodyLen);
    writeU32(dst, off + 12, this.opaque);
    writeU64(dst, off + 16, this.cas);
    return off + HEADER_LEN;
  }
}

export function readU32(buf: Uint8Array, off: number): number {
  return buf[off]! * 0x1000000 + ((buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!);
}

export function writeU32(dst: Uint8Array, off: number, v: number): void {
  dst[off] = v >>> 24;
  dst[off + 1] = (v >>> 16) & 0xff;
  dst[off + 2] = (v >>> 8) & 0xff;
  dst[off + 3] = v & 0xff;
}

/** A u64 given as a number no larger than 2^53. */
export function writeU64(dst: Uint8Array, off: number, v: number): void {
  const hi = Math.floor(v / TWO_32);
  writeU32(dst, off, hi >>> 0);
  writeU32(dst, off + 4, (v - hi * TWO_32) >>> 0);
}

export function readU64Big(buf: Uint8Array, off: number): bigint {
  return (BigInt(readU32(buf, off)) << 32n) | BigInt(readU32(buf, off + 4));
}

export function writeU64Big(dst: Uint8Array, off: number, v: bigint): void {
  writeU32(dst, off, Number((v >> 32n) & 0xffffffffn));
  writeU32(dst, off + 4, Number(v & 0xffffffffn));
}

/** A response header: magic 0x81, data type 0, the request's opcode and opaque. */
export function writeResponseHeader(
  dst: Uint8Array,
  off: number,
  opcode: number,
  status: number,
  extLen: number,
  keyLen: number,
  bodyLen: number,
  opaque: number,
  cas: number,
): number {
  dst[off] = RES_MAGIC;
  dst[off + 1] = opcode;
  dst[off + 2] = keyLen >>> 8;
  dst[off + 3] = keyLen & 0xff;
  dst[off + 4] = extLen;
  dst[off + 5] = 0;
  dst[off + 6] = status >>> 8;
  dst[off + 7] = status & 0xff;
  writeU32(dst, off + 8, bodyLen);
  writeU32(dst, off + 12, opaque);
  writeU64(dst, off + 16, cas);
  return off + HEADER_LEN;
}
