// memcached binary protocol driver: Set, GetK, and multi-get as GetKQ... + Noop
// (misses are silent, the Noop closes the request) or as a pipeline of GetK
// (one response per key, hit or miss). Same checks as the text driver: the key of
// every response is compared with the one asked for, flags and length on every hit,
// value bytes on a sample, and any byte that fits no response is a desync.
//
// Responses arrive in request order. Within a multi-get, each key's opaque is its
// position in the request, so a response is matched to its key without searching.
import type { Keyspace } from './keyspace.js';
import { BatchWriter, OP_GET, type ProtocolDriver, type ReplyParser, type ReplySink, type Request } from './protocol.js';

/** Values at least this long are written by reference instead of copied into the batch. */
const ATTACH_THRESHOLD = 16 * 1024;

const REQ_MAGIC = 0x80;
const RES_MAGIC = 0x81;
const HEADER = 24;

export const OPC_GET = 0x00;
export const OPC_SET = 0x01;
export const OPC_NOOP = 0x0a;
export const OPC_GETK = 0x0c;
export const OPC_GETKQ = 0x0d;

export const STATUS_OK = 0x0000;
export const STATUS_KEY_ENOENT = 0x0001;

/** Opaque of the Noop that closes a GetKQ multi-get (key positions are 0..nkeys-1). */
const NOOP_OPAQUE = 0xffffffff;

export type BinaryMultiGet = 'getkq' | 'getk';

export class BinaryDriver implements ProtocolDriver {
  readonly name: string;

  constructor(
    private readonly ks: Keyspace,
    /** How a get of several keys is sent. A get of one key is always a single GetK. */
    readonly multiGet: BinaryMultiGet = 'getkq',
  ) {
    this.name = `binary (${multiGet})`;
  }

  /** Whether this request is sent as GetKQ... + Noop. */
  quiet(req: Request): boolean {
    return req.nkeys > 1 && this.multiGet === 'getkq';
  }

  inlineSize(req: Request): number {
    const ks = this.ks;
    if (req.kind === OP_GET) {
      let n = this.quiet(req) ? HEADER : 0;
      for (let i = 0; i < req.nkeys; i++) n += HEADER + ks.keyLen(req.keys[i]!);
      return n;
    }
    const k = req.keys[0]!;
    const vlen = ks.valueLen(k);
    return HEADER + 8 + ks.keyLen(k) + (vlen >= ATTACH_THRESHOLD ? 0 : vlen);
  }

  private header(w: BatchWriter, opcode: number, keyLen: number, extLen: number, bodyLen: number, opaque: number): void {
    w.byte(REQ_MAGIC);
    w.byte(opcode);
    w.u16(keyLen);
    w.byte(extLen);
    w.byte(0); // data type
    w.u16(0); // vbucket
    w.u32(bodyLen);
    w.u32(opaque);
    w.zeros(8); // cas
  }

  encode(req: Request, w: BatchWriter): void {
    const ks = this.ks;
    if (req.kind === OP_GET) {
      const quiet = this.quiet(req);
      for (let i = 0; i < req.nkeys; i++) {
        const k = req.keys[i]!;
        const klen = ks.keyLen(k);
        this.header(w, quiet ? OPC_GETKQ : OPC_GETK, klen, 0, klen, i);
        w.copy(ks.keyBuf, ks.keyOff[k]!, ks.keyOff[k + 1]!);
      }
      if (quiet) this.header(w, OPC_NOOP, 0, 0, 0, NOOP_OPAQUE);
      return;
    }
    const k = req.keys[0]!;
    const klen = ks.keyLen(k);
    const vlen = ks.valueLen(k);
    this.header(w, OPC_SET, klen, 8, 8 + klen + vlen, 0);
    w.u32(ks.flags(k));
    w.u32(0); // exptime
    w.copy(ks.keyBuf, ks.keyOff[k]!, ks.keyOff[k + 1]!);
    const voff = ks.valueOff(k);
    if (vlen >= ATTACH_THRESHOLD) w.attach(ks.pool.subarray(voff, voff + vlen));
    else w.copy(ks.pool, voff, voff + vlen);
  }

  newParser(sink: ReplySink): ReplyParser {
    return new BinaryParser(this, this.ks, sink);
  }
}

