// me: one line of an item's internals for debugging, or EN. Format and quirks as memcached
// 1.6.18's process_meta_command(): exp is printed as now minus the expiry (negative while
// the item lives), and only a `b` right after the key is looked at.
import { IF_FETCHED, IF_KEY_BINARY, NONE } from '../../../cache/item.js';
import type { Handler } from '../handler.js';
import { KEY_MAX_LENGTH } from '../../types.js';
import { base64Decode, base64Encode } from './base64.js';
import { ERR_FORMAT } from './flags.js';
import { CRLF, error } from './reply.js';

const decoded = Buffer.allocUnsafe(256);
const itemKey = Buffer.allocUnsafe(256);
const EN = Buffer.from('EN\r\n', 'latin1');

export const me: Handler = (s, buf, t, next) => {
  const cache = s.ctx.cache;
  if (t.ntokens < 3 || t.len[1]! > KEY_MAX_LENGTH) {
    error(s, ERR_FORMAT);
    return next;
  }
  let key = buf;
  let off = t.start[1]!;
  let len = t.len[1]!;
  if (t.ntokens >= 4 && t.is(buf, 2, 'b')) {
    len = base64Decode(buf, off, len, decoded);
    if (len === 0) {
      error(s, ERR_FORMAT);
      return next;
    }
    key = decoded;
    off = 0;
  }
  // memcached counts cmd_meta for `me` only (1.6.18 and later)
  cache.countMeta();
  const id = cache.find(key, off, len);
  const out = s.out;
  if (id === NONE) {
    out.raw(EN);
    return next;
  }
  const now = cache.clock.now();
  const klen = cache.copyKey(id, itemKey, 0);
  const iflags = cache.itemIflags(id);
  out.ascii('ME ');
  if ((iflags & IF_KEY_BINARY) !== 0) out.ascii(base64Encode(itemKey, 0, klen));
  else out.bytes(itemKey, 0, klen);
  const exp = cache.itemExptime(id);
  // ITEM_ntotal(): the item size plus 4 bytes when client flags are stored
  const size = cache.itemSize(id);
  out.ascii(
    ` exp=${exp === 0 ? -1 : (now - exp) | 0} la=${(now - cache.itemTime(id)) >>> 0} cas=${cache.itemCas(id)}` +
      ` fetch=${(iflags & IF_FETCHED) !== 0 ? 'yes' : 'no'} cls=${cache.itemClass(id)} size=${size}`,
  );
  out.raw(CRLF);
  return next;
};
