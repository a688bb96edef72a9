// /store/<location>: a REST blob store on the cache. Each method is one cache request and
// its outcome turned into a status: POST = add, PUT = set (or cas with If-Match, add with
// If-None-Match: *), GET/HEAD = get, DELETE = delete. A body is stored only once it has fully
// arrived, and only if it fits -I (checked before reading when Content-Length is given).
// Bodies are not copied on the way: an upload's chunks go into the item as they arrived, and
// a GET is sent from the slab pages in slices as the client reads (value-stream.ts).
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { NONE, OpStatus, Outcome, StoreMode, StoreRequest } from '../../cache/api.js';
import type { HttpContext } from './context.js';
import { readBody } from './body.js';
import { sendValue } from './value-stream.js';
import { etagOf, parseEtags, parseFlags, parseRange, parseTtl, type EtagCondition } from './headers.js';
import { afterChange, earlyReply, refusesWrites, reply } from './reply.js';

export const STORE_METHODS = 'GET, HEAD, PUT, POST, DELETE';

/** Serve one /store request for `key` (already checked by keys.ts). */
export function handleStore(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, key: Buffer): void {
  switch (req.method) {
    case 'GET':
    case 'HEAD':
      return read(ctx, req, res, key);
    case 'PUT':
    case 'POST':
      return write(ctx, req, res, key);
    case 'DELETE':
      return remove(ctx, req, res, key);
    default:
      earlyReply(ctx, req, res, 405, `${req.method ?? ''} is not allowed on /store/`, { Allow: STORE_METHODS });
  }
}

