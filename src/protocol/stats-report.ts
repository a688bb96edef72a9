// The `stats` groups as (name, value) lists, with memcached 1.6.18's names and order, shared
// by the text and binary encodings.
import { NONE } from '../cache/item.js';
import { COLD, HOT, lruOf, WARM } from '../cache/lru-segment.js';
import type { CacheApi as Cache } from '../cache/api.js';
import type { Config } from '../config/config.js';
import { RUNTIME_ID, VERSION } from '../version.js';
import type { ServerInfo } from './types.js';

export type StatLines = Array<[string, string]>;

function rusage(micros: number): string {
  const s = Math.floor(micros / 1e6);
  return `${s}.${String(Math.floor(micros % 1e6)).padStart(6, '0')}`;
}

export function generalStats(cache: Cache, config: Config, server: ServerInfo): StatLines {
  const s = cache.stats;
  const now = cache.clock.now();
  const ru = process.resourceUsage();
  const lines: StatLines = [
    ['pid', String(server.pid)],
    ['uptime', String(Math.max(0, now - server.startedAt))],
    ['time', String(now)],
    ['version', VERSION],
    ['libevent', RUNTIME_ID],
    ['pointer_size', '64'],
    ['rusage_user', rusage(ru.userCPUTime)],
    ['rusage_system', rusage(ru.systemCPUTime)],
    ['max_connections', String(config.maxConnections)],
    ['curr_connections', String(server.currConnections)],
    ['total_connections', String(server.totalConnections)],
    ['rejected_connections', String(server.rejectedConnections)],
    ['connection_structures', String(server.connectionStructures)],
    ['response_obj_oom', '0'],
    ['response_obj_count', '1'],
    ['response_obj_bytes', '65536'],
    ['read_buf_count', String(server.currConnections)],
    ['read_buf_bytes', '0'],
    ['read_buf_bytes_free', '0'],
    ['read_buf_oom', '0'],
    ['reserved_fds', '20'],
    ['cmd_get', String(s.cmd_get)],
    ['cmd_set', String(s.cmd_set)],
    ['cmd_flush', String(s.cmd_flush)],
    ['cmd_touch', String(s.cmd_touch)],
    ['cmd_meta', String(s.cmd_meta)],
    ['get_hits', String(s.get_hits)],
    ['get_misses', String(s.get_misses)],
    ['get_expired', String(s.get_expired)],
    ['get_flushed', String(s.get_flushed)],
    ['delete_misses', String(s.delete_misses)],
    ['delete_hits', String(s.delete_hits)],
    ['incr_misses', String(s.incr_misses)],
    ['incr_hits', String(s.incr_hits)],
    ['decr_misses', String(s.decr_misses)],
    ['decr_hits', String(s.decr_hits)],
    ['cas_misses', String(s.cas_misses)],
    ['cas_hits', String(s.cas_hits)],
    ['cas_badval', String(s.cas_badval)],
    ['touch_hits', String(s.touch_hits)],
    ['touch_misses', String(s.touch_misses)],
    ['store_too_large', String(s.store_too_large)],
    ['store_no_memory', String(s.store_no_memory)],
    ['auth_cmds', String(s.auth_cmds)],
    ['auth_errors', String(s.auth_errors)],
  ];
  if (config.idleTimeout > 0) lines.push(['idle_kicks', String(server.idleKicks)]);
  lines.push(
    ['bytes_read', String(server.bytesRead)],
    ['bytes_written', String(server.bytesWritten)],
    ['limit_maxbytes', String(cache.options.memoryLimit)],
    ['accepting_conns', server.acceptingConns ? '1' : '0'],
    ['listen_disabled_num', String(server.listenDisabledNum)],
    ['time_in_listen_disabled_us', '0'],
    // the threads that serve requests: one event loop, whatever -t says (stats settings keeps -t)
    ['threads', '1'],
    ['conn_yields', String(server.connYields)],
    ['hash_power_level', String(cache.table.power)],
    ['hash_bytes', String(cache.table.bytes)],
    ['hash_is_expanding', '0'],
    ['slab_reassign_rescues', String(cache.moveStats.slab_reassign_rescues)],
    ['slab_reassign_chunk_rescues', String(cache.moveStats.slab_reassign_chunk_rescues)],
    ['slab_reassign_evictions_nomem', String(cache.moveStats.slab_reassign_evictions_nomem)],
    ['slab_reassign_inline_reclaim', '0'],
    ['slab_reassign_busy_items', '0'],
    ['slab_reassign_busy_deletes', '0'],
    ['slab_reassign_running', '0'],
    ['slabs_moved', String(cache.moveStats.slabs_moved)],
    ['lru_crawler_running', '0'],
    ['lru_crawler_starts', String(s.crawler_starts)],
  );
  const maintainer = cache.lruTuning.maintainer;
  if (maintainer) lines.push(['lru_maintainer_juggles', String(s.lru_maintainer_juggles)]);
  lines.push(
    ['malloc_fails', '0'],
    ['log_worker_dropped', '0'],
    ['log_worker_written', String(server.events?.stats.written ?? 0)],
    ['log_watcher_skipped', String(server.events?.stats.skipped ?? 0)],
    ['log_watcher_sent', String(server.events?.stats.sent ?? 0)],
    ['log_watchers', String(server.events?.watchers ?? 0)],
  );
  lines.push(...server.extraStats());
  lines.push(
    ['unexpected_napi_ids', '0'],
    ['round_robin_fallback', '0'],
    ['bytes', String(s.bytes)],
    ['curr_items', String(s.curr_items)],
    ['total_items', String(s.total_items)],
    ['slab_global_page_pool', String(cache.slabs.pool.length)],
    ['expired_unfetched', String(s.expired_unfetched)],
    ['evicted_unfetched', String(s.evicted_unfetched)],
  );
  if (maintainer) lines.push(['evicted_active', String(s.evicted_active)]);
  lines.push(
    ['evictions', String(s.evictions)],
    ['reclaimed', String(s.reclaimed)],
    ['crawler_reclaimed', String(s.crawler_reclaimed)],
    ['crawler_items_checked', String(s.crawler_items_checked)],
    ['lrutail_reflocked', '0'],
  );
  if (maintainer) {
    lines.push(
      ['moves_to_cold', String(s.moves_to_cold)],
      ['moves_to_warm', String(s.moves_to_warm)],
      ['moves_within_lru', String(s.moves_within_lru)],
      ['direct_reclaims', String(s.direct_reclaims)],
      ['lru_bumps_dropped', String(s.lru_bumps_dropped)],
    );
  }
  return lines;
}

