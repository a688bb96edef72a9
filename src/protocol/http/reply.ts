// Answers: a short text body for every error, the counters, and the durability rule (a 2xx
// to a change goes out only once the change is on disk when the journal says so).
import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders } from 'node:http';
import { refusalMessage } from '../types.js';
import type { HttpContext } from './context.js';

/** Bodies still to come up to this size are read through after an early answer; beyond, the connection closes. */
const DRAIN_MAX = 16 * 1024 * 1024;

/** Send `status` with `text` (a line, `\n` added) or an empty body. */
export function reply(ctx: HttpContext, res: ServerResponse, status: number, text: string, headers: OutgoingHttpHeaders = {}): void {
  ctx.counters.count(status);
  const body = text === '' ? '' : `${text}\n`;
  res.writeHead(status, {
    ...headers,
    ...(body === '' ? {} : { 'Content-Type': 'text/plain; charset=utf-8' }),
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * An answer sent before the request's body was read (413, 409, 412, 401, 503): small
 * bodies are read through so the connection stays usable; a big or unbounded one closes it
 * after the answer, so the client is not made to upload what will be thrown away.
 */
export function earlyReply(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, status: number, text: string, headers: OutgoingHttpHeaders = {}): void {
  if (!req.complete) {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (!(declared <= DRAIN_MAX)) headers = { ...headers, Connection: 'close' };
  }
  reply(ctx, res, status, text, headers);
}

/**
 * Run `change` (which returns the answer to give), then answer: at once, or, when a
 * durability gate is set and the change was recorded, only once it is on disk.
 *
 * If the journal fails to write it, the change is already in memory (reads see it) and the
 * journal keeps its record to write again once the disk works, so the 2xx would claim a
 * durability the change does not have: the answer is 503 with a body that says what happened
 * (notDurableMessage). A PUT or DELETE may be retried once writes are taken again.
 */
export function afterChange(ctx: HttpContext, res: ServerResponse, change: () => () => void): void {
  const gate = ctx.durability;
  const before = gate === null ? 0 : gate.appended;
  const send = change();
  if (gate === null || gate.appended === before) {
    send();
    return;
  }
  gate.whenDurable(gate.appended, (error) => {
    if (res.destroyed) return;
    if (error !== null) {
      ctx.log.warn(`HTTP change answered 503: ${error}; it is in memory, not on disk`);
      ctx.counters.notDurable++;
      reply(ctx, res, 503, notDurableMessage(error), { 'Retry-After': '1' });
      return;
    }
    send();
  });
}

/** The 503 body of a change applied in memory whose journal record could not be written. */
export function notDurableMessage(error: string): string {
  return `${error}: this change was applied in memory but is not on disk; the journal writes it once the disk works again (it is lost if the daemon stops before that); until then writes are refused`;
}

/** 503 for a change while the journal cannot write; reads go on. */
export function refusesWrites(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): boolean {
  const reason = ctx.cache.writeRefusal;
  if (reason === null) return false;
  earlyReply(ctx, req, res, 503, refusalMessage(reason), { 'Retry-After': '1' });
  return true;
}
