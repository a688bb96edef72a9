// The one table of command-line options. yargs, --help, the man page and the checks on
// `stats settings` are all generated from it, so they cannot drift apart.
import { type Config, MB } from './config.js';
import { applyExtended } from './extended-options.js';
import { parseDecimal, parseInteger, parseSize, str, UsageError, type ApplyContext, type OptionSpec } from './option-values.js';

export * from './option-values.js';
export { EXTENDED_OPTIONS, REFUSED_EXTENDED_PREFIXES, refusedExtendedLabel } from './extended-options.js';

const ITEM_SIZE_MIN = 1024;
const ITEM_SIZE_MAX = 1024 * MB;

/** Why there is no UDP; quoted in the -U error, --help and the man page. */
export const UDP_REFUSAL =
  'UDP is not supported (memcached UDP was abused for the 2018 amplification DDoS attacks); only -U 0 is accepted';

function splitListen(text: string): string[] {
  return text.split(',').map((raw) => {
    let addr = raw.trim();
    if (addr === '') throw new UsageError(`empty address in "${text}"`);
    if (addr.startsWith('notls:')) throw new UsageError(`"${addr}": notls: needs TLS, which memcached-ts does not support`);
    const bracketed = /^\[([^\]]+)\](:.*)?$/.exec(addr);
    if (bracketed) {
      if (bracketed[2] !== undefined) throw new UsageError(`"${addr}": per-address ports are not supported, use -p`);
      addr = bracketed[1] ?? addr;
    } else if (addr.split(':').length === 2) {
      // One colon is host:port; IPv6 literals have at least two.
      throw new UsageError(`"${addr}": per-address ports are not supported, use -p`);
    }
    return addr;
  });
}

function ignored(reason: string) {
  return (_c: Config, _v: unknown, ctx: ApplyContext): void => ctx.warn(reason);
}

