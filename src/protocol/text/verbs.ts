// The text protocol's one dispatch table: verb -> handler.
import { cacheMemlimit, flushAll, quit, shutdown, slabs, verbosity, version } from './admin.js';
import type { Handler } from './handler.js';
import { decr, del, incr, touch } from './keyed.js';
import { metaHandlers } from './meta/commands.js';
import { lru, lruCrawler, watch } from './maintenance.js';
import { gat, gats, get, gets } from './retrieval.js';
import { stats } from './stats.js';
import { add, append, cas, prepend, replace, set } from './storage.js';

export const VERBS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['get', get],
  ['set', set],
  ['gets', gets],
  ['gat', gat],
  ['gats', gats],
  ['bget', get],
  ['add', add],
  ['replace', replace],
  ['append', append],
  ['prepend', prepend],
  ['cas', cas],
  ['delete', del],
  ['incr', incr],
  ['decr', decr],
  ['touch', touch],
  ['flush_all', flushAll],
  ['version', version],
  ['verbosity', verbosity],
  ['quit', quit],
  ['shutdown', shutdown],
  ['cache_memlimit', cacheMemlimit],
  ['stats', stats],
  ['slabs', slabs],
  ['lru', lru],
  ['lru_crawler', lruCrawler],
  ['watch', watch],
  ...metaHandlers,
]);
