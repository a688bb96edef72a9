// The HTTP front's one dispatch table: path -> handler, with the methods each allows. It sees
// requests and responses, never sockets (the listener is src/server/http-server.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpContext } from './context.js';
import { authorized, CHALLENGE } from './auth.js';
import { handleStore } from './blob-store.js';
import { pathKey } from './keys.js';
import { renderMetrics } from './metrics.js';
import { handleHealth, handleStats } from './ops.js';
import { earlyReply } from './reply.js';
import { handleGet, handleSet } from './simple-api.js';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

const STORE_PREFIX = '/store/';
const READ_ONLY = 'GET, HEAD';

type Route = (ctx: HttpContext, req: IncomingMessage, res: ServerResponse, query: string) => void;

const ROUTES = new Map<string, Route>([
  ['/set', (ctx, req, res, q) => handleSet(ctx, req, res, q)],
  ['/get', (ctx, _req, res, q) => handleGet(ctx, res, q)],
  ['/healthz', (ctx, _req, res) => handleHealth(ctx, res)],
  ['/stats', (ctx, _req, res) => handleStats(ctx, res)],
  [
    '/metrics',
    (ctx, _req, res) => {
      const body = renderMetrics(ctx);
      ctx.counters.count(200);
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    },
  ],
]);

export function createHttpHandler(ctx: HttpContext): HttpHandler {
  return (req, res) => {
    try {
      route(ctx, req, res);
    } catch (err) {
      // a fault of the server in one request: that request gets a 500, the daemon goes on
      ctx.log.warn(`http: internal error: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) earlyReply(ctx, req, res, 500, 'internal error', { Connection: 'close' });
      else res.destroy();
    }
  };
}

function route(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): void {
  if (ctx.config.authFile !== null) {
    const ok = authorized(ctx.config.authFile, req);
    ctx.cache.countAuth(!ok);
    if (!ok) return earlyReply(ctx, req, res, 401, 'authentication required', { 'WWW-Authenticate': CHALLENGE });
  }
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);
  if (path.startsWith(STORE_PREFIX)) {
    const k = pathKey(path.slice(STORE_PREFIX.length));
    if (k.error !== null) return earlyReply(ctx, req, res, 400, k.error);
    return handleStore(ctx, req, res, k.key);
  }
  const handler = ROUTES.get(path);
  if (handler === undefined) return earlyReply(ctx, req, res, 404, 'no such endpoint');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return earlyReply(ctx, req, res, 405, `${req.method ?? ''} is not allowed on ${path}`, { Allow: READ_ONLY });
  }
  handler(ctx, req, res, query);
}