export const OPTIONS: readonly OptionSpec[] = [
  {
    long: 'port', short: ['p'], kind: 'value', arg: 'NUM', defaultText: '11211',
    description: 'TCP port to listen on; 0 turns TCP off, -1 picks a free port (see MEMCACHED_PORT_FILENAME).',
    support: 'yes', statsKeys: ['tcpport'], example: ['-p', '11311'],
    apply: (c, v) => { c.port = parseInteger(str(v), -1, 65535); },
  },
  {
    long: 'udp-port', short: ['U'], kind: 'value', arg: 'NUM', defaultText: '0, off',
    description: 'UDP port. Only 0 (off) is accepted: memcached UDP was abused for the 2018 amplification DDoS attacks, so memcached-ts has no UDP.',
    support: 'yes', statsKeys: ['udpport'], example: ['-U', '0'],
    apply: (c, v) => {
      if (str(v) !== '0') throw new UsageError(UDP_REFUSAL);
      c.udpPort = 0;
    },
  },
  {
    long: 'unix-socket', short: ['s'], kind: 'value', arg: 'FILE',
    description: 'UNIX socket to listen on (turns off network support).',
    support: 'yes', statsKeys: ['domain_socket'], example: ['-s', '/tmp/memcached-ts.sock'],
    apply: (c, v) => {
      if (str(v) === '') throw new UsageError('empty socket path');
      c.unixSocket = str(v);
    },
  },
  {
    long: 'unix-mask', short: ['a'], kind: 'value', arg: 'MASK', defaultText: '700',
    description: 'Access mask for the UNIX socket, in octal.',
    support: 'yes', statsKeys: ['umask'], example: ['-a', '770'],
    apply: (c, v) => {
      if (!/^[0-7]{1,4}$/.test(str(v)) || parseInt(str(v), 8) > 0o777) {
        throw new UsageError(`"${str(v)}" is not an octal mask (000..777)`);
      }
      c.unixMask = parseInt(str(v), 8);
    },
  },
  {
    long: 'enable-shutdown', short: ['A'], kind: 'flag',
    description: 'Enable the ascii "shutdown" command.',
    support: 'yes', statsKeys: ['shutdown_command'], example: ['-A'],
    apply: (c) => { c.shutdownEnabled = true; },
  },
  {
    long: 'listen', short: ['l'], kind: 'value', arg: 'ADDR', defaultText: '127.0.0.1',
    description: 'Interface(s) to listen on, comma-separated; may be repeated. Unlike memcached the default is 127.0.0.1, not every interface.',
    support: 'yes', statsKeys: ['inter', 'num_threads_per_udp'], example: ['-l', '127.0.0.1,::1'],
    apply: (c, v, ctx) => {
      const addrs = splitListen(str(v));
      c.listen = ctx.listenGiven ? [...c.listen, ...addrs] : addrs;
      ctx.listenGiven = true;
    },
  },
  {
    long: 'memory-limit', short: ['m'], kind: 'value', arg: 'MB', defaultText: '64',
    description: 'Item memory in megabytes.',
    support: 'yes', statsKeys: ['maxbytes'], example: ['-m', '128'],
    apply: (c, v) => { c.memoryLimit = parseInteger(str(v), 1, 64 * 1024 * 1024) * MB; },
  },
  {
    long: 'disable-evictions', short: ['M'], kind: 'flag',
    description: 'Return an error when memory is exhausted instead of evicting items.',
    support: 'yes', statsKeys: ['evictions'], example: ['-M'],
    apply: (c) => { c.noEvict = true; },
  },
  {
    long: 'conn-limit', short: ['c'], kind: 'value', arg: 'NUM', defaultText: '1024',
    description: 'Maximum simultaneous connections.',
    support: 'yes', statsKeys: ['maxconns'], example: ['-c', '50'],
    apply: (c, v) => { c.maxConnections = parseInteger(str(v), 1, 1_000_000); },
  },
  {
    long: 'verbose', short: ['v'], kind: 'count',
    description: 'Verbose: -v adds notes to the warnings on stderr; -vv also prints each client command and reply as memcached does (`<N command`, `>N reply`, N the connection number shown by `stats conns`); -vvv prints the same as -vv.',
    support: 'yes', statsKeys: ['verbosity'], example: ['-vv'],
    apply: (c, v) => { c.verbosity = Math.min(3, Number(v)); },
  },
  {
    long: 'threads', short: ['t'], kind: 'value', arg: 'NUM', defaultText: '4',
    description: 'Number of worker threads. Accepted and shown as num_threads in stats settings, but ignored: memcached-ts serves every request on one event loop, so `stats` reports threads 1.',
    support: 'yes', statsKeys: ['num_threads', 'num_threads_per_udp'], example: ['-t', '8'],
    apply: (c, v) => { c.threads = parseInteger(str(v), 1, 1024); },
  },
  {
    long: 'max-reqs-per-event', short: ['R'], kind: 'value', arg: 'NUM', defaultText: '20',
    description: 'Maximum requests handled from one connection\'s buffered input before other connections get a turn (counted in conn_yields), to prevent starvation.',
    support: 'yes', statsKeys: ['reqs_per_event'], example: ['-R', '5'],
    apply: (c, v) => { c.reqsPerEvent = parseInteger(str(v), 1, 1_000_000); },
  },
  {
    long: 'slab-growth-factor', short: ['f'], kind: 'value', arg: 'FACTOR', defaultText: '1.25',
    description: 'Chunk size growth factor between slab classes; must be greater than 1.',
    support: 'yes', statsKeys: ['growth_factor'], example: ['-f', '1.5'],
    apply: (c, v) => {
      const f = parseDecimal(str(v));
      if (f <= 1) throw new UsageError('the factor must be greater than 1');
      c.growthFactor = f;
    },
  },
  {
    long: 'slab-min-size', short: ['n'], kind: 'value', arg: 'BYTES', defaultText: '48',
    description: 'Minimum space for key + value + flags in the smallest chunk.',
    support: 'yes', statsKeys: ['chunk_size'], example: ['-n', '64'],
    apply: (c, v) => { c.chunkSize = parseInteger(str(v), 1, 1024 * 1024); },
  },
  {
    long: 'max-item-size', short: ['I'], kind: 'value', arg: 'SIZE', defaultText: '1m',
    description: 'Largest item, header included, in bytes with an optional k or m suffix (min 1k, max 1024m, at most half of -m).',
    support: 'yes', statsKeys: ['item_size_max'], example: ['-I', '2m'],
    apply: (c, v) => {
      const n = parseSize(str(v));
      if (n < ITEM_SIZE_MIN || n > ITEM_SIZE_MAX) throw new UsageError(`${str(v)} is out of range (1k..1024m)`);
      c.itemSizeMax = n;
    },
  },
  {
    long: 'disable-cas', short: ['C'], kind: 'flag',
    description: 'Disable CAS: cas uniques are reported as 0.',
    support: 'yes', statsKeys: ['cas_enabled'], example: ['-C'],
    apply: (c) => { c.useCas = false; },
  },
  {
    long: 'listen-backlog', short: ['b'], kind: 'value', arg: 'NUM', defaultText: '1024',
    description: 'Backlog queue limit of the listening sockets.',
    support: 'yes', statsKeys: ['tcp_backlog'], example: ['-b', '64'],
    apply: (c, v) => { c.backlog = parseInteger(str(v), 0, 65535); },
  },
  {
    long: 'protocol', short: ['B'], kind: 'value', arg: 'NAME', defaultText: 'auto',
    description: 'Protocol: ascii, binary, or auto (chosen per connection from the first byte).',
    support: 'yes', statsKeys: ['binding_protocol'], example: ['-B', 'ascii'],
    apply: (c, v, ctx) => {
      const p = str(v);
      if (p !== 'ascii' && p !== 'binary' && p !== 'auto') {
        throw new UsageError(`"${p}" is not one of ascii, binary, auto`);
      }
      c.bindingProtocol = p;
      ctx.protocolGiven = true;
    },
  },
  {
    long: 'prefix-delimiter', short: ['D'], kind: 'value', arg: 'CHAR', defaultText: ':',
    description: 'Delimiter between key prefixes and IDs for per-prefix stats (stats detail). memcached has no long form of this option.',
    support: 'yes', statsKeys: ['stat_key_prefix'], example: ['-D', '#'],
    apply: (c, v) => {
      if ([...str(v)].length !== 1) throw new UsageError(`"${str(v)}" is not a single character`);
      c.prefixDelimiter = str(v);
    },
  },
  {
    long: 'disable-flush-all', short: ['F'], kind: 'flag',
    description: 'Disable the flush_all command.',
    support: 'yes', statsKeys: ['flush_enabled'], example: ['-F'],
    apply: (c) => { c.flushEnabled = false; },
  },
  {
    long: 'disable-dumping', short: ['X'], kind: 'flag',
    description: 'Disable stats cachedump and lru_crawler metadump.',
    support: 'yes', statsKeys: ['dump_enabled'], example: ['-X'],
    apply: (c) => { c.dumpDisabled = true; },
  },
  {
    long: 'disable-watch', short: ['W'], kind: 'flag',
    description: 'Disable watch commands (live logging).',
    support: 'yes', statsKeys: [], example: ['-W'],
    apply: (c) => { c.watchDisabled = true; },
  },
  {
    long: 'auth-file', short: ['Y'], kind: 'value', arg: 'FILE',
    description:
      'Credentials file, one user:password per line (the password is the rest of the line and may contain ":"; a trailing CR is ignored; the file is read again at each login). ' +
      'Alone it enables ascii authentication, as memcached: the first command must be "set <any> <any> <any> <n>" with "user password" as its value (and implies -B ascii); with -S it is the password list for binary SASL PLAIN. ' +
      'Unlike memcached, the third failed login on a connection is answered and the connection closed (stats auth_errors counts every failure).',
    support: 'yes', statsKeys: ['auth_enabled_ascii'], example: ['-Y', '/etc/memcached-ts.auth'],
    apply: (c, v) => {
      if (str(v) === '') throw new UsageError('empty file name');
      c.authFile = str(v);
    },
  },
  {
    long: 'enable-sasl', short: ['S'], kind: 'flag',
    description:
      'Require SASL authentication on the binary protocol (implies -B binary). Needs -Y FILE for the credentials. Only the PLAIN mechanism is offered; until a client authenticates, every command but SASL list/auth/step and Version gets status 0x20 and the connection is closed. memjs connects with Client.create("user:password@host:port").',
    support: 'yes', statsKeys: ['auth_enabled_sasl'], example: ['-S', '-Y', '/etc/memcached-ts.auth'],
    apply: (c) => { c.sasl = true; },
  },
  {
    long: 'enable-ssl', short: ['Z'], kind: 'flag',
    description: 'Serve TLS on the TCP listeners. Needs -o ssl_chain_cert=FILE,ssl_key=FILE (PEM); -o ssl_ca_cert=FILE adds CA certificates.',
    support: 'yes', statsKeys: ['ssl_enabled'], example: ['-Z', '-o', 'ssl_chain_cert=/etc/mc/cert.pem,ssl_key=/etc/mc/key.pem'],
    apply: (c) => { c.tls = true; },
  },
  {
    long: 'extended', short: ['o'], kind: 'value', arg: 'LIST',
    description: 'Comma-separated list of extended options (see EXTENDED OPTIONS); may be repeated.',
    support: 'yes', statsKeys: ['idle_timeout', 'slab_chunk_max', 'track_sizes'], example: ['-o', 'idle_timeout=30,track_sizes'],
    apply: (c, v, ctx) => applyExtended(c, str(v), ctx),
  },
  {
    long: 'snapshot-file', short: ['e'], longAliases: ['memory-file'], kind: 'value', arg: 'FILE',
    description:
      "Save the cache to FILE at graceful shutdown (SIGTERM, SIGINT, SIGUSR1, shutdown) and every --snapshot-interval seconds, and load it at startup before accepting connections. " +
      'Expiry times are stored as wall-clock times, so items that expired while the daemon was down are not loaded, and the CAS counter continues above every loaded CAS. ' +
      'The file is replaced atomically (temporary file, fsync, rename), so a crash keeps the previous snapshot. ' +
      'A damaged, truncated or newer-format file loads only its checksum-verified part (or nothing), is reported in one log line and renamed to FILE.bad-TIMESTAMP. ' +
      'A snapshot larger than -m loads its most recently used items. A periodic snapshot is consistent per item, not a point-in-time image: items changed while it is written may be saved in either state. ' +
      "-e/--memory-file (memcached's warm restart file) is an alias; unlike memcached's, the file is portable and needs no tmpfs.",
    support: 'yes', statsKeys: ['memory_file'], example: ['--snapshot-file', '/var/tmp/memcached-ts.snap'],
    apply: (c, v) => {
      if (str(v) === '') throw new UsageError('empty file name');
      c.snapshotFile = str(v);
    },
  },
  {
    long: 'snapshot-interval', short: [], kind: 'value', arg: 'SECONDS', defaultText: '0',
    description: 'Seconds between periodic snapshots; 0 saves only at shutdown. A failed write is logged, the previous snapshot is kept and the next interval tries again. Needs --snapshot-file.',
    support: 'yes', statsKeys: [], example: ['--snapshot-interval', '300', '--snapshot-file', '/var/tmp/memcached-ts.snap'],
    apply: (c, v) => { c.snapshotInterval = parseInteger(str(v), 0, 365 * 24 * 3600); },
  },
  {
    long: 'journal-file', short: [], kind: 'value', arg: 'FILE',
    description:
      'Append every change (from every protocol) to FILE, an append-only journal of checksummed, numbered records, and replay it at startup after the snapshot, so acknowledged writes survive a crash or kill -9. ' +
      'When a snapshot starts, the journal continues in a new file and the records before it are dropped once the snapshot is safely written, so the journal stays about one snapshot interval long (use it with --snapshot-file and --snapshot-interval). ' +
      'A torn or corrupt tail is cut at the last good record and logged; a file of another format or with CAS on/off (-C) changed is renamed to FILE.bad-TIMESTAMP. ' +
      'If the journal cannot be written (disk full, I/O error, read-only) changes are refused with SERVER_ERROR until it can, and reads go on.',
    support: 'yes', statsKeys: ['journal_file'], example: ['--journal-file', '/var/lib/memcached-ts/journal', '--snapshot-file', '/var/lib/memcached-ts/snap', '--snapshot-interval', '60'],
    apply: (c, v) => {
      if (str(v) === '') throw new UsageError('empty file name');
      c.journalFile = str(v);
    },
  },
  {
    long: 'journal-fsync', short: [], kind: 'value', arg: 'always|everysec|no', defaultText: 'everysec',
    description:
      'When journal records reach the disk. always: the reply to a change is sent only after the change is written and fsynced; the changes of all connections in one event-loop turn share one write and one fsync (group commit), so a kill -9 or power loss loses no acknowledged write. ' +
      'everysec: records are written within 10 ms and fsynced about once a second, so a killed process loses at most the last ~10 ms of changes and a power loss about the last second. no: written within 10 ms; the OS decides when to flush. Without --journal-file it has no effect.',
    support: 'yes', statsKeys: ['journal_fsync'], example: ['--journal-fsync', 'always', '--journal-file', '/var/lib/memcached-ts/journal'],
    apply: (c, v) => {
      const mode = str(v);
      if (mode !== 'always' && mode !== 'everysec' && mode !== 'no') throw new UsageError(`"${mode}" is not one of always, everysec, no`);
      c.journalFsync = mode;
    },
  },
  {
    long: 'json-port', short: [], kind: 'value', arg: 'NUM', defaultText: '0, off',
    description:
      'TCP port of the JSON-lines front (requests as one JSON object per line, or plain lines such as PUT k v; transactions with START/COMMIT/ROLLBACK), on the same cache and the -l addresses. ' +
      '0 turns it off; -1 picks a free port and MEMCACHED_PORT_FILENAME gets a "JSON INET: <port>" line. -c, -Y and -o idle_timeout apply to it too.',
    support: 'yes', statsKeys: ['json_port'], example: ['--json-port', '4242'],
    apply: (c, v) => { c.jsonPort = parseInteger(str(v), -1, 65535); },
  },
  {
    long: 'http-port', short: [], kind: 'value', arg: 'PORT', defaultText: '0, off',
    description:
      'Serve HTTP on PORT as well, on the -l addresses (HTTPS with -Z): a REST blob store under /store/<key>, GET /set?<key>=<value> and /get?key=<key>, /metrics (Prometheus, memcached_exporter names), /healthz and /stats. ' +
      '-1 picks a free port (written as "HTTP INET: <port>" to MEMCACHED_PORT_FILENAME). It obeys -c, -o idle_timeout, -I and, with -Y, asks for HTTP Basic auth with the same credentials.',
    support: 'yes', statsKeys: ['http_port'], example: ['--http-port', '8080'],
    apply: (c, v) => { c.httpPort = parseInteger(str(v), -1, 65535); },
  },
  {
    long: 'user', short: ['u'], kind: 'value', arg: 'USER',
    description:
      'When started as root, run as USER (as memcached, started as root it refuses to run without -u; -u root keeps root). ' +
      'The listeners are bound, the snapshot loaded, the journal opened and the -P file written first, as root, so ports below 1024 work; ' +
      'then the supplementary groups are dropped and the group and user become USER\'s. The directories of the snapshot and the journal ' +
      'must be writable by USER (checked at startup, as USER) and the -Y file readable by it; the -s socket and the journal file are given to USER. ' +
      'Ignored when not started as root.',
    support: 'yes', statsKeys: [], example: ['-u', 'memcache'],
    apply: (c, v) => {
      if (str(v) === '') throw new UsageError('empty user name');
      c.user = str(v);
    },
  },
  {
    long: 'daemon', short: ['d'], kind: 'flag',
    description:
      'Run in the background: the command starts a detached copy of itself in a new session, with its working directory at / (relative paths are made absolute first) ' +
      'and its standard input and output on /dev/null (its standard error too, unless -v), and exits 0 once that copy is serving, ' +
      'or with the copy\'s error and exit code if it could not start. Use -P to learn its pid. Under systemd, leave -d out (Type=simple, see contrib/memcached-ts.service).',
    support: 'yes', statsKeys: [], example: ['-d'],
    apply: (c) => { c.daemonize = true; },
  },
  {
    long: 'pidfile', short: ['P'], kind: 'value', arg: 'FILE',
    description:
      'Write the process id to FILE once the listeners are bound (before -u drops root, so FILE may be in /run), and remove it at exit if it still holds that id. ' +
      'Unlike memcached, a pid file that cannot be written stops the start, and the file is removed at exit without -d too.',
    support: 'yes', statsKeys: [], example: ['-P', '/run/memcached-ts.pid'],
    apply: (c, v) => {
      if (str(v) === '') throw new UsageError('empty file name');
      c.pidFile = str(v);
    },
  },
  // ---- memcached options that cannot be honoured here ----
  {
    long: 'enable-coredumps', short: ['r'], kind: 'flag',
    description: 'Ignored with a warning: set the core file limit with ulimit -c instead.',
    support: 'ignored', statsKeys: [], example: ['-r'],
    apply: ignored('-r ignored: set the core file limit with ulimit -c before starting memcached-ts'),
  },
  {
    long: 'lock-memory', short: ['k'], kind: 'flag',
    description: 'Ignored with a warning: Node.js cannot lock its memory (mlockall).',
    support: 'ignored', statsKeys: [], example: ['-k'],
    apply: ignored('-k ignored: Node.js cannot lock its memory; memory may be paged out'),
  },
  {
    long: 'enable-largepages', short: ['L'], kind: 'flag',
    description: 'Ignored with a warning: large pages are up to the operating system (transparent huge pages).',
    support: 'ignored', statsKeys: [], example: ['-L'],
    apply: ignored('-L ignored: memcached-ts cannot request large pages'),
  },
  {
    long: 'napi-ids', short: ['N'], kind: 'value', arg: 'NUM',
    description: 'Ignored with a warning: NAPI ID based thread selection needs worker threads.',
    support: 'ignored', statsKeys: [], example: ['-N', '2'],
    apply: (c, v, ctx) => {
      parseInteger(str(v), 1, 1024);
      ctx.warn('-N ignored: memcached-ts has one event loop, so there are no threads to pick by NAPI ID');
    },
  },
  // ---- actions ----
  {
    long: 'help', short: ['h'], kind: 'flag',
    description: 'Print this help and exit.', support: 'action', statsKeys: [], example: ['-h'],
  },
  {
    long: 'version', short: ['V'], kind: 'flag',
    description: 'Print the version and exit.', support: 'action', statsKeys: [], example: ['-V'],
  },
  {
    long: 'license', short: ['i'], kind: 'flag',
    description: 'Print the license and exit.', support: 'action', statsKeys: [], example: ['-i'],
  },
];

