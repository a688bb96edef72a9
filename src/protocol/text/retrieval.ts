// get/gets/gat/gats (and the ancient bget): VALUE lines for hits, END after the last key.
// As memcached's process_get_command(): a key over 250 bytes turns the whole reply into
// CLIENT_ERROR; gat/gats take the new exptime as the first argument.
import { parseInt32 } from '../../cache/numbers.js';
import { NONE } from '../../cache/item.js';
import { writeDecimal } from '../../cache/numbers.js';
import { KEY_MAX_LENGTH, YIELD, type Handler } from './handler.js';
import { R } from './replies.js';
import type { TextSession } from './session.js';
import type { Tokens } from './tokens.js';

function retrieve(s: TextSession, buf: Buffer, t: Tokens, next: number, withCas: boolean, touch: boolean): number {
  if (t.ntokens < 3) {
    s.out.raw(R.ERROR);
    return next;
  }
  const out = s.out;
  const cache = s.ctx.cache;
  let exptime = 0;
  let first = 1;
  if (touch) {
    const e = parseInt32(buf, t.start[1]!, t.len[1]!);
    if (e === null) {
      out.raw(R.BAD_EXPTIME);
      return next;
    }
    exptime = e;
    first = 2;
  }
  const lineEnd = t.end;
  // offsets within the line are kept relative to its first token, which stays put when the
  // connection moves the unread input
  const anchor = t.start[0]!;
  let p = first < t.ntokens - 1 ? t.start[first]! : lineEnd;
  if (s.resumeAt > 0) {
    p = anchor + s.resumeAt;
    s.resumeAt = 0;
  } else if (lineEnd - p > KEY_MAX_LENGTH && hasLongKey(buf, p, lineEnd)) {
    // (a line no longer than the key limit cannot hold a longer key: no scan)
    // memcached fetches (and counts, and touches) the keys before the bad one, then
    // replaces the whole reply with the error
    for (let q = p; q < lineEnd; ) {
      while (q < lineEnd && buf[q] === 0x20) q++;
      let e = q;
      while (e < lineEnd && buf[e] !== 0x20) e++;
      if (e - q > KEY_MAX_LENGTH) break;
      if (e > q) {
        if (touch) cache.getAndTouch(buf, q, e - q, exptime);
        else cache.get(buf, q, e - q);
      }
      q = e;
    }
    out.raw(R.BAD_FORMAT);
    return next;
  }
  // walk the keys straight from the line: memcached re-tokenizes in batches of 24 with the
  // same result
  while (p < lineEnd) {
    while (p < lineEnd && buf[p] === 0x20) p++;
    if (p >= lineEnd) break;
    let e = p;
    while (e < lineEnd && buf[e] !== 0x20) e++;
    const klen = e - p;
    const id = touch ? cache.getAndTouch(buf, p, klen, exptime) : cache.get(buf, p, klen);
    if (id !== NONE) {
      const nbytes = cache.itemValueLength(id);
      const b = out.ensure(6 + klen + 48 + nbytes + 2);
      let o = out.pos;
      b.set(R.VALUE, o);
      o += 6;
      o = cache.copyKeyToView(id, out.view, o);
      b[o++] = 0x20;
      o = writeDecimal(b, o, cache.itemFlags(id));
      b[o++] = 0x20;
      o = writeDecimal(b, o, nbytes);
      if (withCas) {
        b[o++] = 0x20;
        o = writeDecimal(b, o, cache.itemCas(id));
      }
      b[o++] = 13;
      b[o++] = 10;
      o = cache.copyValueToView(id, out.view, o);
      b[o++] = 13;
      b[o++] = 10;
      out.pos = o;
      if (out.full && e < lineEnd) {
        // a multi-get of many large values: let this batch be written first
        s.resumeAt = e - anchor;
        return YIELD;
      }
    }
    p = e;
  }
  out.raw(R.END);
  return next;
}

export const get: Handler = (s, buf, t, next) => retrieve(s, buf, t, next, false, false);
export const gets: Handler = (s, buf, t, next) => retrieve(s, buf, t, next, true, false);
export const gat: Handler = (s, buf, t, next) => retrieve(s, buf, t, next, false, true);
export const gats: Handler = (s, buf, t, next) => retrieve(s, buf, t, next, true, true);

/** Some key in line[from, to) is longer than memcached's KEY_MAX_LENGTH. */
function hasLongKey(buf: Buffer, from: number, to: number): boolean {
  let run = 0;
  for (let i = from; i < to; i++) {
    if (buf[i] === 0x20) run = 0;
    else if (++run > KEY_MAX_LENGTH) return true;
  }
  return false;
}
