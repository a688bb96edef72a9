// The seam between the load generator and a wire protocol. The load generator
// decides *what* to ask (which keys, get or set) and keeps requests in order; a
// ProtocolDriver turns a Request into bytes and turns reply bytes back into
// "request done, with this many hits". The text protocol lives in text-protocol.ts,
// the binary protocol in binary-protocol.ts (replies still come in request order;
// within a multi-get the opaque names the key, and GetKQ... + Noop or GetK... are used).

export const OP_GET = 0;
export const OP_SET = 1;
export type OpKind = typeof OP_GET | typeof OP_SET;

/** One request in flight. Objects are pooled per connection and reused. */
export class Request {
  kind: OpKind = OP_GET;
  /** Key indices into the Keyspace; only the first `nkeys` are meaningful. */
  readonly keys: Uint32Array;
  nkeys = 0;
  /** performance.now() when the batch holding this request was written. */
  sentAt = 0;

  constructor(maxKeys: number) {
    this.keys = new Uint32Array(Math.max(1, maxKeys));
  }
}

/** What a parser reports to; implemented by the connection. */
export interface ReplySink {
  /** The oldest request still waiting for its reply (replies come in order). */
  head(): Request | undefined;
  /** The head request's reply is complete. `failed` for error replies (SERVER_ERROR, NOT_STORED...). */
  complete(hits: number, misses: number, failed: boolean): void;
  /** A well-formed error reply; the text is kept for the report. */
  errorReply(text: string): void;
  /** Whether to compare the value bytes of the hit being parsed (sampling). */
  shouldVerify(): boolean;
  /** Result of a value check: ok, or a description of the mismatch. */
  verified(ok: boolean, detail?: string): void;
  /** Bytes that fit no reply: the stream is out of sync and the run must stop. */
  desync(detail: string): void;
}

export interface ReplyParser {
  /** Consume one chunk as read from the socket. Must not keep `chunk` beyond what it needs. */
  feed(chunk: Buffer): void;
}

/** Collects one batch of requests into as few Buffers as possible, for one socket write. */
export class BatchWriter {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private start = 0;
  private chunks: Buffer[] = [];

  /** Start a batch; `inlineBytes` is the exact number of bytes copy()/byte() will add. */
  begin(inlineBytes: number): void {
    this.buf = Buffer.allocUnsafe(inlineBytes);
    this.pos = 0;
    this.start = 0;
    this.chunks = [];
  }

  copy(src: Buffer, start: number, end: number): void {
    src.copy(this.buf, this.pos, start, end);
    this.pos += end - start;
  }

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  /** Big-endian 16-bit integer (binary protocol headers). */
  u16(v: number): void {
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  /** Big-endian 32-bit unsigned integer. */
  u32(v: number): void {
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  /** n zero bytes. */
  zeros(n: number): void {
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  /** Append a large, immutable buffer without copying it. */
  attach(b: Buffer): void {
    if (this.pos > this.start) this.chunks.push(this.buf.subarray(this.start, this.pos));
    this.start = this.pos;
    this.chunks.push(b);
  }

  finish(): Buffer[] {
    if (this.pos > this.start) this.chunks.push(this.buf.subarray(this.start, this.pos));
    if (this.pos !== this.buf.length) throw new Error(`batch size mismatch: wrote ${this.pos}, sized ${this.buf.length}`);
    return this.chunks;
  }
}

export interface ProtocolDriver {
  readonly name: string;
  /** Bytes this request adds through BatchWriter.copy/byte (attached buffers excluded). */
  inlineSize(req: Request): number;
  encode(req: Request, w: BatchWriter): void;
  newParser(sink: ReplySink): ReplyParser;
}
