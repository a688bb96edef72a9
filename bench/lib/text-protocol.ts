// memcached text protocol driver: `get k1 k2 ...` and `set k flags 0 len`.
// Encoding copies pre-encoded key bytes and set-line tails out of the Keyspace;
// large values are attached by reference (no copy). Parsing walks the reply Buffers
// with indexOf/byte compares: no string conversion except for error lines.
import type { Keyspace } from './keyspace.js';
import { BatchWriter, OP_GET, OP_SET, type ProtocolDriver, type ReplyParser, type ReplySink, type Request } from './protocol.js';

/** Values at least this long are written by reference instead of copied into the batch. */
const ATTACH_THRESHOLD = 16 * 1024;

const CR = 13;
const LF = 10;
const SP = 32;
const GET = Buffer.from('get', 'latin1');
const SET = Buffer.from('set ', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');

export class TextDriver implements ProtocolDriver {
  readonly name = 'text';
  constructor(private readonly ks: Keyspace) {}

  inlineSize(req: Request): number {
    const ks = this.ks;
    if (req.kind === OP_GET) {
      let n = 3 + 2;
      for (let i = 0; i < req.nkeys; i++) n += 1 + ks.keyLen(req.keys[i]!);
      return n;
    }
    const k = req.keys[0]!;
    const vlen = ks.valueLen(k);
    const tail = ks.setTailOff[k + 1]! - ks.setTailOff[k]!;
    return 4 + ks.keyLen(k) + tail + (vlen >= ATTACH_THRESHOLD ? 0 : vlen) + 2;
  }

  encode(req: Request, w: BatchWriter): void {
    const ks = this.ks;
    if (req.kind === OP_GET) {
      w.copy(GET, 0, 3);
      for (let i = 0; i < req.nkeys; i++) {
        const k = req.keys[i]!;
        w.byte(SP);
        w.copy(ks.keyBuf, ks.keyOff[k]!, ks.keyOff[k + 1]!);
      }
      w.byte(CR);
      w.byte(LF);
      return;
    }
    const k = req.keys[0]!;
    w.copy(SET, 0, 4);
    w.copy(ks.keyBuf, ks.keyOff[k]!, ks.keyOff[k + 1]!);
    w.copy(ks.setTail, ks.setTailOff[k]!, ks.setTailOff[k + 1]!);
    const voff = ks.valueOff(k);
    const vlen = ks.valueLen(k);
    if (vlen >= ATTACH_THRESHOLD) w.attach(ks.pool.subarray(voff, voff + vlen));
    else w.copy(ks.pool, voff, voff + vlen);
    w.copy(CRLF, 0, 2);
  }

  newParser(sink: ReplySink): ReplyParser {
    return new TextParser(this.ks, sink);
  }
}

const ST_LINE = 0;
const ST_DATA = 1;

function startsWith(buf: Buffer, s: number, e: number, lit: Buffer): boolean {
  if (e - s < lit.length) return false;
  for (let i = 0; i < lit.length; i++) if (buf[s + i] !== lit[i]) return false;
  return true;
}

const L_VALUE = Buffer.from('VALUE ', 'latin1');
const L_END = Buffer.from('END', 'latin1');
const L_STORED = Buffer.from('STORED', 'latin1');
const L_NOT_STORED = Buffer.from('NOT_STORED', 'latin1');
const L_EXISTS = Buffer.from('EXISTS', 'latin1');
const L_NOT_FOUND = Buffer.from('NOT_FOUND', 'latin1');
const L_SERVER_ERROR = Buffer.from('SERVER_ERROR', 'latin1');
const L_CLIENT_ERROR = Buffer.from('CLIENT_ERROR', 'latin1');
const L_ERROR = Buffer.from('ERROR', 'latin1');

export class TextParser implements ReplyParser {
  private state = ST_LINE;
  /** Unfinished line carried over from the previous chunk (lines are short). */
  private carry: Buffer | null = null;
  // Current get reply.
  private cursor = 0; // index into head().keys of the next key that may appear
  private hits = 0;
  // Current value block.
  private dataLen = 0; // value bytes + 2 for CRLF
  private dataGot = 0;
  private vlen = 0;
  private voff = 0;
  private key = 0;
  private verifying = false;
  private bad = false;
  private dead = false;

  constructor(
    private readonly ks: Keyspace,
    private readonly sink: ReplySink,
  ) {}

  feed(chunk: Buffer): void {
    if (this.dead) return;
    let buf = chunk;
    if (this.carry !== null) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    let pos = 0;
    const len = buf.length;
    while (pos < len && !this.dead) {
      if (this.state === ST_DATA) {
        pos = this.data(buf, pos);
        continue;
      }
      const nl = buf.indexOf(LF, pos);
      if (nl < 0) {
        if (len - pos > 4096) return this.fail(`reply line longer than 4096 bytes`);
        this.carry = Buffer.from(buf.subarray(pos));
        return;
      }
      const e = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
      this.line(buf, pos, e);
      pos = nl + 1;
    }
  }

  private fail(detail: string): void {
    this.dead = true;
    this.sink.desync(detail);
  }

  private data(buf: Buffer, pos: number): number {
    const take = Math.min(buf.length - pos, this.dataLen - this.dataGot);
    const from = this.dataGot;
    const to = from + take;
    if (this.verifying && !this.bad) {
      const vEnd = Math.min(to, this.vlen);
      if (vEnd > from) {
        const n = vEnd - from;
        if (buf.compare(this.ks.pool, this.voff + from, this.voff + vEnd, pos, pos + n) !== 0) this.bad = true;
      }
    }
    // The two bytes after the value must be CRLF, whatever the sampling says.
    for (let i = Math.max(from, this.vlen); i < to; i++) {
      const want = i === this.vlen ? CR : LF;
      if (buf[pos + (i - from)] !== want) {
        this.fail('value block not terminated by CRLF');
        return buf.length;
      }
    }
    this.dataGot = to;
    if (this.dataGot === this.dataLen) {
      this.state = ST_LINE;
      if (this.verifying) this.sink.verified(!this.bad, this.bad ? `key ${this.ks.keyString(this.key)}: value bytes differ from what was set` : undefined);
    }
    return pos + take;
  }

  private line(buf: Buffer, s: number, e: number): void {
    const req = this.sink.head();
    if (req === undefined) return this.fail(`reply with no request outstanding: ${buf.toString('latin1', s, Math.min(e, s + 80))}`);
    const c = buf[s];
    if (req.kind === OP_GET) {
      if (c === 0x56 /* V */ && startsWith(buf, s, e, L_VALUE)) return this.valueLine(req, buf, s + 6, e);
      if (c === 0x45 /* E */ && e - s === 3 && startsWith(buf, s, e, L_END)) {
        const hits = this.hits;
        this.hits = 0;
        this.cursor = 0;
        this.sink.complete(hits, req.nkeys - hits, false);
        return;
      }
    } else if (req.kind === OP_SET) {
      if (c === 0x53 /* S */ && e - s === 6 && startsWith(buf, s, e, L_STORED)) {
        this.sink.complete(0, 0, false);
        return;
      }
      if (startsWith(buf, s, e, L_NOT_STORED) || startsWith(buf, s, e, L_EXISTS) || startsWith(buf, s, e, L_NOT_FOUND)) {
        this.sink.errorReply(buf.toString('latin1', s, e));
        this.sink.complete(0, 0, true);
        return;
      }
    }
    if (startsWith(buf, s, e, L_SERVER_ERROR) || startsWith(buf, s, e, L_CLIENT_ERROR) || (e - s === 5 && startsWith(buf, s, e, L_ERROR))) {
      // One error line answers the whole request (memcached swallows a rejected set's data).
      this.sink.errorReply(buf.toString('latin1', s, Math.min(e, s + 200)));
      this.hits = 0;
      this.cursor = 0;
      this.sink.complete(0, 0, true);
      return;
    }
    this.fail(`unexpected reply line: ${JSON.stringify(buf.toString('latin1', s, Math.min(e, s + 80)))}`);
  }

  /** "VALUE <key> <flags> <bytes>[ <cas>]": s points just after "VALUE ". */
  private valueLine(req: Request, buf: Buffer, s: number, e: number): void {
    let ke = s;
    while (ke < e && buf[ke] !== SP) ke++;
    const ks = this.ks;
    const klen = ke - s;
    // Hits come back in request order; misses are simply absent.
    let k = -1;
    while (this.cursor < req.nkeys) {
      const cand = req.keys[this.cursor++]!;
      const ko = ks.keyOff[cand]!;
      if (ks.keyOff[cand + 1]! - ko === klen) {
        let i = 0;
        while (i < klen && buf[s + i] === ks.keyBuf[ko + i]) i++;
        if (i === klen) {
          k = cand;
          break;
        }
      }
    }
    if (k < 0) return this.fail(`VALUE for a key that was not requested: ${buf.toString('latin1', s, ke)}`);
    let p = ke + 1;
    let flags = 0;
    let digits = 0;
    for (; p < e && buf[p] !== SP; p++, digits++) flags = flags * 10 + (buf[p]! - 48);
    p++;
    let bytes = 0;
    let bdigits = 0;
    for (; p < e && buf[p] !== SP; p++, bdigits++) bytes = bytes * 10 + (buf[p]! - 48);
    if (digits === 0 || bdigits === 0) return this.fail(`malformed VALUE line`);
    this.hits++;
    this.state = ST_DATA;
    this.dataLen = bytes + 2;
    this.dataGot = 0;
    this.vlen = bytes;
    this.voff = ks.valueOff(k);
    this.key = k;
    this.bad = false;
    // Flags and length are checked on every hit; value bytes on a sample.
    if (flags !== ks.flags(k) || bytes !== ks.valueLen(k)) {
      this.verifying = false;
      this.sink.verified(false, `key ${ks.keyString(k)}: flags/len ${flags}/${bytes}, expected ${ks.flags(k)}/${ks.valueLen(k)}`);
      return;
    }
    this.verifying = this.sink.shouldVerify();
  }
}
