// The "Simple DB" API: GET /set?<key>=<value> stores, GET /get?key=<key> reads. The query is
// form-decoded (`+` is a space), as the brief's Python parse_qs does, and must be exactly one
// pair. The keys are the memcached keys every other front uses.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NONE, OpStatus, Outcome, StoreMode, StoreRequest } from '../../cache/api.js';
import type { HttpContext } from './context.js';
import { checkKey } from './keys.js';
import { afterChange, refusesWrites, reply } from './reply.js';
import { sendValue } from './value-stream.js';

/** The one `name=value` pair of a query string, or why not. */
function onePair(query: string): { name: string; value: string } | string {
  const parts = query.split('&').filter((p) => p !== '');
  if (parts.length !== 1) return `the query must be exactly one name=value pair (got ${parts.length})`;
  const part = parts[0]!;
  const eq = part.indexOf('=');
  if (eq < 0) return 'the query must be exactly one name=value pair (no "=")';
  const params = new URLSearchParams(part);
  const [entry] = [...params.entries()];
  if (entry === undefined) return 'the query must be exactly one name=value pair';
  return { name: entry[0], value: entry[1] };
}

export function handleSet(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, query: string): void {
  const pair = onePair(query);
  if (typeof pair === 'string') return reply(ctx, res, 400, pair);
  const k = checkKey(Buffer.from(pair.name, 'utf8'));
  if (k.error !== null) return reply(ctx, res, 400, k.error);
  if (refusesWrites(ctx, req, res)) return;
  const value = Buffer.from(pair.value, 'utf8');
  const cache = ctx.cache;
  if (!cache.fits(k.key.length, value.length, 0)) return reply(ctx, res, 413, `the value does not fit the largest item (-I ${cache.options.itemSizeMax})`);
  const r = new StoreRequest();
  r.mode = StoreMode.Set;
  r.key = k.key;
  r.kLen = k.key.length;
  r.value = value;
  r.vLen = value.length;
  afterChange(ctx, res, () => {
    const outcome = cache.store(r, new OpStatus());
    return () => {
      if (outcome === Outcome.Stored) return reply(ctx, res, 200, '');
      if (outcome === Outcome.NoMemory) return reply(ctx, res, 507, 'out of memory: -M forbids evicting items to make room');
      if (outcome === Outcome.TooLarge) return reply(ctx, res, 413, `the value does not fit the largest item (-I ${cache.options.itemSizeMax})`);
      return reply(ctx, res, 500, `unexpected outcome ${outcome}`);
    };
  });
}

export function handleGet(ctx: HttpContext, res: ServerResponse, query: string): void {
  const pair = onePair(query);
  if (typeof pair === 'string') return reply(ctx, res, 400, pair);
  if (pair.name !== 'key') return reply(ctx, res, 400, `the query must be key=<key> (got ${JSON.stringify(pair.name)})`);
  const k = checkKey(Buffer.from(pair.value, 'utf8'));
  if (k.error !== null) return reply(ctx, res, 400, k.error);
  const cache = ctx.cache;
  const id = cache.get(k.key, 0, k.key.length);
  // the brief: a missing key is a 404 with an empty body
  if (id === NONE) return reply(ctx, res, 404, '');
  const size = cache.itemValueLength(id);
  ctx.counters.count(200);
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': size });
  sendValue(ctx, res, k.key, id, 0, size);
}
