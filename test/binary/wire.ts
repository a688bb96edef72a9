// Test helpers: build binary requests and split response bytes into packets.
import { Header } from '../../src/protocol/binary/header.js';

export interface Req {
  opcode: number;
  key?: string | Buffer;
  extras?: Buffer;
  value?: string | Buffer;
  opaque?: number;
  cas?: number;
  /** Override the header's body length (malformed requests). */
  bodyLen?: number;
  magic?: number;
}

export interface Packet {
  magic: number;
  opcode: number;
  status: number;
  extLen: number;
  keyLen: number;
  bodyLen: number;
  opaque: number;
  cas: number;
  extras: Buffer;
  key: Buffer;
  value: Buffer;
}

const bytes = (v: string | Buffer | undefined): Buffer => (v === undefined ? Buffer.alloc(0) : typeof v === 'string' ? Buffer.from(v) : v);

export function request(r: Req): Buffer {
  const key = bytes(r.key);
  const extras = r.extras ?? Buffer.alloc(0);
  const value = bytes(r.value);
  const h = new Header();
  h.magic = r.magic ?? 0x80;
  h.opcode = r.opcode;
  h.keyLen = key.length;
  h.extLen = extras.length;
  h.bodyLen = r.bodyLen ?? key.length + extras.length + value.length;
  h.opaque = r.opaque ?? 0;
  h.cas = r.cas ?? 0;
  const out = Buffer.alloc(24 + extras.length + key.length + value.length);
  h.encode(out, 0);
  extras.copy(out, 24);
  key.copy(out, 24 + extras.length);
  value.copy(out, 24 + extras.length + key.length);
  return out;
}

export function u32(...vs: number[]): Buffer {
  const b = Buffer.alloc(4 * vs.length);
  vs.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
}

/** Extras of incr/decr: delta, initial, exptime. */
export function incrExtras(delta: bigint, initial: bigint, exptime: number): Buffer {
  const b = Buffer.alloc(20);
  b.writeBigUInt64BE(delta, 0);
  b.writeBigUInt64BE(initial, 8);
  b.writeUInt32BE(exptime >>> 0, 16);
  return b;
}

/** Whole packets at the front of buf, and how many bytes they take. */
export function parsePackets(buf: Buffer): { packets: Packet[]; used: number } {
  const packets: Packet[] = [];
  let pos = 0;
  while (buf.length - pos >= 24) {
    const h = new Header().decode(buf, pos);
    if (buf.length - pos < 24 + h.bodyLen) break;
    const e = pos + 24;
    packets.push({
      magic: h.magic,
      opcode: h.opcode,
      status: h.vbucketOrStatus,
      extLen: h.extLen,
      keyLen: h.keyLen,
      bodyLen: h.bodyLen,
      opaque: h.opaque,
      cas: h.cas,
      extras: Buffer.from(buf.subarray(e, e + h.extLen)),
      key: Buffer.from(buf.subarray(e + h.extLen, e + h.extLen + h.keyLen)),
      value: Buffer.from(buf.subarray(e + h.extLen + h.keyLen, e + h.bodyLen)),
    });
    pos += 24 + h.bodyLen;
  }
  return { packets, used: pos };
}