const ST_HEADER = 0;
const ST_PREFIX = 1; // extras + key: small, gathered into `prefix` when split across chunks
const ST_VALUE = 2;

/** Longest extras + key accepted (keys are at most 250 bytes). */
const MAX_PREFIX = 512;
/** Error texts longer than this are skipped, not kept. */
const MAX_ERROR_TEXT = 256;

export class BinaryParser implements ReplyParser {
  private state = ST_HEADER;
  private readonly hdr = Buffer.alloc(HEADER);
  private hdrGot = 0;
  private readonly prefix = Buffer.alloc(MAX_PREFIX);
  private prefixGot = 0;
  // Current response header.
  private opcode = 0;
  private keyLen = 0;
  private extLen = 0;
  private status = 0;
  private bodyLen = 0;
  private opaque = 0;
  // Current value.
  private vlen = 0;
  private vgot = 0;
  private voff = 0;
  private key = -1;
  private verifying = false;
  private bad = false;
  private errText = '';
  // Current get request.
  private answered = 0; // responses seen for it (GetK)
  private next = 0; // lowest key position the next response may name
  private hits = 0;
  private failed = false;
  private dead = false;

  constructor(
    private readonly driver: BinaryDriver,
    private readonly ks: Keyspace,
    private readonly sink: ReplySink,
  ) {}

  feed(chunk: Buffer): void {
    let pos = 0;
    const len = chunk.length;
    while (pos < len && !this.dead) {
      if (this.state === ST_HEADER) {
        if (this.hdrGot === 0 && len - pos >= HEADER) {
          this.header(chunk, pos);
          pos += HEADER;
        } else {
          const n = Math.min(HEADER - this.hdrGot, len - pos);
          chunk.copy(this.hdr, this.hdrGot, pos, pos + n);
          this.hdrGot += n;
          pos += n;
          if (this.hdrGot === HEADER) {
            this.hdrGot = 0;
            this.header(this.hdr, 0);
          }
        }
      } else if (this.state === ST_PREFIX) {
        const need = this.extLen + this.keyLen;
        if (this.prefixGot === 0 && len - pos >= need) {
          this.afterPrefix(chunk, pos);
          pos += need;
        } else {
          const n = Math.min(need - this.prefixGot, len - pos);
          chunk.copy(this.prefix, this.prefixGot, pos, pos + n);
          this.prefixGot += n;
          pos += n;
          if (this.prefixGot === need) {
            this.prefixGot = 0;
            this.afterPrefix(this.prefix, 0);
          }
        }
      } else {
        pos = this.value(chunk, pos);
      }
    }
  }

  private fail(detail: string): void {
    this.dead = true;
    this.sink.desync(detail);
  }

  private header(b: Buffer, p: number): void {
    if (b[p] !== RES_MAGIC) return this.fail(`response magic 0x${(b[p] ?? 0).toString(16)}, expected 0x81`);
    this.opcode = b[p + 1]!;
    this.keyLen = b.readUInt16BE(p + 2);
    this.extLen = b[p + 4]!;
    this.status = b.readUInt16BE(p + 6);
    this.bodyLen = b.readUInt32BE(p + 8);
    this.opaque = b.readUInt32BE(p + 12);
    const prefix = this.extLen + this.keyLen;
    if (prefix > this.bodyLen) return this.fail(`response body ${this.bodyLen} shorter than extras + key ${prefix}`);
    if (prefix > MAX_PREFIX) return this.fail(`response extras + key of ${prefix} bytes`);
    this.prefixGot = 0;
    if (prefix > 0) this.state = ST_PREFIX;
    else this.afterPrefix(b, p);
  }

