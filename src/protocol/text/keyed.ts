// delete, incr/decr and touch: one key, a small reply. Argument checks in memcached's order
// (process_delete_command, process_arithmetic_command, process_touch_command).
import { parseInt32, parseU64 } from '../../cache/numbers.js';
import { ArithRequest, OpStatus, Outcome } from '../../cache/api.js';
import { KEY_MAX_LENGTH } from '../types.js';
import type { Handler, TextState } from './handler.js';
import { refusesWrites } from './refusal.js';
import { R } from './replies.js';
import type { Tokens } from './tokens.js';
import { FETCHERS } from '../../logging/event-flags.js';
import { lookedUp } from '../watch-events.js';

export const del: Handler = (s, buf, t, next) => {
  if (t.ntokens < 3 || t.ntokens > 5) {
    s.out.raw(R.ERROR);
    return next;
  }
  if (t.ntokens > 3) {
    // the legacy hold time: only `delete <key> 0` survives (protocol.txt, "delete")
    const holdIsZero = t.is(buf, 2, '0');
    const noreply = s.checkNoreply(buf);
    const valid = (t.ntokens === 4 && (holdIsZero || noreply)) || (t.ntokens === 5 && holdIsZero && noreply);
    if (!valid) {
      s.reply(R.DELETE_USAGE);
      return next;
    }
  }
  if (t.len[1]! > KEY_MAX_LENGTH) {
    s.reply(R.BAD_FORMAT);
    return next;
  }
  if (refusesWrites(s)) return next;
  if (s.events.flags & FETCHERS) lookedUp(s.events, s.ctx.cache, buf, t.start[1]!, t.len[1]!, s.fd);
  const r = s.ctx.cache.delete(buf, t.start[1]!, t.len[1]!);
  s.reply(r === Outcome.Deleted ? R.DELETED : R.NOT_FOUND);
  return next;
};

/**
 * incr/decr/touch: `<verb> <key> <arg> [noreply]`; wrong token counts are ERROR, then noreply
 * is taken and the key length checked (memcached's order). False when it has answered.
 */
function keyedLineOk(s: TextState, buf: Buffer, t: Tokens): boolean {
  if (t.ntokens !== 4 && t.ntokens !== 5) {
    s.out.raw(R.ERROR);
    return false;
  }
  s.checkNoreply(buf);
  if (t.len[1]! > KEY_MAX_LENGTH) {
    s.reply(R.BAD_FORMAT);
    return false;
  }
  return true;
}

const arith = new ArithRequest();
const status = new OpStatus();

function arithmetic(s: TextState, buf: Buffer, t: Tokens, next: number, incr: boolean): number {
  if (!keyedLineOk(s, buf, t)) return next;
  const delta = parseU64(buf, t.start[2]!, t.len[2]!);
  if (delta === null) {
    s.reply(R.BAD_DELTA);
    return next;
  }
  if (refusesWrites(s)) return next;
  const r = arith;
  r.key = buf;
  r.keyOff = t.start[1]!;
  r.keyLen = t.len[1]!;
  r.incr = incr;
  r.delta = delta;
  r.cas = 0;
  if (s.events.flags & FETCHERS) lookedUp(s.events, s.ctx.cache, buf, r.keyOff, r.keyLen, s.fd);
  switch (s.ctx.cache.incrDecr(r, status)) {
    case Outcome.Stored:
      s.replyText(status.number.toString());
      break;
    case Outcome.NonNumeric:
      s.reply(R.NON_NUMERIC);
      break;
    case Outcome.NoMemory:
      s.reply(R.OOM);
      break;
    default:
      s.reply(R.NOT_FOUND);
  }
  return next;
}

export const incr: Handler = (s, buf, t, next) => arithmetic(s, buf, t, next, true);
export const decr: Handler = (s, buf, t, next) => arithmetic(s, buf, t, next, false);

export const touch: Handler = (s, buf, t, next) => {
  if (!keyedLineOk(s, buf, t)) return next;
  const exptime = parseInt32(buf, t.start[2]!, t.len[2]!);
  if (exptime === null) {
    s.reply(R.BAD_EXPTIME);
    return next;
  }
  if (refusesWrites(s)) return next;
  if (s.events.flags & FETCHERS) lookedUp(s.events, s.ctx.cache, buf, t.start[1]!, t.len[1]!, s.fd);
  const r = s.ctx.cache.touch(buf, t.start[1]!, t.len[1]!, exptime);
  s.reply(r === Outcome.Touched ? R.TOUCHED : R.NOT_FOUND);
  return next;
};