/**
 * `stats items`: per class with items, as memcached's item_stats(): the segment counts, ages
 * (HOT tail, WARM tail, and `age` of the COLD tail), moves and hits by segment appear while
 * the maintainer is on (not with -o no_lru_maintainer).
 */
export function itemsStats(cache: Cache): StatLines {
  const lines: StatLines = [];
  const now = cache.clock.now();
  const classes = cache.slabs.geometry.sizes.length;
  const maintainer = cache.lruTuning.maintainer;
  const size = cache.lru.size;
  const hits = cache.lruHits;
  const ageOf = (list: number): number => {
    const tail = cache.lru.tail[list]!;
    return tail === NONE ? 0 : Math.max(0, now - cache.itemTime(tail));
  };
  for (let c = 1; c < classes; c++) {
    const hot = lruOf(c, HOT);
    const warm = lruOf(c, WARM);
    const cold = lruOf(c, COLD);
    const n = size[hot]! + size[warm]! + size[cold]!;
    if (n === 0) continue;
    const cs = cache.classStats[c]!;
    const p = `items:${c}:`;
    lines.push([`${p}number`, String(n)]);
    if (maintainer) {
      lines.push(
        [`${p}number_hot`, String(size[hot])],
        [`${p}number_warm`, String(size[warm])],
        [`${p}number_cold`, String(size[cold])],
        [`${p}age_hot`, String(ageOf(hot))],
        [`${p}age_warm`, String(ageOf(warm))],
      );
    }
    lines.push(
      [`${p}age`, String(ageOf(cold))],
      [`${p}mem_requested`, String(cs.requested)],
      [`${p}evicted`, String(cs.evicted)],
      [`${p}evicted_nonzero`, String(cs.evicted_nonzero)],
      [`${p}evicted_time`, String(cs.evicted_time)],
      [`${p}outofmemory`, String(cs.outofmemory)],
      [`${p}tailrepairs`, '0'],
      [`${p}reclaimed`, String(cs.reclaimed)],
      [`${p}expired_unfetched`, String(cs.expired_unfetched)],
      [`${p}evicted_unfetched`, String(cs.evicted_unfetched)],
    );
    if (maintainer) lines.push([`${p}evicted_active`, String(cs.evicted_active)]);
    lines.push(
      [`${p}crawler_reclaimed`, String(cs.crawler_reclaimed)],
      [`${p}crawler_items_checked`, String(cs.crawler_items_checked)],
      [`${p}lrutail_reflocked`, '0'],
    );
    if (maintainer) {
      lines.push(
        [`${p}moves_to_cold`, String(cs.moves_to_cold)],
        [`${p}moves_to_warm`, String(cs.moves_to_warm)],
        [`${p}moves_within_lru`, String(cs.moves_within_lru)],
        [`${p}direct_reclaims`, String(cs.direct_reclaims)],
        [`${p}hits_to_hot`, String(hits[hot])],
        [`${p}hits_to_warm`, String(hits[warm])],
        [`${p}hits_to_cold`, String(hits[cold])],
        [`${p}hits_to_temp`, '0'],
      );
    }
  }
  return lines;
}

