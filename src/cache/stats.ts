// Counters the cache keeps, named as memcached's `stats` fields so every protocol can
// report them without translation.

export class CacheStats {
  cmd_get = 0;
  cmd_set = 0;
  cmd_flush = 0;
  cmd_touch = 0;
  cmd_meta = 0;
  auth_cmds = 0;
  auth_errors = 0;
  crawler_starts = 0;
  get_hits = 0;
  get_misses = 0;
  get_expired = 0;
  get_flushed = 0;
  delete_misses = 0;
  delete_hits = 0;
  incr_misses = 0;
  incr_hits = 0;
  decr_misses = 0;
  decr_hits = 0;
  cas_misses = 0;
  cas_hits = 0;
  cas_badval = 0;
  touch_hits = 0;
  touch_misses = 0;
  store_too_large = 0;
  store_no_memory = 0;
  /** Sum of memcached-style item sizes of linked items. */
  bytes = 0;
  curr_items = 0;
  total_items = 0;
  expired_unfetched = 0;
  evicted_unfetched = 0;
  evicted_active = 0;
  evictions = 0;
  reclaimed = 0;
  crawler_reclaimed = 0;
  crawler_items_checked = 0;
  moves_within_lru = 0;
  moves_to_cold = 0;
  moves_to_warm = 0;
  /** COLD items read twice that found the maintainer's queue full (memcached's lru_bumps_dropped). */
  lru_bumps_dropped = 0;
  lru_maintainer_juggles = 0;
  direct_reclaims = 0;

  /** `stats reset`: zero the event counters, keep the gauges (bytes, curr_items). */
  reset(): void {
    const keep = { bytes: this.bytes, curr_items: this.curr_items };
    Object.assign(this, new CacheStats(), keep);
  }
}

/** Per slab class counters for `stats items` / `stats slabs`. */
export class ClassStats {
  evicted = 0;
  evicted_nonzero = 0;
  evicted_time = 0;
  outofmemory = 0;
  reclaimed = 0;
  expired_unfetched = 0;
  evicted_unfetched = 0;
  evicted_active = 0;
  crawler_reclaimed = 0;
  crawler_items_checked = 0;
  get_hits = 0;
  cmd_set = 0;
  delete_hits = 0;
  incr_hits = 0;
  decr_hits = 0;
  cas_hits = 0;
  cas_badval = 0;
  touch_hits = 0;
  moves_to_cold = 0;
  moves_to_warm = 0;
  moves_within_lru = 0;
  /** Allocations that had to free a chunk first (memcached counts retries of do_item_alloc_pull). */
  direct_reclaims = 0;
  /** Sum of memcached-style sizes of the items in this class (mem_requested). */
  requested = 0;
}
