// `stats [group]` over the text protocol: STAT lines then END, or memcached's error for a
// group it does not know.
import { parseU64 } from '../../cache/numbers.js';
import {
  connsStats,
  generalStats,
  itemsStats,
  sizesStats,
  slabsStats,
  type StatLines,
} from '../stats-report.js';
import { continueDump, TextDump } from './dump.js';
import type { Handler, TextState } from './handler.js';
import { R } from './replies.js';

function sendStats(s: TextState, lines: StatLines): void {
  const out = s.out;
  for (const [k, v] of lines) out.ascii(`STAT ${k} ${v}\r\n`);
  out.raw(R.END);
}

export const stats: Handler = (s, buf, t, next) => {
  const { cache, config, server } = s.ctx;
  if (t.ntokens === 2) {
    sendStats(s, generalStats(cache, config, server));
    return next;
  }
  const sub = t.text(buf, 1);
  switch (sub) {
    case 'reset':
      cache.resetStats();
      cache.clearDetail();
      server.resetStats();
      s.out.raw(R.RESET);
      return next;
    case 'detail': {
      const arg = t.ntokens < 4 ? '' : t.text(buf, 2);
      if (arg === 'on' || arg === 'off') {
        cache.setDetail(arg === 'on');
        s.out.raw(R.OK);
      } else if (arg === 'dump') s.out.ascii(cache.detailDump());
      else s.out.raw(R.DETAIL_USAGE);
      return next;
    }
    case 'settings':
      sendStats(s, server.settingsStats());
      return next;
    case 'cachedump':
      return cachedump(s, buf, t.ntokens, t.start, t.len, next);
    case 'conns':
      sendStats(s, connsStats(server));
      return next;
    case 'items':
      sendStats(s, itemsStats(cache));
      return next;
    case 'slabs':
      sendStats(s, slabsStats(cache));
      return next;
    case 'sizes':
      sendStats(s, sizesStats(cache, config));
      return next;
    default:
      s.out.raw(R.ERROR);
      return next;
  }
};

/**
 * `stats cachedump <class> <limit>`: ITEM lines from the head of a class's LRU, at most
 * `limit` (0: no limit) and 2 MiB as memcached's item_cachedump(), sent in slices (dump.ts).
 */
function cachedump(s: TextState, buf: Buffer, ntokens: number, start: Int32Array, len: Int32Array, next: number): number {
  // the same line again: the dump it began goes on
  if (s.dump !== null) return continueDump(s, next);
  if (s.ctx.config.dumpDisabled) {
    s.out.raw(R.CACHEDUMP_DISABLED);
    return next;
  }
  if (ntokens < 5) {
    s.out.raw(R.BAD_LINE);
    return next;
  }
  const id = parseU64(buf, start[2]!, len[2]!);
  const limit = parseU64(buf, start[3]!, len[3]!);
  if (id === null || limit === null) {
    s.out.raw(R.BAD_FORMAT);
    return next;
  }
  if (id >= 64n) {
    s.out.raw(R.ILLEGAL_SLAB);
    return next;
  }
  s.dump = TextDump.cachedump(s.ctx.cache, Number(id), Number(limit & 0xffffffffn));
  return continueDump(s, next);
}
