// The binary protocol on one connection: frames requests out of the read buffer, checks
// each header as memcached 1.6.18's dispatch_bin_command() does, and hands the request to
// its command. Replies are appended to the connection's Output; quiet opcodes are mapped to
// their loud command here and nowhere else.
import { NONE, type CacheApi } from '../../cache/api.js';
import type { Output } from '../output.js';
import { CLOSE, KEY_MAX_LENGTH, NEED_MORE, type Session, type SessionContext } from '../types.js';
import { runCommand } from './commands.js';
import { Header, writeResponseHeader } from './header.js';
import { HEADER_LEN, Op, QUIET_OF, REQ_MAGIC, Status, STATUS_TEXT } from './opcodes.js';
import type { BinaryState } from './state.js';
import { NO_EVENTS, type EventLog } from '../../logging/event-log.js';
import { traceCommand, traceError, traceRequestHeader, traceResponseHeader } from './trace.js';

const EMPTY = Buffer.alloc(0);
/** The opcodes that copy a value into their reply. */

export class BinarySession implements Session, BinaryState {
  readonly ctx: SessionContext;
  readonly out: Output;
  readonly cache: CacheApi;
  /** The header of the request being handled. */
  readonly req = new Header();
  wantBytes = 0;
  /** The loud command of the request being handled (GetQ is handled as Get, quietly). */
  cmd = 0;
  /** The request is a quiet variant. */
  quiet = false;
  /** SASL: authenticated on this connection (only consulted with -S). */
  authenticated = false;
  /** SASL: a PLAIN exchange was started without an initial response and awaits a step. */
  saslAwaitingStep = false;
  /** SASL auth/step exchanges that failed on this connection (AUTH_FAILURE_LIMIT closes it). */
  authFailures = 0;
  /** Body bytes of a refused request still to be discarded (memcached's conn_swallow). */
  #swallow = 0;
  /** Where fetch and mutation events go (`watch`). */
  readonly events: EventLog;
  /** The connection's number in -vv lines and events (memcached prints its fd). */
  readonly fd: number;
  /** -vv: the request being handled was printed already (it waits for the rest of its body). */
  #traced = false;

  constructor(ctx: SessionContext) {
    this.ctx = ctx;
    this.out = ctx.out;
    this.cache = ctx.cache;
    this.events = ctx.server.events ?? NO_EVENTS;
    this.fd = ctx.id ?? 0;
  }

  consume(buf: Buffer, start: number): number {
    const end = buf.length;
    let pos = start;
    this.wantBytes = 0;
    while (pos < end) {
      // enough replies are pending, or enough requests were handled for one turn: the
      // connection comes back for the rest
      if (this.out.full || this.ctx.requestBudget <= 0) break;
      if (this.#swallow > 0) {
        const n = Math.min(this.#swallow, end - pos);
        this.#swallow -= n;
        pos += n;
        continue;
      }
      if (end - pos < HEADER_LEN) {
        this.wantBytes = HEADER_LEN;
        break;
      }
      // memcached closes without a reply on a bad magic byte
      if (buf[pos] !== REQ_MAGIC) return CLOSE;
      const h = this.req.decode(buf, pos);
      const head = HEADER_LEN + h.extLen + h.keyLen;
      if (end - pos < head) {
        this.wantBytes = head;
        break;
      }
      const r = this.#request(buf, pos, end);
      if (r === NEED_MORE) break;
      if (r === CLOSE) return CLOSE;
      pos = r;
      this.ctx.requestBudget--;
    }
    return pos;
  }

  /** Checks shared by every opcode, then the command; returns the offset after the request. */
  #request(buf: Buffer, pos: number, end: number): number {
    const h = this.req;
    this.ctx.lastCommandAt = this.cache.clock.now();
    if (h.keyLen + h.extLen > h.bodyLen) {
      this.error(Status.UnknownCommand);
      return CLOSE;
    }
    if (this.ctx.config.sasl && !this.#mayRun(h.opcode)) {
      this.error(Status.AuthError);
      return CLOSE;
    }
    if (h.keyLen > KEY_MAX_LENGTH) {
      this.error(Status.InvalidArguments);
      return CLOSE;
    }
    const loud = QUIET_OF.get(h.opcode);
    this.quiet = loud !== undefined;
    this.cmd = loud ?? h.opcode;
    if (this.ctx.config.verbosity > 1 && !this.#traced) {
      traceRequestHeader(this.fd, buf, pos);
      traceCommand(this.fd, this.cmd, buf, pos, h.extLen, h.keyLen, h.bodyLen);
    }
    const r = runCommand(this, buf, pos, end);
    this.#traced = r === NEED_MORE && this.ctx.config.verbosity > 1;
    return r;
  }

  /** memcached's authenticated(): what an unauthenticated connection may still send. */
  #mayRun(opcode: number): boolean {
    switch (opcode) {
      case Op.SaslListMechs:
      case Op.SaslAuth:
      case Op.SaslStep:
      case Op.Version:
        return true;
      default:
        return this.authenticated;
    }
  }

  /** Discard the next n bytes of input (a refused body). */
  swallow(n: number): void {
    this.#swallow = n;
  }

  /**
   * Start a reply: the response header for the current request, with room for the body.
   * Returns the buffer to write the body into at out.pos.
   */
  head(status: number, extLen: number, keyLen: number, bodyLen: number, cas: number, room = bodyLen): Buffer {
    const h = this.req;
    const b = this.out.ensure(HEADER_LEN + room);
    const at = this.out.pos;
    this.out.pos = writeResponseHeader(b, at, h.opcode, status, extLen, keyLen, bodyLen, h.opaque, cas);
    if (this.ctx.config.verbosity > 1) traceResponseHeader(this.fd, this.cmd, b, at);
    return b;
  }

  /** A success reply with an optional value body, unless the command is quiet. */
  success(cas: number, value: Uint8Array = EMPTY): void {
    if (this.quiet) return;
    this.head(Status.Success, 0, 0, value.length, cas);
    this.out.raw(value);
  }

  /** An error reply (sent even for quiet commands), with memcached's text for the status. */
  error(status: Status, text: Uint8Array = STATUS_TEXT.get(status) ?? EMPTY): void {
    if (this.ctx.config.verbosity > 1) traceError(this.fd, Buffer.from(text));
    this.head(status, 0, 0, text.length, 0);
    this.out.raw(text);
  }

  /** memcached's handle_binary_protocol_error(): Invalid arguments, then close. */
  protocolError(): number {
    this.error(Status.InvalidArguments);
    return CLOSE;
  }
}