/** Checks that involve more than one option, after all of them are applied. memcached's rules. */
export function validateConfig(c: Config, ctx: ApplyContext): void {
  if (c.itemSizeMax > c.memoryLimit / 2) {
    throw new UsageError(`-I ${c.itemSizeMax} is more than half of -m (${c.memoryLimit / MB} MB)`);
  }
  if (!ctx.slabChunkMaxGiven) {
    if (c.itemSizeMax > MB) {
      c.slabChunkMax = c.slabPageSize / 2;
    } else if (c.itemSizeMax < c.slabChunkMax) {
      // memcached 1.6.18 refuses -I below 512k unless slab_chunk_max is lowered too, though
      // its help says min 1k; pick the largest power of two that divides -I instead.
      c.slabChunkMax = c.itemSizeMax & -c.itemSizeMax;
    }
  }
  if (c.slabChunkMax > c.itemSizeMax) {
    throw new UsageError(`slab_chunk_max (${c.slabChunkMax}) cannot be larger than -I (${c.itemSizeMax})`);
  }
  if (c.itemSizeMax % c.slabChunkMax !== 0) {
    throw new UsageError(`-I (${c.itemSizeMax}) must be a multiple of slab_chunk_max (${c.slabChunkMax})`);
  }
  if (c.slabPageSize % c.slabChunkMax !== 0) {
    throw new UsageError(`slab_chunk_max (${c.slabChunkMax}) must divide the slab page size (${c.slabPageSize})`);
  }
  // memcached: SASL is binary-only, ascii auth is ascii-only; without -B they choose it.
  if (c.sasl) {
    if (c.authFile === null) throw new UsageError('-S needs -Y FILE with the user:password list');
    if (ctx.protocolGiven && c.bindingProtocol !== 'binary') {
      throw new UsageError('-S (SASL) works only with the binary protocol; drop -B or use -B binary');
    }
    c.bindingProtocol = 'binary';
  } else if (c.authFile !== null) {
    if (ctx.protocolGiven && c.bindingProtocol !== 'ascii') {
      throw new UsageError('-Y (ascii authentication) works only with the ascii protocol; drop -B or use -B ascii');
    }
    c.bindingProtocol = 'ascii';
  }
  if (c.tls && (c.tlsCertFile === null || c.tlsKeyFile === null)) {
    throw new UsageError('-Z (TLS) needs -o ssl_chain_cert=FILE,ssl_key=FILE');
  }
  if (!c.tls && (c.tlsCertFile !== null || c.tlsKeyFile !== null || c.tlsCaFile !== null)) {
    throw new UsageError('-o ssl_* options need -Z');
  }
  if (c.snapshotInterval > 0 && c.snapshotFile === null) {
    throw new UsageError('--snapshot-interval needs --snapshot-file');
  }
  if (c.journalFile !== null && c.journalFile === c.snapshotFile) {
    throw new UsageError('--journal-file and --snapshot-file must be different files');
  }
}

/** Every spelling of an option: ['-e', '--snapshot-file', '--memory-file']. */
export function optionNames(o: OptionSpec): string[] {
  return [...o.short.map((s) => `-${s}`), `--${o.long}`, ...(o.longAliases ?? []).map((l) => `--${l}`)];
}
