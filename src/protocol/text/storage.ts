// set/add/replace/append/prepend/cas: the command line, then <bytes> of data and "\r\n".
// Follows memcached's process_update_command()/complete_nread_ascii(): the order of the
// checks decides which error a malformed line gets, and a line rejected before its length
// is known leaves the data block to be read as commands (as memcached 1.6.18 does).
import { parseInt32, parseU64 } from '../../cache/numbers.js';
import { OpStatus, Outcome, StoreMode, StoreRequest } from '../../cache/api.js';
import { KEY_MAX_LENGTH, NEED_MORE } from '../types.js';
import { INT_MAX, type Handler, type TextState } from './handler.js';
import { refusesWrites } from './refusal.js';
import { R } from './replies.js';
import type { Tokens } from './tokens.js';
import { FETCHERS, MUTATIONS } from '../../logging/event-flags.js';
import { lookedUp, stored } from '../watch-events.js';

const EMPTY = Buffer.alloc(0);
/** One request and status for every store (a store completes before the next begins). */
const req = new StoreRequest();
const status = new OpStatus();

/** memcached's safe_strtoul() into a uint32_t: strtoul, then truncation to 32 bits. */
export function parseFlags(buf: Buffer, off: number, len: number): number {
  if (len > 0 && len <= 9) {
    let v = 0;
    let i = 0;
    for (; i < len; i++) {
      const c = buf[off + i]! - 0x30;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
    }
    if (i === len) return v;
  }
  const v = parseU64(buf, off, len);
  if (v === null) return -1;
  return Number(v & 0xffffffffn);
}

function update(s: TextState, buf: Buffer, t: Tokens, next: number, mode: StoreMode): number {
  s.checkNoreply(buf);
  const keyLen = t.len[1]!;
  if (keyLen > KEY_MAX_LENGTH) {
    s.reply(R.BAD_FORMAT);
    return next;
  }
  const flags = parseFlags(buf, t.start[2]!, t.len[2]!);
  const exptime = parseInt32(buf, t.start[3]!, t.len[3]!);
  const vlen = parseInt32(buf, t.start[4]!, t.len[4]!);
  if (flags < 0 || exptime === null || vlen === null) {
    s.reply(R.BAD_FORMAT);
    return next;
  }
  let cas = 0;
  if (mode === StoreMode.Cas) {
    const c = parseU64(buf, t.start[5]!, t.len[5]!);
    if (c === null) {
      s.reply(R.BAD_FORMAT);
      return next;
    }
    // CAS values are issued below 2^53; a larger one can never match
    cas = c > 0x1fffffffffffffn ? -1 : Number(c);
  }
  if (vlen < 0 || vlen > INT_MAX - 2) {
    s.reply(R.BAD_FORMAT);
    return next;
  }
  const cache = s.ctx.cache;
  const total = vlen + 2;
  const r = req;
  r.mode = mode;
  r.key = buf;
  r.kOff = t.start[1]!;
  r.kLen = keyLen;
  r.flags = flags;
  r.exptime = exptime;
  r.cas = cas;
  r.vLen = vlen;
  if (cache.writeRefusal !== null) {
    // nothing may change, not even the drop of the old value a too-large set does
    refusesWrites(s);
    s.swallow = total;
    return next;
  }
  if (!cache.fits(keyLen, vlen, flags)) {
    // rejected before reading: reply now and discard the data as it arrives (the store
    // counts it and drops the old value, as memcached does)
    r.value = EMPTY;
    r.vOff = 0;
    const outcome = cache.store(r, status);
    // memcached logs the refused store, then the lookup that drops the old value
    if (s.events.flags & MUTATIONS) stored(s.events, cache, r, outcome, status, s.fd);
    if (s.events.flags & FETCHERS) lookedUp(s.events, cache, buf, r.kOff, r.kLen, s.fd);
    s.reply(R.TOO_LARGE);
    s.swallow = total;
    return next;
  }
  if (next + total > buf.length) {
    s.wantBytes = next + total - t.start[0]!;
    return NEED_MORE;
  }
  if (buf[next + vlen] !== 13 || buf[next + vlen + 1] !== 10) {
    cache.countBadChunk();
    s.reply(R.BAD_CHUNK);
    return next + total;
  }
  r.value = buf;
  r.vOff = next;
  const ev = s.events;
  if (ev.flags & FETCHERS) lookedUp(ev, cache, buf, r.kOff, r.kLen, s.fd);
  const outcome = cache.store(r, status);
  if (ev.flags & MUTATIONS) stored(ev, cache, r, outcome, status, s.fd);
  s.reply(storeReply(outcome));
  return next + total;
}

export function storeReply(outcome: Outcome): Buffer {
  switch (outcome) {
    case Outcome.Stored:
      return R.STORED;
    case Outcome.Exists:
      return R.EXISTS;
    case Outcome.NotFound:
      return R.NOT_FOUND;
    case Outcome.TooLarge:
      return R.TOO_LARGE;
    case Outcome.NoMemory:
      return R.OOM_STORE;
    default:
      return R.NOT_STORED;
  }
}

const wantTokens =
  (mode: StoreMode, a: number, b: number): Handler =>
  (s, buf, t, next) => {
    if (t.ntokens !== a && t.ntokens !== b) {
      s.out.raw(R.ERROR);
      return next;
    }
    return update(s, buf, t, next, mode);
  };

export const set = wantTokens(StoreMode.Set, 6, 7);
export const add = wantTokens(StoreMode.Add, 6, 7);
export const replace = wantTokens(StoreMode.Replace, 6, 7);
export const append = wantTokens(StoreMode.Append, 6, 7);
export const prepend = wantTokens(StoreMode.Prepend, 6, 7);
export const cas = wantTokens(StoreMode.Cas, 7, 8);