/** `stats slabs`: per class with pages, then the totals, as memcached's slabs_stats(). */
export function slabsStats(cache: Cache): StatLines {
  const lines: StatLines = [];
  const slabs = cache.slabs;
  const classes = slabs.geometry.sizes.length;
  let active = 0;
  for (let c = 1; c < classes; c++) {
    const pages = slabs.classPages[c] ?? 0;
    if (pages === 0) continue;
    active++;
    const per = slabs.geometry.perSlab[c] ?? 0;
    const cs = cache.classStats[c]!;
    const free = (slabs.freeCount[c] ?? 0) + slabs.unCarved(c);
    lines.push(
      [`${c}:chunk_size`, String(slabs.chunkSize(c))],
      [`${c}:chunks_per_page`, String(per)],
      [`${c}:total_pages`, String(pages)],
      [`${c}:total_chunks`, String(pages * per)],
      [`${c}:used_chunks`, String(slabs.usedChunks[c] ?? 0)],
      [`${c}:free_chunks`, String(free)],
      [`${c}:free_chunks_end`, '0'],
      [`${c}:get_hits`, String(cs.get_hits)],
      [`${c}:cmd_set`, String(cs.cmd_set)],
      [`${c}:delete_hits`, String(cs.delete_hits)],
      [`${c}:incr_hits`, String(cs.incr_hits)],
      [`${c}:decr_hits`, String(cs.decr_hits)],
      [`${c}:cas_hits`, String(cs.cas_hits)],
      [`${c}:cas_badval`, String(cs.cas_badval)],
      [`${c}:touch_hits`, String(cs.touch_hits)],
    );
  }
  lines.push(['active_slabs', String(active)], ['total_malloced', String(slabs.totalMalloced)]);
  return lines;
}

/** `stats sizes`: item size histogram in 32-byte buckets, or disabled as memcached by default. */
export function sizesStats(cache: Cache, config: Config): StatLines {
  if (!config.trackSizes) return [['sizes_status', 'disabled']];
  const hist = new Map<number, number>();
  const classes = cache.slabs.geometry.sizes.length;
  for (let c = 1; c < classes; c++) {
    for (const id of cache.itemsOfClass(c)) {
      const b = Math.ceil(cache.itemSize(id) / 32) * 32;
      hist.set(b, (hist.get(b) ?? 0) + 1);
    }
  }
  const lines: StatLines = [['sizes_status', 'enabled']];
  for (const [size, n] of [...hist.entries()].sort((a, b) => a[0] - b[0])) lines.push([String(size), String(n)]);
  return lines;
}

/** `stats conns`. */
export function connsStats(server: ServerInfo): StatLines {
  const lines: StatLines = [];
  for (const c of server.connections()) {
    lines.push(
      [`${c.id}:addr`, c.address],
      [`${c.id}:state`, c.state],
      [`${c.id}:secs_since_last_cmd`, String(c.secondsSinceLastCommand)],
    );
  }
  return lines;
}
