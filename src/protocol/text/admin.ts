// Server-wide text commands: flush_all, version, verbosity, quit, shutdown, cache_memlimit,
// slabs. Replies and argument rules as memcached 1.6.18's proto_text.c.
import { parseInt32, parseU64 } from '../../cache/numbers.js';
import { MoveResult } from '../../cache/page-mover.js';
import { VERSION } from '../../version.js';
import { CLOSE } from '../types.js';
import type { Handler } from './handler.js';
import { refusesWrites } from './refusal.js';
import { R } from './replies.js';

const VERSION_LINE = Buffer.from(`VERSION ${VERSION}\r\n`, 'latin1');
const MB = 1024 * 1024;

/** strtoul into uint32 with memcached's checks; -1 when refused. */
function parseU32(buf: Buffer, off: number, len: number): number {
  const v = parseU64(buf, off, len);
  return v === null ? -1 : Number(v & 0xffffffffn);
}

export const flushAll: Handler = (s, buf, t, next) => {
  if (t.ntokens < 2 || t.ntokens > 4) {
    s.out.raw(R.ERROR);
    return next;
  }
  const noreply = s.checkNoreply(buf);
  const cache = s.ctx.cache;
  if (!s.ctx.config.flushEnabled) {
    cache.countRefusedFlush(); // counted even when refused, as memcached does
    s.reply(R.FLUSH_DISABLED);
    return next;
  }
  let delay = 0;
  if (t.ntokens !== (noreply ? 3 : 2)) {
    const d = parseInt32(buf, t.start[1]!, t.len[1]!);
    if (d === null) {
      cache.countRefusedFlush();
      s.reply(R.BAD_EXPTIME);
      return next;
    }
    delay = d;
  }
  if (refusesWrites(s)) return next;
  cache.flushAll(delay);
  s.reply(R.OK);
  return next;
};

export const version: Handler = (s, _buf, _t, next) => {
  s.out.raw(VERSION_LINE);
  return next;
};

export const verbosity: Handler = (s, buf, t, next) => {
  if (t.ntokens !== 3 && t.ntokens !== 4) {
    s.out.raw(R.ERROR);
    return next;
  }
  s.checkNoreply(buf);
  const level = parseU32(buf, t.start[1]!, t.len[1]!);
  if (level < 0) {
    s.reply(R.BAD_FORMAT);
    return next;
  }
  s.ctx.config.verbosity = Math.min(level, 2);
  s.reply(R.OK);
  return next;
};

export const quit: Handler = (s) => {
  // a close the client asked for (memcached's NORMAL_CLOSE in `watch connevents`)
  s.ctx.closeAfterWrite = true;
  return CLOSE;
};

export const shutdown: Handler = (s, buf, t, next) => {
  if (!s.ctx.config.shutdownEnabled) {
    s.out.raw(R.SHUTDOWN_DISABLED);
    return next;
  }
  if (t.ntokens === 2) {
    s.ctx.server.shutdown(false);
    return CLOSE;
  }
  if (t.ntokens === 3 && t.is(buf, 1, 'graceful')) {
    s.ctx.server.shutdown(true);
    return CLOSE;
  }
  s.out.raw(R.SHUTDOWN_MODE);
  return next;
};

export const cacheMemlimit: Handler = (s, buf, t, next) => {
  if (t.ntokens !== 3 && t.ntokens !== 4) {
    s.out.raw(R.ERROR);
    return next;
  }
  s.checkNoreply(buf);
  const mb = parseU32(buf, t.start[1]!, t.len[1]!);
  if (mb < 0) s.reply(R.ERROR);
  else if (mb < 8) s.reply(R.MEMLIMIT_SMALL);
  else if (mb > 1000000000) s.reply(R.MEMLIMIT_UNITS);
  else {
    s.ctx.cache.setMemoryLimit(mb * MB);
    s.ctx.config.memoryLimit = mb * MB;
    s.reply(R.OK);
  }
  return next;
};

/**
 * `slabs reassign <src> <dst>` moves one page, with memcached's replies (src -1: from any
 * class with a page to spare; dst 0: to the global pool, for whichever class next needs a
 * page). `slabs automove` sets the automover's level.
 */
export const slabs: Handler = (s, buf, t, next) => {
  if (t.ntokens === 5 && t.is(buf, 1, 'reassign')) {
    if (!s.ctx.config.slabReassign) {
      s.replyText('CLIENT_ERROR slab reassignment disabled');
      return next;
    }
    const src = parseInt32(buf, t.start[2]!, t.len[2]!);
    const dst = parseInt32(buf, t.start[3]!, t.len[3]!);
    if (src === null || dst === null) {
      s.out.raw(R.BAD_FORMAT);
      return next;
    }
    switch (s.ctx.cache.reassign(src, dst)) {
      case MoveResult.Ok:
        s.reply(R.OK);
        break;
      case MoveResult.Same:
        s.replyText('SAME src and dst class are identical');
        break;
      case MoveResult.BadClass:
        s.replyText('BADCLASS invalid src or dst class id');
        break;
      case MoveResult.Busy:
        s.replyText('BUSY currently processing reassign request');
        break;
      default:
        s.replyText('NOSPARE source class has no spare pages');
    }
    return next;
  }
  if (t.ntokens >= 4 && t.is(buf, 1, 'automove')) {
    s.checkNoreply(buf);
    if (t.is(buf, 2, 'ratio')) {
      const ratio = t.ntokens >= 5 ? Number(t.text(buf, 3)) : Number.NaN;
      const ok = Number.isFinite(ratio);
      if (ok) s.ctx.config.slabAutomoveRatio = ratio;
      s.reply(ok ? R.OK : R.ERROR);
      return next;
    }
    const level = parseU32(buf, t.start[2]!, t.len[2]!);
    if (level < 0) s.reply(R.BAD_FORMAT);
    else if (level > 2) s.reply(R.ERROR);
    else {
      s.ctx.config.slabAutomove = level;
      s.reply(R.OK);
    }
    return next;
  }
  s.out.raw(R.ERROR);
  return next;
};
