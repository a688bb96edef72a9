// get/gets/gat/gats (and the ancient bget): VALUE lines for hits, END after the last key.
// As memcached's process_get_command(): a key over 250 bytes turns the whole reply into
// CLIENT_ERROR; gat/gats take the new exptime as the first argument.
import { parseInt32, writeDecimal } from '../../cache/numbers.js';
import { NONE, type ItemId } from '../../cache/api.js';
import { PINNED_VALUE } from '../output.js';
import { KEY_MAX_LENGTH } from '../types.js';
import { YIELD, type Handler, type TextState } from './handler.js';
import { refusesWrites } from './refusal.js';
import { R } from './replies.js';
import type { Tokens } from './tokens.js';
import { FETCHERS } from '../../logging/event-flags.js';
import { fetched } from '../watch-events.js';

function retrieve(s: TextState, buf: Buffer, t: Tokens, next: number, withCas: boolean, touch: boolean): number {
  if (t.ntokens < 3) {
    s.out.raw(R.ERROR);
    return next;
  }
  const out = s.out;
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
    // gat changes TTLs: refused while the journal cannot write
    if (refusesWrites(s)) return next;
  }
  const lineEnd = t.end;
  // offsets within the line are kept relative to its first token, which stays put when the
  // connection moves the unread input
  const anchor = t.start[0]!;
  const last = t.ntokens - 1;
  // keys come from the tokens the line was split into, then from a byte scan of what lies
  // beyond them (a line of more than 23 tokens); memcached re-tokenizes in batches of 24 with
  // the same result
  let tok = first;
  let p = t.rest >= 0 ? t.rest : lineEnd;
  if (s.resumeAt > 0) {
    tok = last;
    p = anchor + s.resumeAt;
    s.resumeAt = 0;
  } else if (hasLongKey(buf, t, first, lineEnd)) {
    // memcached fetches (and counts, and touches) the keys before the bad one, then
    // replaces the whole reply with the error
    for (let q = first < last ? t.start[first]! : lineEnd; q < lineEnd; ) {
      while (q < lineEnd && buf[q] === 0x20) q++;
      let e = q;
      while (e < lineEnd && buf[e] !== 0x20) e++;
      if (e - q > KEY_MAX_LENGTH) break;
      if (e > q) {
        lookup(s, buf, q, e - q, touch, exptime);
      }
      q = e;
    }
    out.raw(R.BAD_FORMAT);
    return next;
  }
  for (; tok < last; tok++) {
    const q = t.start[tok]!;
    const e = q + t.len[tok]!;
    const id = lookup(s, buf, q, e - q, touch, exptime);
    if (id !== NONE && writeValue(s, id, e - q, withCas) && (tok + 1 < last || p < lineEnd)) {
      // a multi-get of many large values: let this batch be written first
      s.resumeAt = e - anchor;
      return YIELD;
    }
  }
  while (p < lineEnd) {
    while (p < lineEnd && buf[p] === 0x20) p++;
    if (p >= lineEnd) break;
    let e = p;
    while (e < lineEnd && buf[e] !== 0x20) e++;
    const id = lookup(s, buf, p, e - p, touch, exptime);
    if (id !== NONE && writeValue(s, id, e - p, withCas) && e < lineEnd) {
      s.resumeAt = e - anchor;
      return YIELD;
    }
    p = e;
  }
  out.raw(R.END);
  return next;
}

/** One key's live item (counted as memcached counts a get, or a gat that also touches it). */
function lookup(s: TextState, buf: Buffer, at: number, len: number, touch: boolean, exptime: number): ItemId {
  const cache = s.ctx.cache;
  const id = touch ? cache.getAndTouch(buf, at, len, exptime) : cache.get(buf, at, len);
  if (s.events.flags & FETCHERS) fetched(s.events, cache, buf, at, len, id, s.fd);
  return id;
}

/** Appends the VALUE line and data block of item `id`; says whether the reply arena is full. */
function writeValue(s: TextState, id: number, klen: number, withCas: boolean): boolean {
  const out = s.out;
  const cache = s.ctx.cache;
  const nbytes = cache.itemValueLength(id);
  const pinned = nbytes >= PINNED_VALUE;
  const b = out.ensure(6 + klen + 48 + (pinned ? 0 : nbytes) + 2);
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
  if (pinned) {
    // sent from the item's chunks, not copied (output.ts)
    out.pos = o;
    out.pinValue(cache, id);
    out.raw(R.CRLF);
    return out.full;
  }
  o = cache.copyValueToView(id, out.view, o);
  b[o++] = 13;
  b[o++] = 10;
  out.pos = o;
  return out.full;
}

export const get: Handler = (s, buf, t, next) => retrieve(s, buf, t, next, false, false);
export const gets: Handler = (s, buf, t, next) => retrieve(s, buf, t, next, true, false);
export const gat: Handler = (s, buf, t, next) => retrieve(s, buf, t, next, false, true);
export const gats: Handler = (s, buf, t, next) => retrieve(s, buf, t, next, true, true);

/**
 * Some key of the line is longer than memcached's KEY_MAX_LENGTH: a token from `first` on, or
 * a word in the untokenized rest of the line (scanned only when it could hold one).
 */
function hasLongKey(buf: Buffer, t: Tokens, first: number, lineEnd: number): boolean {
  for (let i = first; i < t.ntokens - 1; i++) if (t.len[i]! > KEY_MAX_LENGTH) return true;
  if (t.rest < 0 || lineEnd - t.rest <= KEY_MAX_LENGTH) return false;
  let run = 0;
  for (let i = t.rest; i < lineEnd; i++) {
    if (buf[i] === 0x20) run = 0;
    else if (++run > KEY_MAX_LENGTH) return true;
  }
  return false;
}