function read(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, key: Buffer): void {
  const cache = ctx.cache;
  const cond = parseEtags(req.headers, 'if-none-match');
  if (cond.error !== null) return reply(ctx, res, 400, cond.error);
  const id = cache.get(key, 0, key.length);
  if (id === NONE) return reply(ctx, res, 404, 'not found');
  const size = cache.itemValueLength(id);
  const flags = cache.itemFlags(id);
  const etag = cache.options.useCas ? etagOf(cache.itemCas(id)) : null;
  const headers: OutgoingHttpHeaders = { 'X-Memcached-Flags': String(flags), 'Accept-Ranges': 'bytes' };
  if (etag !== null) headers.ETag = etag;
  if (cond.value !== null && matches(cond.value, cache.itemCas(id), etag !== null)) {
    ctx.counters.count(304);
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const range = parseRange(req.headers, size, etag);
  if (range === 'unsatisfiable') {
    return reply(ctx, res, 416, 'range not satisfiable', { ...headers, 'Content-Range': `bytes */${size}` });
  }
  headers['Content-Type'] = 'application/octet-stream';
  let status = 200;
  let start = 0;
  let end = size;
  if (range !== null) {
    status = 206;
    start = range.start;
    end = range.end + 1;
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
  }
  headers['Content-Length'] = end - start;
  ctx.counters.count(status);
  res.writeHead(status, headers);
  // from the slab pages in slices, now (the ItemId is valid until the next change) and as the client reads
  sendValue(ctx, res, key, id, start, end);
}

function matches(cond: EtagCondition, cas: number, hasEtag: boolean): boolean {
  if (cond.any) return true;
  return hasEtag && cond.cases.includes(cas);
}

function write(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, key: Buffer): void {
  const cache = ctx.cache;
  if (refusesWrites(ctx, req, res)) return;
  const flags = parseFlags(req.headers);
  if (flags.error !== null) return earlyReply(ctx, req, res, 400, flags.error);
  const ttl = parseTtl(req.headers, cache.clock.now());
  if (ttl.error !== null) return earlyReply(ctx, req, res, 400, ttl.error);
  const ifMatch = parseEtags(req.headers, 'if-match');
  if (ifMatch.error !== null) return earlyReply(ctx, req, res, 400, ifMatch.error);
  const ifNone = parseEtags(req.headers, 'if-none-match');
  if (ifNone.error !== null) return earlyReply(ctx, req, res, 400, ifNone.error);
  if (ifNone.value !== null && !ifNone.value.any) return earlyReply(ctx, req, res, 400, 'If-None-Match on a write must be *');
  if (ifMatch.value !== null && !ifMatch.value.any && ifMatch.value.cases.length !== 1) {
    return earlyReply(ctx, req, res, 400, 'If-Match on a write takes one ETag');
  }
  const post = req.method === 'POST';
  const conditional = ifMatch.value !== null || ifNone.value !== null;
  const fits = (length: number): boolean => cache.fits(key.length, length, flags.value);
  const declared = req.headers['content-length'];
  if (declared !== undefined && !fits(Number(declared))) {
    return earlyReply(ctx, req, res, 413, `a body of ${declared} bytes does not fit the largest item (-I ${cache.options.itemSizeMax})`);
  }
  // answer what is already decided before the body is sent (checked again when it arrives)
  const existing = cache.find(key, 0, key.length);
  if (ifNone.value !== null && existing !== NONE) return earlyReply(ctx, req, res, 412, 'the key exists (If-None-Match: *)');
  if (post && !conditional && existing !== NONE) return earlyReply(ctx, req, res, 409, 'the key exists; PUT replaces');
  if (ifMatch.value !== null) {
    const wanted = ifMatch.value.any ? null : ifMatch.value.cases[0]!;
    if (existing === NONE || (wanted !== null && cache.itemCas(existing) !== wanted)) {
      return earlyReply(ctx, req, res, 412, 'the item changed or is gone (If-Match)');
    }
  }
  // Expect: 100-continue: the client waits for this before it sends the body
  if (req.headers.expect?.toLowerCase() === '100-continue') res.writeContinue();
  readBody(req, fits, {
    tooLarge: () => earlyReply(ctx, req, res, 413, `the body does not fit the largest item (-I ${cache.options.itemSizeMax})`),
    done: (chunks, length) => {
      if (refusesWrites(ctx, req, res)) return;
      const r = new StoreRequest();
      r.key = key;
      r.kLen = key.length;
      r.flags = flags.value;
      r.exptime = ttl.value;
      // one chunk is the value; several are written into the item in turn (never joined)
      if (chunks.length > 1) r.chunks = chunks;
      else if (chunks.length === 1) r.value = chunks[0]!;
      r.vLen = length;
      if (ifMatch.value !== null) {
        r.mode = ifMatch.value.any ? StoreMode.Replace : StoreMode.Cas;
        r.cas = ifMatch.value.any ? 0 : ifMatch.value.cases[0]!;
      } else {
        r.mode = post || ifNone.value !== null ? StoreMode.Add : StoreMode.Set;
      }
      const existed = cache.find(key, 0, key.length) !== NONE;
      const st = new OpStatus();
      afterChange(ctx, res, () => {
        const outcome = cache.store(r, st);
        return () => storeReply(ctx, req, res, outcome, { existed, post, conditional, cas: st.cas });
      });
    },
  });
}

interface StoreFacts {
  existed: boolean;
  post: boolean;
  conditional: boolean;
  cas: number;
}

function storeReply(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, outcome: Outcome, f: StoreFacts): void {
  switch (outcome) {
    case Outcome.Stored: {
      const headers: OutgoingHttpHeaders = ctx.cache.options.useCas ? { ETag: etagOf(f.cas) } : {};
      if (f.existed) return reply(ctx, res, 204, '', headers);
      return reply(ctx, res, 201, '', { ...headers, Location: req.url ?? '' });
    }
    case Outcome.NotStored:
      if (f.post && !f.conditional) return reply(ctx, res, 409, 'the key exists; PUT replaces');
      return reply(ctx, res, 412, f.existed ? 'the key exists (If-None-Match: *)' : 'the key is gone (If-Match)');
    case Outcome.Exists:
    case Outcome.NotFound:
      return reply(ctx, res, 412, 'the item changed or is gone (If-Match)');
    case Outcome.TooLarge:
      return reply(ctx, res, 413, `the body does not fit the largest item (-I ${ctx.cache.options.itemSizeMax})`);
    case Outcome.NoMemory:
      return reply(ctx, res, 507, 'out of memory: -M forbids evicting items to make room');
    default:
      return reply(ctx, res, 500, `unexpected outcome ${outcome}`);
  }
}

function remove(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, key: Buffer): void {
  if (refusesWrites(ctx, req, res)) return;
  const ifMatch = parseEtags(req.headers, 'if-match');
  if (ifMatch.error !== null) return earlyReply(ctx, req, res, 400, ifMatch.error);
  if (ifMatch.value !== null && !ifMatch.value.any && ifMatch.value.cases.length !== 1) {
    return earlyReply(ctx, req, res, 400, 'If-Match on DELETE takes one ETag');
  }
  const cas = ifMatch.value === null || ifMatch.value.any ? 0 : ifMatch.value.cases[0]!;
  // a CAS of 0 is memcached's "no CAS": an ETag of "0" (a server with -C) never matches
  if (ifMatch.value !== null && !ifMatch.value.any && cas === 0) return earlyReply(ctx, req, res, 412, 'the item changed or is gone (If-Match)');
  afterChange(ctx, res, () => {
    const outcome = ctx.cache.delete(key, 0, key.length, cas);
    return () => {
      if (outcome === Outcome.Deleted) return reply(ctx, res, 204, '');
      if (outcome === Outcome.NotFound && ifMatch.value === null) return reply(ctx, res, 404, 'not found');
      return reply(ctx, res, 412, 'the item changed or is gone (If-Match)');
    };
  });
}
