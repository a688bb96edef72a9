// ms: store a data block with flags for mode (M), CAS compare (C), client flags (F), TTL (T)
// and invalidation (I). As memcached 1.6.18's process_mset_command()/_finalize_mset(): once
// the length is known, a rejected request swallows its data block; before that it does not.
import { FETCHERS, MUTATIONS } from '../../../logging/event-flags.js';
import { lookedUp, stored } from '../../watch-events.js';
import { OpStatus, Outcome, StoreMode, StoreRequest } from '../../../cache/api.js';
import { INT_MAX, type Handler, type TextState } from '../handler.js';
import { KEY_MAX_LENGTH, NEED_MORE } from '../../types.js';
import type { Tokens } from '../tokens.js';
import { ERR_FORMAT, MetaFlags, parseLongTrunc32, parseMetaFlags } from './flags.js';
import { CRLF, ERR_OPAQUE, ERR_TOO_MANY, error, ERROR_LINE, MAX_META_TOKENS, opaqueTooLong, putKey, putNumber, putOpaque } from './reply.js';
import { refusalLine } from '../refusal.js';

const f = new MetaFlags();
const req = new StoreRequest();
const status = new OpStatus();
const ERR_MODE = 'CLIENT_ERROR invalid mode for ms M token';
const ERR_TOO_LARGE = 'SERVER_ERROR object too large for cache';
const ERR_NO_MEMORY = 'SERVER_ERROR out of memory storing object';
const ERR_CHUNK = 'CLIENT_ERROR bad data chunk';

const CODES: Record<number, string> = {
  [Outcome.Stored]: 'HD',
  [Outcome.Exists]: 'EX',
  [Outcome.NotFound]: 'NF',
  [Outcome.NotStored]: 'NS',
};

/** The M token of ms: E add, A append, P prepend, R replace, S set (the default). */
function storeMode(m: number): StoreMode | null {
  switch (m) {
    case 0:
    case 0x53:
      return StoreMode.Set;
    case 0x45:
      return StoreMode.Add;
    case 0x41:
      return StoreMode.Append;
    case 0x50:
      return StoreMode.Prepend;
    case 0x52:
      return StoreMode.Replace;
    default:
      return null;
  }
}

export const ms: Handler = (s, buf, t, next) => {
  if (t.ntokens < 3) {
    s.out.raw(ERROR_LINE);
    return next;
  }
  if (t.len[1]! > KEY_MAX_LENGTH || t.ntokens === 3) {
    error(s, ERR_FORMAT);
    return next;
  }
  if (t.ntokens > MAX_META_TOKENS) {
    error(s, ERR_TOO_MANY);
    return next;
  }
  const vlen = parseLongTrunc32(buf, t.start[2]!, t.len[2]!);
  if (vlen === null || vlen < 0 || vlen > INT_MAX - 2) {
    // the length is unknown, so the data block will be read as commands
    error(s, ERR_FORMAT);
    return next;
  }
  const total = vlen + 2;
  f.reset(buf, t.start[1]!, t.len[1]!);
  const err = parseMetaFlags(buf, t, 3, f);
  if (err !== null) return reject(s, next, err, total);
  let mode = storeMode(f.mode);
  // memcached notes a long opaque, then checks the mode: a bad mode is the one reported
  if (mode === null) return reject(s, next, ERR_MODE, total);
  if (opaqueTooLong(buf, t, 3)) return reject(s, next, ERR_OPAQUE, total);
  // C upgrades set and replace to a CAS store; add ignores it; append/prepend compare it
  if (f.hasCas && (mode === StoreMode.Set || mode === StoreMode.Replace)) mode = StoreMode.Cas;
  const cache = s.ctx.cache;
  if (cache.writeRefusal !== null) return reject(s, next, refusalLine(cache.writeRefusal), total);
  if (!cache.fits(f.keyLen, vlen, f.clientFlags)) {
    cache.refuseTooLarge(f.key, f.keyOff, f.keyLen, true);
    return reject(s, next, ERR_TOO_LARGE, total);
  }
  if (next + total > buf.length) {
    s.wantBytes = next + total - t.start[0]!;
    return NEED_MORE;
  }
  if (buf[next + vlen] !== 13 || buf[next + vlen + 1] !== 10) {
    cache.countBadChunk();
    error(s, ERR_CHUNK);
    return next + total;
  }
  const r = req;
  r.mode = mode;
  r.key = f.key;
  r.kOff = f.keyOff;
  r.kLen = f.keyLen;
  r.flags = f.clientFlags;
  r.exptime = f.newTtl ? f.ttl : 0;
  r.value = buf;
  r.vOff = next;
  r.vLen = vlen;
  r.cas = f.hasCas ? f.cas : 0;
  r.invalidate = f.invalidate;
  r.keyBinary = f.keyBinary;
  const ev = s.events;
  if (ev.flags & FETCHERS) lookedUp(ev, cache, f.key, f.keyOff, f.keyLen, s.fd);
  const outcome = cache.storeMeta(r, status);
  if (ev.flags & MUTATIONS) stored(ev, cache, r, outcome, status, s.fd);
  const code = CODES[outcome];
  if (code === undefined) {
    if (outcome === Outcome.NoMemory) cache.dropStale(f.key, f.keyOff, f.keyLen);
    error(s, outcome === Outcome.TooLarge ? ERR_TOO_LARGE : ERR_NO_MEMORY);
    return next + total;
  }
  if (outcome === Outcome.Stored && f.noReply) return next + total;
  writeReply(s, buf, t, code, outcome === Outcome.Stored ? status.cas : 0);
  return next + total;
};

/** Reply with an error and discard the data block as it arrives (conn_swallow). */
function reject(s: TextState, next: number, message: string, total: number): number {
  error(s, message);
  s.swallow = total;
  return next;
}

/** "<code>" then O, k and c in request order (memcached's _finalize_mset()). */
function writeReply(s: TextState, buf: Buffer, t: Tokens, code: string, cas: number): void {
  const out = s.out;
  out.ascii(code);
  for (let i = 3; i < t.ntokens - 1; i++) {
    switch (buf[t.start[i]!]) {
      case 0x4f: // O
        putOpaque(out, buf, t, i);
        break;
      case 0x6b: // k
        putKey(out, f.key, f.keyOff, f.keyLen, f.keyBinary);
        break;
      case 0x63: // c: the new CAS, or 0 when nothing was stored
        putNumber(out, 'c', cas);
        break;
    }
  }
  out.raw(CRLF);
}
