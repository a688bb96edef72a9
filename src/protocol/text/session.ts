// The text protocol on one connection: finds request lines in the read buffer, tokenizes
// them in place, dispatches on the verb table, and writes replies (noreply applied here
// and nowhere else). Mirrors memcached's try_read_command_ascii()/process_command_ascii().
import { Output } from '../output.js';
import { bytesStartWith, CLOSE, MULTIGET_LINE_LIMIT, NEED_MORE, type Session, type SessionContext } from '../types.js';
import { R } from './replies.js';
import { Tokens } from './tokens.js';
import { AsciiAuth } from './auth.js';
import { LINE_LIMIT, YIELD, type DumpInProgress, type Handler, type TextState } from './handler.js';
import { VERBS } from './verbs.js';
import { NO_EVENTS, type EventLog } from '../../logging/event-log.js';
import { traceCommand, traceNoreply, traceReplies } from './trace-replies.js';

const GET = VERBS.get('get');
const SET = VERBS.get('set');

export class TextSession implements Session, TextState {
  readonly ctx: SessionContext;
  readonly out: Output;
  readonly tokens = new Tokens();
  wantBytes = 0;
  /** The current command asked for noreply. */
  noreply = false;
  /** Bytes of a rejected value still to be discarded (memcached's conn_swallow). */
  swallow = 0;
  /** After `watch`, input is ignored (memcached's conn_watch). */
  watching = false;
  /** A get that yielded goes on from this offset past its line's first token (0: none). */
  resumeAt = 0;
  /** A metadump or cachedump sent in slices (dump.ts): its handler is called again until done. */
  dump: DumpInProgress | null = null;

  /** -Y without -S: the client must authenticate first (see auth.ts). */
  readonly auth: AsciiAuth | null;
  /** Where fetch and mutation events go (`watch`). */
  readonly events: EventLog;
  /** The connection's number in -vv lines and events (memcached prints its fd). */
  readonly fd: number;
  /** -vv: a reply noreply held back, printed after its command's line. */
  #heldNoreply: string | null = null;

  constructor(ctx: SessionContext) {
    this.ctx = ctx;
    this.out = ctx.out;
    const cfg = ctx.config;
    this.auth = cfg.authFile !== null && !cfg.sasl ? new AsciiAuth(cfg.authFile) : null;
    this.events = ctx.server.events ?? NO_EVENTS;
    this.fd = ctx.id ?? 0;
  }

  consume(buf: Buffer, start: number): number {
    const end = buf.length;
    let pos = start;
    this.wantBytes = 0;
    if (this.watching) return end;
    if (this.auth !== null && !this.auth.authenticated) {
      pos = this.auth.consume(this, buf, pos, end);
      if (pos === CLOSE || !this.auth.authenticated) return pos;
    }
    while (pos < end) {
      // enough replies are pending, or enough requests were handled for one turn: the
      // connection comes back for the rest
      if (this.out.full || this.ctx.requestBudget <= 0) break;
      if (this.swallow > 0) {
        const n = Math.min(this.swallow, end - pos);
        this.swallow -= n;
        pos += n;
        continue;
      }
      const nl = buf.indexOf(10, pos);
      if (nl < 0) {
        if (end - pos > LINE_LIMIT && !this.#mayBeLongGet(buf, pos, end)) return CLOSE;
        break;
      }
      let el = nl;
      if (el - pos > 1 && buf[el - 1] === 13) el--;
      this.ctx.lastCommandAt = this.ctx.cache.clock.now();
      const r = this.ctx.config.verbosity > 1 ? this.#traced(buf, pos, el, nl + 1) : this.#command(buf, pos, el, nl + 1);
      if (r === NEED_MORE || r === YIELD) break;
      if (r === CLOSE) return CLOSE;
      pos = r;
      this.ctx.requestBudget--;
      if (this.ctx.closeAfterWrite) return CLOSE;
      if (this.watching) return end;
    }
    return pos;
  }

  closed(): void {
    // the ids a dump under way had taken
    this.dump = null;
  }

  /** A line with no newline yet may keep growing only if it is a get/gets (memcached). */
  #mayBeLongGet(buf: Buffer, pos: number, end: number): boolean {
    if (end - pos > MULTIGET_LINE_LIMIT) return false;
    let p = pos;
    while (p < end && buf[p] === 0x20) p++;
    if (p - pos > 100) return false;
    return bytesStartWith(buf, p, end - p, 'get ') || bytesStartWith(buf, p, end - p, 'gets ');
  }

  /** #command with memcached's -vv lines: the command, then the replies it wrote. */
  #traced(buf: Buffer, lineStart: number, lineEnd: number, next: number): number {
    const resumed = this.resumeAt > 0 || this.dump !== null;
    this.#heldNoreply = null;
    const mark = this.out.mark();
    const r = this.#command(buf, lineStart, lineEnd, next);
    // a command whose value has not all arrived runs again when it has: print it then
    if (r === NEED_MORE) return r;
    if (!resumed) traceCommand(this.fd, buf, lineStart, lineEnd);
    if (this.#heldNoreply !== null) {
      traceNoreply(this.fd, this.#heldNoreply);
      this.#heldNoreply = null;
    }
    if (!this.watching) traceReplies(this.fd, this.out, mark, lineEnd - lineStart >= 2 && buf[lineStart] === 0x6d && (lineEnd - lineStart === 2 || buf[lineStart + 2] === 0x20));
    return r;
  }

  #command(buf: Buffer, lineStart: number, lineEnd: number, next: number): number {
    const t = this.tokens;
    t.tokenize(buf, lineStart, lineEnd);
    this.noreply = false;
    if (t.ntokens < 2 || t.len[0]! < 2) {
      this.out.raw(R.ERROR);
      return next;
    }
    const handler: Handler | undefined = this.#verb(buf, t.start[0]!, t.len[0]!);
    if (handler !== undefined) return handler(this, buf, t, next);
    // every two-letter m? verb belongs to the meta commands: an unknown one is ERROR
    const isMeta = t.len[0] === 2 && buf[t.start[0]!] === 0x6d;
    // memcached closes on what looks like an HTTP request line
    if (!isMeta && t.startsWith(buf, t.ntokens - 2, 'HTTP/')) return CLOSE;
    this.out.raw(R.ERROR);
    return next;
  }

  /** The handler for a verb; the two hottest are matched on bytes without a string. */
  #verb(buf: Buffer, at: number, len: number): Handler | undefined {
    if (len === 3 && buf[at + 1] === 0x65 && buf[at + 2] === 0x74) {
      if (buf[at] === 0x67) return GET;
      if (buf[at] === 0x73) return SET;
    }
    return VERBS.get(buf.toString('latin1', at, at + len));
  }

  /** memcached's set_noreply_maybe(): the last token is `noreply`. */
  checkNoreply(buf: Buffer): boolean {
    const t = this.tokens;
    this.noreply = t.ntokens >= 2 && t.is(buf, t.ntokens - 2, 'noreply');
    return this.noreply;
  }

  /** Send a fixed reply unless the command asked for noreply. */
  reply(line: Buffer): void {
    if (!this.noreply) this.out.raw(line);
    else if (this.ctx.config.verbosity > 1) this.#heldNoreply = line.toString('latin1', 0, line.length - 2);
  }

  /** Send a reply line built at run time (no CRLF in `s`) unless noreply. */
  replyText(s: string): void {
    if (this.noreply) {
      if (this.ctx.config.verbosity > 1) this.#heldNoreply = s;
      return;
    }
    this.out.ascii(s);
    this.out.raw(R.CRLF);
  }
}
