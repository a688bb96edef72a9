// The daemon's settings after the command line has been read: one plain object that
// every layer receives. Defaults follow memcached 1.6.18.

export interface Config {
  /** TCP port; -1 picks a free ephemeral port, 0 turns TCP off (memcached -p). */
  port: number;
  /** Addresses to bind, comma-separated in memcached; here already split. */
  listen: string[];
  /** UDP port; only 0 (off) is supported. */
  udpPort: number;
  /** Unix socket path (memcached -s); when set, TCP is off. */
  unixSocket: string | null;
  /** Unix socket permission mask (memcached -a), e.g. 0o700. */
  unixMask: number;
  /** Item memory budget in bytes (memcached -m, given in MB). */
  memoryLimit: number;
  /** Maximum simultaneous connections (memcached -c). */
  maxConnections: number;
  /** Largest item, header included, in bytes (memcached -I). */
  itemSizeMax: number;
  /** Minimum space for key + value + flags in the smallest chunk (memcached -n). */
  chunkSize: number;
  /** Chunk size growth factor between slab classes (memcached -f). */
  growthFactor: number;
  /** Slab page size in bytes (1 MiB as in memcached). */
  slabPageSize: number;
  /** Largest chunk; bigger items are chained (memcached -o slab_chunk_max). */
  slabChunkMax: number;
  /** Return errors instead of evicting (memcached -M). */
  noEvict: boolean;
  /** CAS enabled; false with memcached -C. */
  useCas: boolean;
  /** flush_all allowed; false with memcached -F. */
  flushEnabled: boolean;
  /** `shutdown` command allowed (memcached -A). */
  shutdownEnabled: boolean;
  /** 0, 1 (-v), 2 (-vv), 3 (-vvv). */
  verbosity: number;
  /** Accepted for compatibility; the daemon has one event loop. */
  threads: number;
  /** Close connections idle this many seconds; 0 = never (memcached -o idle_timeout). */
  idleTimeout: number;
  /** Listen backlog (memcached -b). */
  backlog: number;
  /** Max requests handled per read before yielding (memcached -R). */
  reqsPerEvent: number;
  /** Protocol choice: auto (first byte), ascii or binary (memcached -B). */
  bindingProtocol: 'auto' | 'ascii' | 'binary';
  /** Prefix delimiter for `stats detail` (memcached -D). */
  prefixDelimiter: string;
  /** `stats cachedump` disabled (memcached -X). */
  dumpDisabled: boolean;
  /** `watch` disabled (memcached -W). */
  watchDisabled: boolean;
  /** Credentials file for SASL/ascii auth (memcached -Y / -S), or null. */
  authFile: string | null;
  /** Binary SASL required (memcached -S). */
  sasl: boolean;
  /** Snapshot file path, or null for no snapshots (alias -e/--memory-file). */
  snapshotFile: string | null;
  /** Seconds between periodic snapshots; 0 = only at shutdown. */
  snapshotInterval: number;
  /** Journal file path, or null for no journal. */
  journalFile: string | null;
  /** When journal records are fsynced: before the replies, once a second, or when the OS likes. */
  journalFsync: 'always' | 'everysec' | 'no';
  /** TCP port of the JSON-lines front (--json-port): 0 = off, -1 = pick a free port. */
  jsonPort: number;
  /** Track item sizes (memcached -o track_sizes) for `stats sizes`. */
  trackSizes: boolean;
  /** Run the background LRU crawler that frees expired items (-o lru_crawler / no_lru_crawler). */
  lruCrawler: boolean;
  /**
   * The segmented LRU's settings, shared with the cache (-o no_lru_maintainer makes it flat;
   * `lru mode` and `lru tune` change it while running). Same shape as cache/lru-segment.ts LruTuning.
   */
  lru: { maintainer: boolean; segmented: boolean; hotPct: number; warmPct: number; hotMaxFactor: number; warmMaxFactor: number };
  /** `slabs reassign` allowed (-o slab_reassign, the default; -o no_slab_reassign turns it off). */
  slabReassign: boolean;
  /** Slab automover level (-o slab_automove=N, `slabs automove N`): 0 off, 1 default, 2 eager. */
  slabAutomove: number;
  /** Youngest/oldest age ratio under which the automover moves a page (-o slab_automove_ratio). */
  slabAutomoveRatio: number;
  /** Runs (seconds) the automover averages over (-o slab_automove_window). */
  slabAutomoveWindow: number;
  /**
   * Per-connection cap in bytes on replies not yet taken by the kernel; a connection past it
   * is closed. Flow control keeps a client that does not read far below it (one batch of
   * replies plus one reply), so in practice only a single reply larger than this trips it.
   */
  outputBufferLimit: number;
  /** Serve TLS on the TCP listeners (memcached -Z). */
  tls: boolean;
  /** Certificate chain, PEM (memcached -o ssl_chain_cert). */
  tlsCertFile: string | null;
  /** Private key, PEM (memcached -o ssl_key). */
  tlsKeyFile: string | null;
  /** CA certificates for client verification, PEM (memcached -o ssl_ca_cert). */
  tlsCaFile: string | null;
  /** HTTP front port (REST blobs, /set /get, /metrics); 0 = off, -1 picks a free port. */
  httpPort: number;
  /** The user to run as once the listeners are bound, when started as root (memcached -u). */
  user: string | null;
  /** Detach from the terminal and run in the background (memcached -d). */
  daemonize: boolean;
  /** File to write the process id to (memcached -P). */
  pidFile: string | null;
}

export const MB = 1024 * 1024;

export function defaultConfig(): Config {
  return {
    port: 11211,
    listen: ['127.0.0.1'],
    udpPort: 0,
    unixSocket: null,
    unixMask: 0o700,
    memoryLimit: 64 * MB,
    maxConnections: 1024,
    itemSizeMax: 1 * MB,
    chunkSize: 48,
    growthFactor: 1.25,
    slabPageSize: 1 * MB,
    slabChunkMax: MB / 2,
    noEvict: false,
    useCas: true,
    flushEnabled: true,
    shutdownEnabled: false,
    verbosity: 0,
    threads: 4,
    idleTimeout: 0,
    backlog: 1024,
    reqsPerEvent: 20,
    bindingProtocol: 'auto',
    prefixDelimiter: ':',
    dumpDisabled: false,
    watchDisabled: false,
    authFile: null,
    sasl: false,
    snapshotFile: null,
    snapshotInterval: 0,
    journalFile: null,
    journalFsync: 'everysec',
    jsonPort: 0,
    trackSizes: false,
    lruCrawler: true,
    lru: { maintainer: true, segmented: true, hotPct: 20, warmPct: 40, hotMaxFactor: 0.2, warmMaxFactor: 2.0 },
    slabReassign: true,
    slabAutomove: 1,
    slabAutomoveRatio: 0.8,
    slabAutomoveWindow: 30,
    outputBufferLimit: 64 * MB,
    tls: false,
    tlsCertFile: null,
    tlsKeyFile: null,
    tlsCaFile: null,
    httpPort: 0,
    user: null,
    daemonize: false,
    pidFile: null,
  };
}
