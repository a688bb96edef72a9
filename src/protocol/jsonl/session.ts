// The JSON-lines front on one connection: finds lines (`\n` or `\r\n`) in the read buffer,
// parses each into a request, runs it, and keeps the connection usable after bad input (a
// line past the limit is answered with an error and skipped up to its newline).
import { checkCredentials } from '../auth-file.js';
import { CLOSE, MULTIGET_LINE_LIMIT, type Session, type SessionContext } from '../types.js';
import { Commands } from './commands.js';
import { parseLine } from './parser.js';
import { replyError, replyOk, NO_RESULT } from './replies.js';
import { Form, type Request } from './request.js';
import type { JsonlStats } from './stats.js';

/**
 * The longest line: room for the largest item's value (-I) sent unescaped, plus the JSON
 * around it. It stays below the connection's read-buffer limit by more than one read chunk,
 * so an over-long line is answered, not cut off by the connection closing.
 */
export function lineLimit(itemSizeMax: number): number {
  return Math.max(itemSizeMax, MULTIGET_LINE_LIMIT) + 32 * 1024;
}

/** What one transaction may hold: 16 MiB, or four of the largest items when -I is larger. */
export function transactionLimit(itemSizeMax: number): number {
  return Math.max(16 * 1024 * 1024, 4 * itemSizeMax);
}

export class JsonlSession implements Session {
  readonly wantBytes = 0;
  readonly #ctx: SessionContext;
  readonly #stats: JsonlStats;
  readonly #commands: Commands;
  readonly #lineLimit: number;
  /** -Y: the client must AUTH first. */
  #authenticated: boolean;
  /** Skipping the rest of an over-long line, up to its newline. */
  #skipping = false;

  constructor(ctx: SessionContext, stats: JsonlStats) {
    this.#ctx = ctx;
    this.#stats = stats;
    const max = ctx.config.itemSizeMax;
    this.#commands = new Commands(ctx.cache, ctx.out, stats, transactionLimit(max));
    this.#lineLimit = lineLimit(max);
    this.#authenticated = ctx.config.authFile === null;
  }

  consume(buf: Buffer, start: number): number {
    const ctx = this.#ctx;
    const end = buf.length;
    let pos = start;
    while (pos < end) {
      // enough replies are pending, or enough requests were handled for one turn
      if (ctx.out.full || ctx.requestBudget <= 0) break;
      const nl = buf.indexOf(10, pos);
      if (this.#skipping) {
        if (nl < 0) return end;
        this.#skipping = false;
        pos = nl + 1;
        continue;
      }
      if (nl < 0) {
        if (end - pos > this.#lineLimit) {
          this.#tooLong(buf[pos]);
          this.#skipping = true;
          return end;
        }
        break;
      }
      const next = nl + 1;
      let el = nl;
      if (el > pos && buf[el - 1] === 13) el--;
      ctx.requestBudget--;
      if (el - pos > this.#lineLimit) {
        this.#tooLong(buf[pos]);
      } else if (el > pos && this.#line(buf, pos, el) === CLOSE) {
        ctx.closeAfterWrite = true;
        return CLOSE;
      }
      // an empty line is no request: nothing to answer
      pos = next;
    }
    return pos;
  }

  closed(): void {
    this.#commands.abandon();
  }

  #line(buf: Buffer, start: number, end: number): number {
    const ctx = this.#ctx;
    ctx.lastCommandAt = ctx.cache.clock.now();
    this.#stats.commands++;
    const parsed = parseLine(buf, start, end);
    if (!parsed.ok) {
      this.#stats.errors++;
      replyError(ctx.out, parsed.bad.form, parsed.bad.message);
      return 0;
    }
    const req = parsed.request;
    if (req.verb === 'EXIT') {
      replyOk(ctx.out, req.form, NO_RESULT);
      return CLOSE;
    }
    if (req.verb === 'AUTH') {
      this.#auth(req);
      return 0;
    }
    if (!this.#authenticated && req.verb !== 'PING') {
      this.#stats.errors++;
      replyError(ctx.out, req.form, 'authentication required: send AUTH <user> <password> (JSON: {"command": "AUTH", "args": {"username": ..., "password": ...}})');
      return 0;
    }
    this.#commands.run(req);
    return 0;
  }

  #auth(req: Request): void {
    const ctx = this.#ctx;
    const file = ctx.config.authFile;
    if (file === null) {
      replyOk(ctx.out, req.form, NO_RESULT);
      return;
    }
    const ok = checkCredentials(file, Buffer.from(req.key, 'utf8'), Buffer.from(req.value, 'utf8'));
    ctx.cache.countAuth(!ok);
    if (ok) {
      this.#authenticated = true;
      replyOk(ctx.out, req.form, NO_RESULT);
    } else {
      this.#stats.errors++;
      replyError(ctx.out, req.form, 'authentication failed');
    }
  }

  #tooLong(first: number | undefined): void {
    this.#stats.commands++;
    this.#stats.errors++;
    const form = first === 0x7b ? Form.Json : Form.Plain;
    replyError(this.#ctx.out, form, `line too long: a request line may hold at most ${this.#lineLimit} bytes (values up to -I = ${this.#ctx.config.itemSizeMax} bytes fit); the line was skipped`);
  }
}
