// mg: fetch an item's value and/or metadata, with autovivify (N), TTL update (T) and the
// recache/stale win tokens (R, W, X, Z) that let one client of many rebuild a hot item.
// Reply bytes and their order as memcached 1.6.18's process_mget_command().
import { FETCHERS } from '../../../logging/event-flags.js';
import { fetched } from '../../watch-events.js';
import { IF_FETCHED, IF_KEY_BINARY, IF_STALE, IF_WIN_SENT, NONE, OpStatus, type CacheApi } from '../../../cache/api.js';
import { YIELD, type Handler, type TextState } from '../handler.js';
import { PINNED_VALUE } from '../../output.js';
import type { Tokens } from '../tokens.js';
import { MetaFlags, parseMetaFlags } from './flags.js';
import {
  CRLF,
  ERR_OPAQUE,
  ERR_TOO_MANY_MG,
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
const lookup = new OpStatus();
const itemKey = Buffer.allocUnsafe(256);
const EMPTY = Buffer.alloc(0);

export const mg: Handler = (s, buf, t, next) => {
  if (!metaLineOk(s, t, ERR_TOO_MANY_MG)) return next;
  f.reset(buf, t.start[1]!, t.len[1]!);
  const err = parseMetaFlags(buf, t, 2, f);
  if (err !== null) {
    error(s, err);
    return next;
  }
  s.noreply = f.noReply;
  const cache = s.ctx.cache;
  // T, N and R may change the item: refused while the journal cannot write
  if (cache.writeRefusal !== null && (f.newTtl || f.vivify || hasFlag(buf, t, 0x52))) {
    error(s, refusalLine(cache.writeRefusal));
    return next;
  }
  let id = cache.find(f.key, f.keyOff, f.keyLen, lookup);
  if (s.events.flags & FETCHERS) fetched(s.events, cache, f.key, f.keyOff, f.keyLen, id, s.fd);
  // memcached's do_item_get() counts reads that found an expired or flushed item
  cache.countMissReason(lookup.miss);
  // without h/l/N/T/R memcached bumps while fetching; with them, after the reply is built
  if (id !== NONE && !f.locked && !f.noUpdate) cache.touchAccess(id);
  let created = false;
  if (id === NONE && f.vivify) {
    id = cache.vivify(f.key, f.keyOff, f.keyLen, EMPTY, 0, 0);
    created = id !== NONE;
  }
  if (id === NONE) return miss(s, buf, t, next, cache);
  return hit(s, buf, t, next, cache, id, created);
};

function hit(s: TextState, buf: Buffer, t: Tokens, next: number, cache: CacheApi, id: number, created: boolean): number {
  const out = s.out;
  const mark = out.mark();
  const now = cache.clock.now();
  const nbytes = cache.itemValueLength(id);
  if (f.value) {
    out.ascii('VA ');
    out.decimal(nbytes);
  } else {
    out.ascii('HD');
  }
  let won = false;
  let ttlSet = false;
  for (let i = 2; i < t.ntokens - 1; i++) {
    switch (buf[t.start[i]!]) {
      case 0x54: // T
        ttlSet = true;
        cache.setItemTtl(id, f.ttl);
        break;
      case 0x4e: // N
        if (created) {
          cache.setItemTtl(id, f.vivifyTtl);
          won = true;
        }
        break;
      case 0x52: {
        // R: a TTL below the token wins the recache, once
        const exp = cache.itemExptime(id);
        if ((cache.itemIflags(id) & IF_WIN_SENT) === 0 && !created && exp !== 0 && exp < cache.absoluteExptime(f.recacheTtl)) {
          won = true;
        }
        break;
      }
      case 0x73: // s
        putNumber(out, 's', nbytes);
        break;
      case 0x74: {
        // t: TTL left; memcached prints it as uint32, so a past expiry wraps
        const exp = cache.itemExptime(id);
        if (exp === 0) out.ascii(' t-1');
        else putNumber(out, 't', (exp - now) >>> 0);
        break;
      }
      case 0x63: // c
        putNumber(out, 'c', cache.itemCas(id));
        break;
      case 0x66: // f
        putNumber(out, 'f', cache.itemFlags(id));
        break;
      case 0x6c: // l
        putNumber(out, 'l', (now - cache.itemTime(id)) >>> 0);
        break;
      case 0x68: // h
        out.ascii((cache.itemIflags(id) & IF_FETCHED) !== 0 ? ' h1' : ' h0');
        break;
      case 0x4f: // O
        if (t.len[i]! > MAX_OPAQUE) {
          // memcached bails out here: no bump, no win, no stats
          fail(s, mark, ERR_OPAQUE);
          return next;
        }
        putOpaque(out, buf, t, i);
        break;
      case 0x6b: {
        // k: the stored key, re-encoded only if it was stored from a base64 key
        const klen = cache.copyKey(id, itemKey, 0);
        putKey(out, itemKey, 0, klen, (cache.itemIflags(id) & IF_KEY_BINARY) !== 0);
        break;
      }
    }
  }
  const iflags = cache.itemIflags(id);
  // Z before W so a client never sees both (protocol.txt, "Meta Get")
  if ((iflags & IF_WIN_SENT) !== 0) out.ascii(' Z');
  if ((iflags & IF_STALE) !== 0) {
    out.ascii(' X');
    if ((iflags & IF_WIN_SENT) === 0) won = true;
  }
  if (won) {
    out.ascii(' W');
    cache.markWinSent(id);
  }
  out.raw(CRLF);
  if (f.value) {
    if (nbytes >= PINNED_VALUE) {
      // sent from the item's chunks, not copied (output.ts)
      out.pinValue(cache, id);
    } else {
      out.ensure(nbytes + 2);
      out.pos = cache.copyValueToView(id, out.view, out.pos);
    }
    out.raw(CRLF);
  }
  if (f.locked && !f.noUpdate) cache.touchAccess(id);
  cache.countMetaGet(id, ttlSet);
  return next;
}

function miss(s: TextState, buf: Buffer, t: Tokens, next: number, cache: CacheApi): number {
  cache.countMetaGet(NONE, false);
  const out = s.out;
  const mark = out.mark();
  out.ascii('EN');
  if (!putOpaqueAndKey(out, buf, t, 2, f.key, f.keyOff, f.keyLen, f.keyBinary)) {
    fail(s, mark, ERR_OPAQUE);
    return next;
  }
  out.raw(CRLF);
  // q hides only the miss (in 1.6.18 a hit still answers)
  if (s.noreply) out.rewind(mark);
  return next;
}

/** A flag letter among the request's flags. */
function hasFlag(buf: Buffer, t: Tokens, letter: number): boolean {
  for (let i = 2; i < t.ntokens - 1; i++) if (buf[t.start[i]!] === letter) return true;
  return false;
}