  /** Extras and key are at b[p, p + extLen + keyLen); decide what the value bytes are. */
  private afterPrefix(b: Buffer, p: number): void {
    const req = this.sink.head();
    if (req === undefined) return this.fail(`response (opcode 0x${this.opcode.toString(16)}) with no request outstanding`);
    const ks = this.ks;
    this.vlen = this.bodyLen - this.extLen - this.keyLen;
    this.vgot = 0;
    this.voff = 0;
    this.key = -1;
    this.verifying = false;
    this.bad = false;
    this.errText = '';
    const op = this.opcode;
    if (req.kind === OP_GET) {
      const quiet = this.driver.quiet(req);
      if (quiet && op === OPC_NOOP) {
        if (this.opaque !== NOOP_OPAQUE) return this.fail(`Noop response with opaque ${this.opaque}`);
        // fall through to the value (normally empty) and complete the request after it
      } else if (op === (quiet ? OPC_GETKQ : OPC_GETK)) {
        const i = this.opaque;
        if (i >= req.nkeys || i < this.next) return this.fail(`get response with opaque ${i}: not a pending key position (next ${this.next}, ${req.nkeys} keys)`);
        const k = req.keys[i]!;
        // GetK(Q) returns the key with hits and with "not found".
        const klen = ks.keyLen(k);
        if (this.keyLen !== klen || b.compare(ks.keyBuf, ks.keyOff[k]!, ks.keyOff[k + 1]!, p + this.extLen, p + this.extLen + klen) !== 0) {
          return this.fail(`get response for position ${i} names key ${JSON.stringify(b.toString('latin1', p + this.extLen, p + this.extLen + this.keyLen))}, expected ${ks.keyString(k)}`);
        }
        this.next = i + 1;
        this.key = k;
        if (this.status === STATUS_OK) {
          if (this.extLen !== 4) return this.fail(`get hit with ${this.extLen} bytes of extras, expected 4`);
          this.hits++;
          const flags = b.readUInt32BE(p);
          if (flags !== ks.flags(k) || this.vlen !== ks.valueLen(k)) {
            this.sink.verified(false, `key ${ks.keyString(k)}: flags/len ${flags}/${this.vlen}, expected ${ks.flags(k)}/${ks.valueLen(k)}`);
          } else {
            this.voff = ks.valueOff(k);
            this.verifying = this.sink.shouldVerify();
          }
        } else if (this.status !== STATUS_KEY_ENOENT) {
          this.failed = true;
        }
      } else {
        return this.fail(`response opcode 0x${op.toString(16)} to a ${quiet ? 'GetKQ/Noop' : 'GetK'} request`);
      }
    } else if (op !== OPC_SET) {
      return this.fail(`response opcode 0x${op.toString(16)} to a Set request`);
    }
    this.state = ST_VALUE;
    if (this.vlen === 0) this.endOfResponse(req);
  }

  private value(b: Buffer, pos: number): number {
    const take = Math.min(b.length - pos, this.vlen - this.vgot);
    if (this.verifying && !this.bad && b.compare(this.ks.pool, this.voff + this.vgot, this.voff + this.vgot + take, pos, pos + take) !== 0) this.bad = true;
    if (this.status !== STATUS_OK && this.errText.length < MAX_ERROR_TEXT) this.errText += b.toString('latin1', pos, pos + Math.min(take, MAX_ERROR_TEXT));
    this.vgot += take;
    if (this.vgot === this.vlen) {
      const req = this.sink.head();
      if (req === undefined) {
        this.fail('request vanished during its response');
        return b.length;
      }
      this.endOfResponse(req);
    }
    return pos + take;
  }

  private endOfResponse(req: Request): void {
    this.state = ST_HEADER;
    if (this.verifying) this.sink.verified(!this.bad, this.bad ? `key ${this.ks.keyString(this.key)}: value bytes differ from what was set` : undefined);
    const errorStatus = this.status !== STATUS_OK && !(req.kind === OP_GET && this.status === STATUS_KEY_ENOENT);
    if (errorStatus) this.sink.errorReply(`status 0x${this.status.toString(16).padStart(4, '0')}${this.errText ? ` ${this.errText.slice(0, 200)}` : ''}`);
    if (req.kind !== OP_GET) {
      this.sink.complete(0, 0, errorStatus);
      return;
    }
    if (this.opcode === OPC_NOOP) {
      this.finishGet(req);
      return;
    }
    if (!this.driver.quiet(req) && ++this.answered === req.nkeys) this.finishGet(req);
  }

  private finishGet(req: Request): void {
    const hits = this.hits;
    const failed = this.failed;
    this.hits = 0;
    this.answered = 0;
    this.next = 0;
    this.failed = false;
    this.sink.complete(hits, req.nkeys - hits, failed);
  }
}
