// md: delete an item, or with I mark it stale so the next mg wins the right to rebuild it.
// As memcached 1.6.18's process_mdelete_command(): q hides only HD, and a too long opaque
// fails the request before the item is looked up.
import { FETCHERS } from '../../../logging/event-flags.js';
import { lookedUp } from '../../watch-events.js';
import { MetaDeleteRequest, Outcome } from '../../../cache/api.js';
import type { Handler } from '../handler.js';
import { MetaFlags, parseMetaFlags } from './flags.js';
import {
  CRLF,
  ERR_FLAG,
  ERR_OPAQUE,
  ERR_TOO_MANY,
  error,
  opaqueTooLong,
  putOpaqueAndKey,
  metaLineOk,
} from './reply.js';
import { refusalLine } from '../refusal.js';

const f = new MetaFlags();
const req = new MetaDeleteRequest();

export const md: Handler = (s, buf, t, next) => {
  if (!metaLineOk(s, t, ERR_TOO_MANY)) return next;
  f.reset(buf, t.start[1]!, t.len[1]!);
  if (parseMetaFlags(buf, t, 2, f) !== null) {
    error(s, ERR_FLAG);
    return next;
  }
  if (opaqueTooLong(buf, t, 2)) {
    error(s, ERR_OPAQUE);
    return next;
  }
  const refusal = s.ctx.cache.writeRefusal;
  if (refusal !== null) {
    error(s, refusalLine(refusal));
    return next;
  }
  req.key = f.key;
  req.keyOff = f.keyOff;
  req.keyLen = f.keyLen;
  req.hasCas = f.hasCas;
  req.cas = f.cas;
  req.invalidate = f.invalidate;
  req.exptime = f.newTtl ? f.ttl : null;
  if (s.events.flags & FETCHERS) lookedUp(s.events, s.ctx.cache, f.key, f.keyOff, f.keyLen, s.fd);
  const outcome = s.ctx.cache.deleteMeta(req);
  if (outcome === Outcome.Deleted && f.noReply) return next;
  const out = s.out;
  out.ascii(outcome === Outcome.Deleted ? 'HD' : outcome === Outcome.NotFound ? 'NF' : 'EX');
  putOpaqueAndKey(out, buf, t, 2, f.key, f.keyOff, f.keyLen, f.keyBinary);
  out.raw(CRLF);
  return next;
};
