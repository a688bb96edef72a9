// The lines of `stats settings`: memcached 1.6.18's names in its order (probed from the
// real server). Values come from Config where they mean something here, otherwise they
// are memcached's defaults so that monitoring tools see what they expect.
import type { Config } from './config.js';

/** Settings that change at run time and are not part of Config. */
export interface LiveSettings {
  /** `stats detail on|off` (memcached's detail_enabled; -D also turns it on there). */
  detailEnabled?: boolean;
  /** The `oldest` field: seconds since the oldest live item cut-off of flush_all. */
  oldest?: number;
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

/** A field whose value is null is left out (settings of a feature that is off). */
type Field = readonly [name: string, value: (c: Config, live: LiveSettings) => string | null];

const FIELDS: readonly Field[] = [
  ['maxbytes', (c) => String(c.memoryLimit)],
  ['maxconns', (c) => String(c.maxConnections)],
  ['tcpport', (c) => String(c.port)],
  ['udpport', (c) => String(c.udpPort)],
  ['inter', (c) => (c.listen.length > 0 ? c.listen.join(',') : 'NULL')],
  ['verbosity', (c) => String(c.verbosity)],
  ['oldest', (_c, l) => String(l.oldest ?? 0)],
  ['evictions', (c) => (c.noEvict ? 'off' : 'on')],
  ['domain_socket', (c) => c.unixSocket ?? 'NULL'],
  ['umask', (c) => c.unixMask.toString(8)],
  ['shutdown_command', (c) => yesNo(c.shutdownEnabled)],
  ['growth_factor', (c) => c.growthFactor.toFixed(2)],
  ['chunk_size', (c) => String(c.chunkSize)],
  ['num_threads', (c) => String(c.threads)],
  // memcached uses one UDP thread per interface when several are given.
  ['num_threads_per_udp', (c) => String(c.listen.length > 1 ? 1 : c.threads)],
  ['stat_key_prefix', (c) => c.prefixDelimiter],
  ['detail_enabled', (_c, l) => yesNo(l.detailEnabled ?? false)],
  ['reqs_per_event', (c) => String(c.reqsPerEvent)],
  ['cas_enabled', (c) => yesNo(c.useCas)],
  ['tcp_backlog', (c) => String(c.backlog)],
  ['binding_protocol', (c) => (c.bindingProtocol === 'auto' ? 'auto-negotiate' : c.bindingProtocol)],
  ['auth_enabled_sasl', (c) => yesNo(c.sasl)],
  // With -S the file holds SASL passwords, so ascii auth is off.
  ['auth_enabled_ascii', (c) => yesNo(c.authFile !== null && !c.sasl)],
  ['item_size_max', (c) => String(c.itemSizeMax)],
  ['maxconns_fast', () => 'yes'],
  ['hashpower_init', () => '0'],
  ['slab_reassign', (c) => yesNo(c.slabReassign)],
  ['slab_automove', (c) => String(c.slabAutomove)],
  ['slab_automove_ratio', (c) => c.slabAutomoveRatio.toFixed(2)],
  ['slab_automove_window', (c) => String(c.slabAutomoveWindow)],
  ['slab_chunk_max', (c) => String(c.slabChunkMax)],
  ['lru_crawler', (c) => yesNo(c.lruCrawler)],
  ['lru_crawler_sleep', () => '100'],
  ['lru_crawler_tocrawl', () => '0'],
  ['tail_repair_time', () => '0'],
  ['flush_enabled', (c) => yesNo(c.flushEnabled)],
  ['dump_enabled', (c) => yesNo(!c.dumpDisabled)],
  ['hash_algorithm', () => 'murmur3'],
  ['lru_maintainer_thread', (c) => yesNo(c.lru.maintainer)],
  ['lru_segmented', (c) => yesNo(c.lru.segmented)],
  ['hot_lru_pct', (c) => String(c.lru.hotPct)],
  ['warm_lru_pct', (c) => String(c.lru.warmPct)],
  ['hot_max_factor', (c) => c.lru.hotMaxFactor.toFixed(2)],
  ['warm_max_factor', (c) => c.lru.warmMaxFactor.toFixed(2)],
  ['temp_lru', () => 'no'],
  ['temporary_ttl', () => '61'],
  ['idle_timeout', (c) => String(c.idleTimeout)],
  ['watcher_logbuf_size', () => '262144'],
  ['worker_logbuf_size', () => '65536'],
  ['read_buf_mem_limit', () => '0'],
  ['track_sizes', (c) => yesNo(c.trackSizes)],
  ['inline_ascii_response', () => 'no'],
  // Debian builds memcached with extstore and TLS, so 1.6.18 prints these even when unused.
  ['ext_item_size', () => '512'],
  ['ext_item_age', () => '4294967295'],
  ['ext_low_ttl', () => '0'],
  ['ext_recache_rate', () => '2000'],
  ['ext_wbuf_size', () => '4194304'],
  ['ext_compact_under', () => '0'],
  ['ext_drop_under', () => '0'],
  ['ext_max_sleep', () => '1000000'],
  ['ext_max_frag', () => '0.80'],
  ['slab_automove_freeratio', () => '0.010'],
  ['ext_drop_unread', () => 'no'],
  ['ssl_enabled', (c) => yesNo(c.tls)],
  ['ssl_chain_cert', (c) => c.tlsCertFile ?? '(null)'],
  ['ssl_key', (c) => c.tlsKeyFile ?? '(null)'],
  ['ssl_verify_mode', () => '0'],
  ['ssl_keyformat', () => '1'],
  ['ssl_ciphers', () => 'NULL'],
  ['ssl_ca_cert', (c) => c.tlsCaFile ?? 'NULL'],
  ['ssl_wbuf_size', () => '16384'],
  ['ssl_session_cache', () => 'no'],
  ['ssl_kernel_tls', () => 'no'],
  ['ssl_min_version', () => 'tlsv1.2'],
  ['num_napi_ids', () => '(null)'],
  ['memory_file', (c) => c.snapshotFile ?? '(null)'],
  // memcached has no journal: these two are shown only when it is on
  ['journal_file', (c) => c.journalFile],
  ['journal_fsync', (c) => (c.journalFile === null ? null : c.journalFsync)],
  ['json_port', (c) => (c.jsonPort === 0 ? null : String(c.jsonPort))],
  // memcached has no HTTP front: shown only when it is on
  ['http_port', (c) => (c.httpPort === 0 ? null : String(c.httpPort))],
];

/** The names `stats settings` prints, in order. */
export const SETTINGS_STATS_NAMES: readonly string[] = FIELDS.map(([name]) => name);

/**
 * The `stats settings` lines as (name, value) pairs. The protocol layer prints them as
 * `STAT <name> <value>`. Pass a config updated by `verbosity` / `cache_memlimit` and the
 * live state for what Config does not hold.
 */
export function settingsStats(config: Config, live: LiveSettings = {}): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [name, value] of FIELDS) {
    const v = value(config, live);
    if (v !== null) out.push([name, v]);
  }
  return out;
}
