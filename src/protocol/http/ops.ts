// Operations endpoints: GET /healthz (200 while serving, 503 while stopping) and GET /stats
// (the `stats` groups as JSON: numbers where memcached prints numbers).
import type { ServerResponse } from 'node:http';
import { generalStats, itemsStats, slabsStats, type StatLines } from '../stats-report.js';
import type { HttpContext } from './context.js';
import { reply } from './reply.js';

export function handleHealth(ctx: HttpContext, res: ServerResponse): void {
  if (ctx.state() !== 'serving') return reply(ctx, res, 503, 'stopping', { 'Retry-After': '1' });
  reply(ctx, res, 200, 'ok');
}

function toObject(lines: StatLines): Record<string, string | number> {
  const o: Record<string, string | number> = {};
  for (const [k, v] of lines) o[k] = /^-?\d+(\.\d+)?$/.test(v) && Number.isFinite(Number(v)) ? Number(v) : v;
  return o;
}

export function handleStats(ctx: HttpContext, res: ServerResponse): void {
  const c = ctx.counters;
  const body = JSON.stringify({
    stats: toObject([...generalStats(ctx.cache, ctx.config, ctx.server), ...ctx.server.extraStats()]),
    settings: toObject(ctx.server.settingsStats()),
    items: toObject(itemsStats(ctx.cache)),
    slabs: toObject(slabsStats(ctx.cache)),
    http: {
      curr_connections: c.currConnections,
      total_connections: c.totalConnections,
      rejected_connections: c.rejectedConnections,
      changes_not_durable: c.notDurable,
      aborted_bodies: c.abortedBodies,
      responses: Object.fromEntries(c.responses),
    },
  });
  ctx.counters.count(200);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
