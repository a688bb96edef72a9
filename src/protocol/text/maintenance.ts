// memcached's tuning and introspection commands: `lru`, `lru_crawler`, `watch`. `lru tune` and
// `lru mode` change the segmented LRU's settings (the cache's LruTuning); `lru temp_ttl` is
// validated and acknowledged only (no TEMP LRU here). Replies follow proto_text.c of 1.6.18.
import { parseInt32, parseU64 } from '../../cache/numbers.js';
import { continueDump, TextDump } from './dump.js';
import type { Handler } from './handler.js';
import { R } from './replies.js';
import { watchFlags } from '../../logging/event-flags.js';

const isNumber = (s: string): boolean => s.length > 0 && Number.isFinite(Number(s));

export const lru: Handler = (s, buf, t, next) => {
  if (t.ntokens < 3) {
    s.out.raw(R.ERROR);
    return next;
  }
  s.checkNoreply(buf);
  if (t.is(buf, 1, 'tune') && t.ntokens >= 7) {
    const hot = parseU64(buf, t.start[2]!, t.len[2]!);
    const warm = parseU64(buf, t.start[3]!, t.len[3]!);
    const hotFactor = t.text(buf, 4);
    const warmFactor = t.text(buf, 5);
    if (hot === null || warm === null || !isNumber(hotFactor) || !isNumber(warmFactor)) s.reply(R.ERROR);
    else if (hot + warm > 80n) s.replyText('ERROR hot and warm pcts must not exceed 80');
    else if (Number(hotFactor) <= 0 || Number(warmFactor) <= 0) s.replyText('ERROR hot/warm age factors must be greater than 0');
    else {
      const tuning = s.ctx.cache.lruTuning;
      tuning.hotPct = Number(hot);
      tuning.warmPct = Number(warm);
      tuning.hotMaxFactor = Number(hotFactor);
      tuning.warmMaxFactor = Number(warmFactor);
      s.reply(R.OK);
    }
  } else if (t.is(buf, 1, 'mode') && t.ntokens >= 4 && s.ctx.cache.lruTuning.maintainer) {
    const flat = t.is(buf, 2, 'flat');
    if (flat || t.is(buf, 2, 'segmented')) {
      s.ctx.cache.lruTuning.segmented = !flat;
      s.reply(R.OK);
    } else s.reply(R.ERROR);
  } else if (t.is(buf, 1, 'temp_ttl') && t.ntokens >= 4 && s.ctx.cache.lruTuning.maintainer) {
    s.reply(parseInt32(buf, t.start[2]!, t.len[2]!) === null ? R.ERROR : R.OK);
  } else {
    s.reply(R.ERROR);
  }
  return next;
};

export const lruCrawler: Handler = (s, buf, t, next) => {
  const { cache, config } = s.ctx;
  if (t.ntokens === 4 && t.is(buf, 1, 'crawl')) {
    const arg = t.text(buf, 2);
    const classes = cache.slabs.geometry.sizes.length;
    const ids = arg === 'all' ? [] : arg.split(',').map(Number);
    if (ids.some((n) => !Number.isInteger(n) || n < 1 || n >= classes)) s.out.ascii('BADCLASS invalid class id\r\n');
    else {
      s.ctx.server.crawl?.(ids);
      s.out.raw(R.OK);
    }
    return next;
  }
  if (t.ntokens === 4 && t.is(buf, 1, 'metadump')) {
    // the same line again: the dump it began goes on
    if (s.dump !== null) return continueDump(s, next);
    if (config.dumpDisabled) {
      s.out.ascii('ERROR metadump not allowed\r\n');
      return next;
    }
    // memcached streams the dump itself, so replies still queued from the same read forbid it
    if (s.out.pending > 0) {
      s.out.ascii('ERROR cannot pipeline other commands before metadump\r\n');
      return next;
    }
    const arg = t.text(buf, 2);
    const classes = cache.slabs.geometry.sizes.length;
    const ids = arg === 'all' ? Array.from({ length: classes - 1 }, (_, i) => i + 1) : arg.split(',').map(Number);
    if (ids.some((n) => !Number.isInteger(n) || n < 1 || n >= classes)) {
      s.out.ascii('BADCLASS invalid class id\r\n');
      return next;
    }
    s.dump = TextDump.metadump(cache, ids);
    return continueDump(s, next);
  }
  if (t.ntokens === 4 && (t.is(buf, 1, 'tocrawl') || t.is(buf, 1, 'sleep'))) {
    const v = parseU64(buf, t.start[2]!, t.len[2]!);
    if (v === null) s.out.raw(R.BAD_FORMAT);
    else if (t.is(buf, 1, 'sleep') && v > 1000000n) s.out.ascii('CLIENT_ERROR sleep must be one second or less\r\n');
    else s.out.raw(R.OK);
    return next;
  }
  if (t.ntokens === 3 && (t.is(buf, 1, 'enable') || t.is(buf, 1, 'disable'))) {
    s.out.raw(R.OK);
    return next;
  }
  s.out.raw(R.ERROR);
  return next;
};

/**
 * `watch [kind ...]`: the connection becomes a stream of log lines of the kinds asked for
 * (fetchers when none is named), as memcached 1.6.18's process_watch_command(). Its later
 * input is read and ignored, as memcached's watcher connections ignore it.
 */
export const watch: Handler = (s, buf, t, next) => {
  s.checkNoreply(buf);
  if (s.ctx.config.watchDisabled) {
    s.reply(R.WATCH_DISABLED);
    return next;
  }
  if (s.out.pending > 0) {
    s.replyText('ERROR cannot pipeline other commands before watch');
    return next;
  }
  const words: string[] = [];
  for (let i = 1; i < t.ntokens - 1; i++) words.push(t.text(buf, i));
  const flags = watchFlags(words);
  if (flags < 0) {
    s.reply(R.ERROR);
    return next;
  }
  const answer = s.ctx.server.watch?.(s.ctx, flags) ?? 'failed';
  if (answer === 'too_many') s.replyText('WATCHER_TOO_MANY log watcher limit reached');
  else if (answer === 'failed') s.replyText('WATCHER_FAILED failed to add log watcher');
  else {
    s.out.raw(R.OK);
    s.watching = true;
  }
  return next;
};
