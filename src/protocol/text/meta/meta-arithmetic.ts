// ma: incr/decr with flags for mode (M), delta (D), autovivify (N with initial value J), CAS
// compare (C), TTL (T) and return flags. As memcached 1.6.18's process_marithmetic_command(),
// including two of its quirks: q hides the reply of a successful change but not of a
// vivified item, and T is lost when the new number no longer fits the old item (memcached
// then sets the TTL on the replaced item).
import { FETCHERS } from '../../../logging/event-flags.js';
import { fetched } from '../../watch-events.js';
import { ArithRequest, NONE, OpStatus, Outcome } from '../../../cache/api.js';
import type { Handler, TextState } from '../handler.js';
import type { Tokens } from '../tokens.js';
import { MetaFlags, parseMetaFlags } from './flags.js';
import {
  CRLF,
  ERR_FLAG,
  ERR_OPAQUE,
  ERR_TOO_MANY,
  error,
  fail,
  MAX_OPAQUE,
  putKey,
  putNumber,
  putOpaque,
  putOpaqueAndKey,
  metaLineOk,
} from './reply.js';
import { refusalLine } from '../refusal.js';

const f = new MetaFlags();
const req = new ArithRequest();
const status = new OpStatus();
const ERR_MODE = 'CLIENT_ERROR invalid mode for ma M token';
const ERR_NON_NUMERIC = 'CLIENT_ERROR cannot increment or decrement non-numeric value';
const ERR_NO_MEMORY = 'SERVER_ERROR out of memory';
const ERR_VIVIFY_MEMORY = 'SERVER_ERROR Out of memory allocating new item';

export const ma: Handler = (s, buf, t, next) => {
  if (!metaLineOk(s, t, ERR_TOO_MANY)) return next;
  f.reset(buf, t.start[1]!, t.len[1]!);
  if (parseMetaFlags(buf, t, 2, f) !== null) {
    error(s, ERR_FLAG);
    return next;
  }
  let incr: boolean;
  switch (f.mode) {
    case 0:
    case 0x49: // I
    case 0x2b: // +
      incr = true;
      break;
    case 0x44: // D
    case 0x2d: // -
      incr = false;
      break;
    default:
      error(s, ERR_MODE);
      return next;
  }
  const cache = s.ctx.cache;
  if (cache.writeRefusal !== null) {
    error(s, refusalLine(cache.writeRefusal));
    return next;
  }
  const id0 = cache.find(f.key, f.keyOff, f.keyLen);
  if (s.events.flags & FETCHERS) fetched(s.events, cache, f.key, f.keyOff, f.keyLen, id0, s.fd);
  if (id0 === NONE && f.vivify) {
    const text = Buffer.from(f.initial.toString(), 'latin1');
    const id = cache.vivify(f.key, f.keyOff, f.keyLen, text, 0, text.length);
    if (id === NONE) {
      error(s, ERR_VIVIFY_MEMORY);
      return next;
    }
    // a vivified item answers even under q
    return withItem(s, buf, t, next, id, text.toString('latin1'), true, true);
  }
  // memcached refuses an empty value as non-numeric before it compares the CAS
  if (id0 !== NONE && cache.itemValueLength(id0) === 0) {
    error(s, ERR_NON_NUMERIC);
    return next;
  }
  const oldLen = id0 === NONE ? 0 : cache.itemValueLength(id0);
  req.key = f.key;
  req.keyOff = f.keyOff;
  req.keyLen = f.keyLen;
  req.incr = incr;
  req.delta = f.delta;
  req.cas = f.hasCas ? f.cas : 0;
  const outcome = cache.incrDecr(req, status);
  switch (outcome) {
    case Outcome.Stored: {
      const value = status.number.toString();
      const id = status.id;
      if (f.noReply) {
        // the reply is hidden, but T still applies and a long opaque still fails
        return withItem(s, buf, t, next, id, value, false, value.length <= oldLen, true);
      }
      return withItem(s, buf, t, next, id, value, false, value.length <= oldLen);
    }
    case Outcome.NonNumeric:
      error(s, ERR_NON_NUMERIC);
      return next;
    case Outcome.NoMemory:
      error(s, ERR_NO_MEMORY);
      return next;
  }
  // NF or EX: no item to describe, O and k still come back
  const out = s.out;
  const mark = out.mark();
  out.ascii(outcome === Outcome.Exists ? 'EX' : 'NF');
  if (!putOpaqueAndKey(out, buf, t, 2, f.key, f.keyOff, f.keyLen, f.keyBinary)) {
    fail(s, mark, ERR_OPAQUE);
    return next;
  }
  out.raw(CRLF);
  return next;
};

/**
 * "HD"/"VA <len>" with the return flags in request order, then the number with v. `sameItem`
 * says whether T reaches the live item (memcached changes a number that still fits in place,
 * else it writes a new item and applies T to the old one). `hidden` writes nothing unless an
 * error comes up.
 */
function withItem(
  s: TextState,
  buf: Buffer,
  t: Tokens,
  next: number,
  id: number,
  value: string,
  created: boolean,
  sameItem: boolean,
  hidden = false,
): number {
  const cache = s.ctx.cache;
  const out = s.out;
  const mark = out.mark();
  const now = cache.clock.now();
  // the TTL of the item memcached holds: the live one, or the replaced one T is lost on
  let exp = cache.itemExptime(id);
  if (f.value) {
    out.ascii('VA ');
    out.decimal(value.length);
  } else {
    out.ascii('HD');
  }
  for (let i = 2; i < t.ntokens - 1; i++) {
    switch (buf[t.start[i]!]) {
      case 0x63: // c
        putNumber(out, 'c', cache.itemCas(id));
        break;
      case 0x74: // t
        if (exp === 0) out.ascii(' t-1');
        else putNumber(out, 't', (exp - now) >>> 0);
        break;
      case 0x54: // T
        exp = cache.absoluteExptime(f.ttl);
        if (sameItem) cache.setItemTtl(id, f.ttl);
        break;
      case 0x4e: // N
        if (created) {
          exp = cache.absoluteExptime(f.vivifyTtl);
          cache.setItemTtl(id, f.vivifyTtl);
        }
        break;
      case 0x4f: // O
        if (t.len[i]! > MAX_OPAQUE) {
          fail(s, mark, ERR_OPAQUE);
          return next;
        }
        putOpaque(out, buf, t, i);
        break;
      case 0x6b: // k
        putKey(out, f.key, f.keyOff, f.keyLen, f.keyBinary);
        break;
    }
  }
  if (f.value) {
    out.raw(CRLF);
    out.ascii(value);
  }
  out.raw(CRLF);
  if (hidden) out.rewind(mark);
  return next;
}
