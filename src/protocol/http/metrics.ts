// GET /metrics: the Prometheus text format (version 0.0.4), written by hand from the same
// `stats`, `stats settings`, `stats items` and `stats slabs` lines the text protocol sends,
// with prometheus/memcached_exporter's metric names, labels and types (pkg/exporter/
// exporter.go), so its dashboards work unchanged; plus memcached_ts_* of our own.
import { itemsStats, slabsStats, generalStats, type StatLines } from '../stats-report.js';
import type { HttpContext } from './context.js';

type Kind = 'counter' | 'gauge';

/** Metric families in first-seen order; every sample of a family is written together. */
class Families {
  readonly #families = new Map<string, { help: string; kind: Kind; samples: string[] }>();

  add(name: string, kind: Kind, help: string, value: number, labels: Record<string, string> = {}): void {
    if (!Number.isFinite(value)) return;
    let f = this.#families.get(name);
    if (f === undefined) {
      f = { help, kind, samples: [] };
      this.#families.set(name, f);
    }
    const ls = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    f.samples.push(`${name}${ls.length === 0 ? '' : `{${ls.join(',')}}`} ${value}`);
  }

  text(): string {
    const out: string[] = [];
    for (const [name, f] of this.#families) {
      out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.kind}`, ...f.samples);
    }
    return `${out.join('\n')}\n`;
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

const num = (m: Map<string, string>, k: string): number => (m.has(k) ? Number(m.get(k)) : NaN);

// [stats name, metric, type, help]: `stats` lines with no labels
const GENERAL: ReadonlyArray<readonly [string, string, Kind, string]> = [
  ['uptime', 'memcached_uptime_seconds', 'counter', 'Seconds since the server started.'],
  ['time', 'memcached_time_seconds', 'gauge', 'Unix time according to the server.'],
  ['rusage_user', 'memcached_process_user_cpu_seconds_total', 'counter', 'User CPU time of the process.'],
  ['rusage_system', 'memcached_process_system_cpu_seconds_total', 'counter', 'System CPU time of the process.'],
  ['bytes', 'memcached_current_bytes', 'gauge', 'Bytes used by the items stored.'],
  ['limit_maxbytes', 'memcached_limit_bytes', 'gauge', 'Bytes the server may use for items (-m).'],
  ['curr_items', 'memcached_current_items', 'gauge', 'Items stored now.'],
  ['total_items', 'memcached_items_total', 'counter', 'Items stored since the server started.'],
  ['bytes_read', 'memcached_read_bytes_total', 'counter', 'Bytes read from the network (memcached protocols).'],
  ['bytes_written', 'memcached_written_bytes_total', 'counter', 'Bytes sent to the network (memcached protocols).'],
  ['curr_connections', 'memcached_current_connections', 'gauge', 'Open connections (memcached protocols).'],
  ['total_connections', 'memcached_connections_total', 'counter', 'Connections opened since the server started.'],
  ['rejected_connections', 'memcached_connections_rejected_total', 'counter', 'Connections refused at the -c limit.'],
  ['conn_yields', 'memcached_connections_yielded_total', 'counter', 'Times a connection yielded at the -R limit.'],
  ['listen_disabled_num', 'memcached_connections_listener_disabled_total', 'counter', 'Times the listener was disabled at the -c limit.'],
  ['evictions', 'memcached_items_evicted_total', 'counter', 'Live items evicted to make room.'],
  ['reclaimed', 'memcached_items_reclaimed_total', 'counter', 'Stores that reused the memory of an expired item.'],
  ['store_too_large', 'memcached_item_too_large_total', 'counter', 'Stores refused for exceeding -I.'],
  ['store_no_memory', 'memcached_item_no_memory_total', 'counter', 'Stores refused for lack of memory.'],
  ['lru_crawler_starts', 'memcached_lru_crawler_starts_total', 'counter', 'LRU crawler runs started.'],
  ['direct_reclaims', 'memcached_direct_reclaims_total', 'counter', 'Times a store had to reclaim or evict directly.'],
  ['crawler_items_checked', 'memcached_lru_crawler_items_checked_total', 'counter', 'Items the LRU crawler examined.'],
  ['crawler_reclaimed', 'memcached_lru_crawler_reclaimed_total', 'counter', 'Items the LRU crawler freed.'],
  ['moves_to_cold', 'memcached_lru_crawler_moves_to_cold_total', 'counter', 'Items moved from HOT/WARM to COLD.'],
  ['moves_to_warm', 'memcached_lru_crawler_moves_to_warm_total', 'counter', 'Items moved from COLD to WARM.'],
  ['moves_within_lru', 'memcached_lru_crawler_moves_within_lru_total', 'counter', 'Items bumped within HOT or WARM.'],
  ['total_malloced', 'memcached_malloced_bytes', 'gauge', 'Bytes of slab pages allocated.'],
  ['accepting_conns', 'memcached_accepting_connections', 'gauge', 'Whether the server accepts new connections.'],
];

// `stats settings` gauges the exporter reads when lru_crawler is yes (yes/no become 1/0)
const SETTINGS: ReadonlyArray<readonly [string, string, string]> = [
  ['lru_crawler', 'memcached_lru_crawler_enabled', 'Whether the LRU crawler runs.'],
  ['lru_crawler_sleep', 'memcached_lru_crawler_sleep', 'Microseconds between LRU crawls.'],
  ['lru_crawler_tocrawl', 'memcached_lru_crawler_to_crawl', 'Items crawled per class per run at most.'],
  ['lru_maintainer_thread', 'memcached_lru_crawler_maintainer_thread', 'Segmented LRU and background threads.'],
  ['hot_lru_pct', 'memcached_lru_crawler_hot_percent', 'Percent of slab memory for the HOT LRU.'],
  ['warm_lru_pct', 'memcached_lru_crawler_warm_percent', 'Percent of slab memory for the WARM LRU.'],
  ['hot_max_factor', 'memcached_lru_crawler_hot_max_factor', 'HOT idle age as a factor of the COLD age.'],
  ['warm_max_factor', 'memcached_lru_crawler_warm_max_factor', 'WARM idle age as a factor of the COLD age.'],
];

// `stats items` per class: [field, metric, type, help]
const ITEMS: ReadonlyArray<readonly [string, string, Kind, string]> = [
  ['number', 'memcached_slab_current_items', 'gauge', 'Items stored in this slab class.'],
  ['age', 'memcached_slab_items_age_seconds', 'gauge', 'Age of the oldest item in this slab class.'],
  ['crawler_reclaimed', 'memcached_slab_items_crawler_reclaimed_total', 'counter', 'Items of this class the LRU crawler freed.'],
  ['evicted', 'memcached_slab_items_evicted_total', 'counter', 'Items of this class evicted before they expired.'],
  ['evicted_nonzero', 'memcached_slab_items_evicted_nonzero_total', 'counter', 'Items with an expiry time evicted before it.'],
  ['evicted_time', 'memcached_slab_items_evicted_time_seconds', 'counter', 'Seconds since the last access of the last item evicted.'],
  ['evicted_unfetched', 'memcached_slab_items_evicted_unfetched_total', 'counter', 'Items evicted that were never fetched.'],
  ['expired_unfetched', 'memcached_slab_items_expired_unfetched_total', 'counter', 'Items expired that were never fetched.'],
  ['outofmemory', 'memcached_slab_items_outofmemory_total', 'counter', 'Stores of this class that failed for lack of memory.'],
  ['reclaimed', 'memcached_slab_items_reclaimed_total', 'counter', 'Stores of this class that reused an expired item.'],
  ['tailrepairs', 'memcached_slab_items_tailrepairs_total', 'counter', 'LRU tail repairs in this class.'],
  ['mem_requested', 'memcached_slab_mem_requested_bytes', 'gauge', 'Bytes the items of this class take up.'],
  ['moves_to_cold', 'memcached_slab_items_moves_to_cold', 'counter', 'Items moved from HOT or WARM into COLD.'],
  ['moves_to_warm', 'memcached_slab_items_moves_to_warm', 'counter', 'Items moved from COLD into WARM.'],
  ['moves_within_lru', 'memcached_slab_items_moves_within_lru', 'counter', 'Active items bumped within HOT or WARM.'],
  ['number_hot', 'memcached_slab_hot_items', 'gauge', 'Items in the HOT LRU.'],
  ['number_warm', 'memcached_slab_warm_items', 'gauge', 'Items in the WARM LRU.'],
  ['number_cold', 'memcached_slab_cold_items', 'gauge', 'Items in the COLD LRU.'],
  ['number_temp', 'memcached_slab_temporary_items', 'gauge', 'Items in the TEMPORARY LRU.'],
  ['age_hot', 'memcached_slab_hot_age_seconds', 'gauge', 'Age of the oldest item in the HOT LRU.'],
  ['age_warm', 'memcached_slab_warm_age_seconds', 'gauge', 'Age of the oldest item in the WARM LRU.'],
];

// `stats slabs` per class
const SLABS: ReadonlyArray<readonly [string, string, string]> = [
  ['chunk_size', 'memcached_slab_chunk_size_bytes', 'Bytes per chunk in this slab class.'],
  ['chunks_per_page', 'memcached_slab_chunks_per_page', 'Chunks per page in this slab class.'],
  ['total_pages', 'memcached_slab_current_pages', 'Pages given to this slab class.'],
  ['total_chunks', 'memcached_slab_current_chunks', 'Chunks in this slab class.'],
  ['used_chunks', 'memcached_slab_chunks_used', 'Chunks holding an item.'],
  ['free_chunks', 'memcached_slab_chunks_free', 'Chunks not holding an item.'],
  ['free_chunks_end', 'memcached_slab_chunks_free_end', 'Free chunks at the end of the last page.'],
];

const COMMANDS = ['get', 'delete', 'incr', 'decr', 'cas', 'touch'] as const;

/** Per-class lines `prefix<cls>:<field>` grouped by class. */
function byClass(lines: StatLines, prefix: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const [name, value] of lines) {
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    const colon = rest.indexOf(':');
    if (colon < 0) continue;
    const cls = rest.slice(0, colon);
    let m = out.get(cls);
    if (m === undefined) out.set(cls, (m = new Map()));
    m.set(rest.slice(colon + 1), value);
  }
  return out;
}

/** The whole scrape. Cost: one pass over each stats group (64 classes: well under a ms). */
export function renderMetrics(ctx: HttpContext): string {
  const f = new Families();
  const extra = ctx.server.extraStats();
  const slabs = slabsStats(ctx.cache);
  // total_malloced is a `stats slabs` total here; the exporter reads it from `stats`
  const s = new Map([...slabs.filter(([k]) => k === 'total_malloced'), ...generalStats(ctx.cache, ctx.config, ctx.server), ...extra]);
  f.add('memcached_up', 'gauge', 'Whether the memcached server answered the scrape.', 1);
  f.add('memcached_version', 'gauge', 'The version of this server.', 1, { version: s.get('version') ?? '' });
  const cmd = 'Requests by command and status.';
  for (const op of COMMANDS) {
    f.add('memcached_commands_total', 'counter', cmd, num(s, `${op}_hits`), { command: op, status: 'hit' });
    f.add('memcached_commands_total', 'counter', cmd, num(s, `${op}_misses`), { command: op, status: 'miss' });
  }
  f.add('memcached_commands_total', 'counter', cmd, num(s, 'cas_badval'), { command: 'cas', status: 'badval' });
  f.add('memcached_commands_total', 'counter', cmd, num(s, 'cmd_flush'), { command: 'flush', status: 'hit' });
  // memcached counts cas commands in cmd_set as well
  const casAll = num(s, 'cas_misses') + num(s, 'cas_hits') + num(s, 'cas_badval');
  f.add('memcached_commands_total', 'counter', cmd, num(s, 'cmd_set') - casAll, { command: 'set', status: 'hit' });
  for (const [stat, name, kind, help] of GENERAL) f.add(name, kind, help, num(s, stat));

  const settings = new Map(ctx.server.settingsStats());
  f.add('memcached_max_connections', 'gauge', 'Connections allowed (-c).', num(settings, 'maxconns'));
  if (settings.get('lru_crawler') === 'yes') {
    for (const [stat, name, help] of SETTINGS) {
      const v = settings.get(stat);
      f.add(name, 'gauge', help, v === 'yes' ? 1 : v === 'no' ? 0 : Number(v));
    }
  }

  for (const [cls, m] of byClass(itemsStats(ctx.cache), 'items:')) {
    for (const [field, name, kind, help] of ITEMS) f.add(name, kind, help, num(m, field), { slab: cls });
    for (const lru of ['hot', 'warm', 'cold', 'temp'] as const) {
      f.add('memcached_slab_lru_hits_total', 'counter', 'Hits by LRU segment.', num(m, `hits_to_${lru}`), { slab: cls, lru: lru === 'temp' ? 'temporary' : lru });
    }
  }
  const slabCmd = 'Requests by command and status per slab class.';
  for (const [cls, m] of byClass(slabs, '')) {
    for (const op of COMMANDS) f.add('memcached_slab_commands_total', 'counter', slabCmd, num(m, `${op}_hits`), { slab: cls, command: op, status: 'hit' });
    f.add('memcached_slab_commands_total', 'counter', slabCmd, num(m, 'cas_badval'), { slab: cls, command: 'cas', status: 'badval' });
    f.add('memcached_slab_commands_total', 'counter', slabCmd, num(m, 'cmd_set') - num(m, 'cas_hits') - num(m, 'cas_badval'), { slab: cls, command: 'set', status: 'hit' });
    for (const [field, name, help] of SLABS) f.add(name, 'gauge', help, num(m, field), { slab: cls });
  }

  // our own: the HTTP front, snapshots, the journal
  const c = ctx.counters;
  for (const [code, n] of [...c.responses].sort((a, b) => a[0] - b[0])) {
    f.add('memcached_ts_http_requests_total', 'counter', 'HTTP requests answered, by status code.', n, { code: String(code) });
  }
  f.add('memcached_ts_http_current_connections', 'gauge', 'Open HTTP connections.', c.currConnections);
  f.add('memcached_ts_http_connections_total', 'counter', 'HTTP connections opened since start.', c.totalConnections);
  f.add('memcached_ts_http_connections_rejected_total', 'counter', 'HTTP connections refused at the -c limit.', c.rejectedConnections);
  f.add('memcached_ts_http_changes_not_durable_total', 'counter', 'Changes answered 503 because their journal write failed: applied in memory, not on disk.', c.notDurable);
  f.add('memcached_ts_http_aborted_bodies_total', 'counter', 'GET bodies cut off because the item changed while they were sent.', c.abortedBodies);
  for (const [name, value] of extra) {
    if (value === '' || !Number.isFinite(Number(value))) continue;
    const counter = /_(saves|failures|records|fsyncs|rotations|errors)$/.test(name);
    f.add(`memcached_ts_${name}${counter ? '_total' : ''}`, counter ? 'counter' : 'gauge', `The ${name} line of stats.`, Number(value));
  }
  return f.text();
}
