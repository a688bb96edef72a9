// -o: memcached's extended options, one table: what each does here (or why it is ignored or
// refused), its `stats settings` names, and the parser of an -o list.
import type { Config } from './config.js';
import { parseDecimal, parseInteger, parseSize, UsageError, type ApplyContext, type ExtendedOptionSpec } from './option-values.js';


function internal(name: string, value: ExtendedOptionSpec['value'], what: string): ExtendedOptionSpec {
  return {
    name, value, support: 'ignored', statsKeys: [],
    description: `Ignored with a warning: ${what}.`,
    apply: (_c, _v, ctx) => ctx.warn(`-o ${name} ignored: it tunes memcached's ${what}, which memcached-ts does not have`),
  };
}

/** hot_lru_pct / warm_lru_pct: memcached takes 1..79 each, and at most 80 together. */
function lruShare(name: string, field: 'hotPct' | 'warmPct', list: string, dflt: number): ExtendedOptionSpec {
  return {
    name, value: 'integer', support: 'yes', statsKeys: [name],
    description: `Largest share of a slab class's items the ${list} LRU holds, in percent (1-79; with the other, at most 80). Default ${dflt}.`,
    apply: (c, v) => {
      const n = parseInteger(v ?? '', 1, 79);
      const other = field === 'hotPct' ? c.lru.warmPct : c.lru.hotPct;
      if (n + other > 80) throw new UsageError('hot_lru_pct + warm_lru_pct cannot be more than 80% combined');
      c.lru[field] = n;
    },
  };
}

/** hot_max_factor / warm_max_factor: a number above 0. */
function lruAgeFactor(name: string, field: 'hotMaxFactor' | 'warmMaxFactor', what: string, dflt: string): ExtendedOptionSpec {
  return {
    name, value: 'number', support: 'yes', statsKeys: [name],
    description: `${what}. Default ${dflt}.`,
    apply: (c, v) => {
      const n = parseDecimal(v ?? '');
      if (!(n > 0)) throw new UsageError(`${name} must be > 0`);
      c.lru[field] = n;
    },
  };
}

export const EXTENDED_OPTIONS: readonly ExtendedOptionSpec[] = [
  {
    name: 'idle_timeout', value: 'integer', support: 'yes', statsKeys: ['idle_timeout'],
    description: 'Close connections idle for this many seconds; 0 (the default) never does.',
    apply: (c, v) => { c.idleTimeout = parseInteger(v ?? '', 0, 365 * 24 * 3600); },
  },
  {
    name: 'slab_chunk_max', value: 'size', support: 'yes', statsKeys: ['slab_chunk_max'],
    description: 'Largest slab chunk in bytes (as memcached 1.6.18 reads it, whatever its help says); larger items are chained. Must divide -I and the 1 MB page. Default 524288.',
    apply: (c, v, ctx) => {
      const n = parseSize(v ?? '');
      if (n < 1) throw new UsageError('slab_chunk_max must be at least 1');
      c.slabChunkMax = n;
      ctx.slabChunkMaxGiven = true;
    },
  },
  {
    name: 'track_sizes', value: 'none', support: 'yes', statsKeys: ['track_sizes'],
    description: "Enable the 'stats sizes' report.",
    apply: (c) => { c.trackSizes = true; },
  },
  {
    name: 'maxconns_fast', value: 'none', support: 'yes', statsKeys: [],
    description: 'Close connections over -c at once with an error (the default; accepted silently).',
  },
  {
    name: 'ssl_chain_cert', value: 'text', support: 'yes', statsKeys: ['ssl_chain_cert'],
    description: 'TLS certificate chain file (PEM), for -Z.',
    apply: (c, v) => { c.tlsCertFile = v ?? null; },
  },
  {
    name: 'ssl_key', value: 'text', support: 'yes', statsKeys: ['ssl_key'],
    description: 'TLS private key file (PEM), for -Z.',
    apply: (c, v) => { c.tlsKeyFile = v ?? null; },
  },
  {
    name: 'ssl_ca_cert', value: 'text', support: 'yes', statsKeys: ['ssl_ca_cert'],
    description: 'CA certificates file (PEM), for -Z.',
    apply: (c, v) => { c.tlsCaFile = v ?? null; },
  },
  internal('no_maxconns_fast', 'none', 'queueing of connections over the limit'),
  internal('hashpower', 'integer', 'initial hash table size'),
  internal('no_hashexpand', 'none', 'hash table expansion'),
  internal('hash_algorithm', 'text', 'choice of hash function'),
  internal('tail_repair_time', 'integer', 'LRU tail repair'),
  {
    name: 'lru_crawler', value: 'none', support: 'yes', statsKeys: ['lru_crawler'],
    description: 'Run the background crawler that frees expired items (the default).',
    apply: (c) => { c.lruCrawler = true; },
  },
  {
    name: 'no_lru_crawler', value: 'none', support: 'yes', statsKeys: ['lru_crawler'],
    description: 'Do not run the background crawler; expired items are then freed when touched or at the LRU tail.',
    apply: (c) => { c.lruCrawler = false; },
  },
  internal('lru_crawler_sleep', 'integer', 'LRU crawler thread'),
  internal('lru_crawler_tocrawl', 'integer', 'LRU crawler thread'),
  {
    name: 'lru_maintainer', value: 'none', support: 'yes', statsKeys: ['lru_maintainer_thread', 'lru_segmented'],
    description: 'Segmented LRU (HOT, WARM, COLD) kept by a background maintainer (the default).',
    apply: (c) => { c.lru.maintainer = true; c.lru.segmented = true; },
  },
  {
    name: 'no_lru_maintainer', value: 'none', support: 'yes', statsKeys: ['lru_maintainer_thread', 'lru_segmented'],
    description: 'One flat LRU per slab class and no maintainer, as memcached 1.4: reads give an item a second chance at the tail.',
    apply: (c) => { c.lru.maintainer = false; c.lru.segmented = false; },
  },
  lruShare('hot_lru_pct', 'hotPct', 'HOT', 20),
  lruShare('warm_lru_pct', 'warmPct', 'WARM', 40),
  lruAgeFactor('hot_max_factor', 'hotMaxFactor', "HOT's tail moves on once older than this times the COLD tail's age", '0.2'),
  lruAgeFactor('warm_max_factor', 'warmMaxFactor', "WARM's inactive tail goes to COLD once older than this times the COLD tail's age", '2.0'),
  internal('temporary_ttl', 'integer', 'temporary-item LRU'),
  internal('read_buf_mem_limit', 'integer', 'read buffer pool'),
  internal('watcher_logbuf_size', 'integer', 'logger buffers'),
  internal('worker_logbuf_size', 'integer', 'logger buffers'),
  {
    name: 'slab_reassign', value: 'none', support: 'yes', statsKeys: ['slab_reassign'],
    description: 'Allow moving slab pages between classes (the default).',
    apply: (c) => { c.slabReassign = true; },
  },
  {
    name: 'no_slab_reassign', value: 'none', support: 'yes', statsKeys: ['slab_reassign', 'slab_automove'],
    description: 'Never move slab pages between classes: `slabs reassign` is refused and the automover is off.',
    apply: (c) => { c.slabReassign = false; c.slabAutomove = 0; },
  },
  {
    name: 'slab_automove', value: 'integer', support: 'yes', statsKeys: ['slab_automove'],
    description: 'Slab automover: 0 off, 1 (default) moves a page from the class with the oldest items to a younger class that keeps evicting, 2 the same without waiting for a full window.',
    apply: (c, v) => { c.slabAutomove = parseInteger(v ?? '', 0, 2); },
  },
  {
    name: 'slab_automove_ratio', value: 'number', support: 'yes', statsKeys: ['slab_automove_ratio'],
    description: 'The automover moves a page when the youngest evicting class is younger than this share of the oldest class\'s age. Default 0.8.',
    apply: (c, v) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0 || n > 1) throw new UsageError('slab_automove_ratio must be a number in (0, 1]');
      c.slabAutomoveRatio = n;
    },
  },
  {
    name: 'slab_automove_window', value: 'integer', support: 'yes', statsKeys: ['slab_automove_window'],
    description: 'Seconds of history the automover averages over. Default 30.',
    apply: (c, v) => { c.slabAutomoveWindow = parseInteger(v ?? '', 1, 3600); },
  },
  internal('slab_automove_freeratio', 'number', 'slab page mover'),
  internal('modern', 'none', 'defaults for future versions'),
  internal('no_modern', 'none', 'defaults of the 1.4 series'),
  internal('sock_cookie_id', 'integer', 'socket cookies for firewalls'),
  internal('drop_privileges', 'none', 'seccomp sandbox'),
  internal('no_drop_privileges', 'none', 'seccomp sandbox'),
];

/** Prefixes of extended options for features memcached-ts does not have; refused. */
export const REFUSED_EXTENDED_PREFIXES: ReadonlyArray<readonly [prefix: string, reason: string]> = [
  ['ext_', 'extstore (external flash storage) is not supported'],
  ['ssl_', 'only ssl_chain_cert, ssl_key and ssl_ca_cert are supported'],
  ['proxy_', 'the memcached proxy is not supported'],
];

/**
 * A refused prefix as help and man list it: `ssl_*`, with the names of that prefix that the
 * table accepts as exceptions (`ssl_* (except ssl_chain_cert, ...)`), since those parse.
 */
export function refusedExtendedLabel(prefix: string): string {
  const accepted = EXTENDED_OPTIONS.filter((x) => x.name.startsWith(prefix)).map((x) => x.name);
  return accepted.length === 0 ? `${prefix}*` : `${prefix}* (except ${accepted.join(', ')})`;
}

export function applyExtended(config: Config, list: string, ctx: ApplyContext): void {
  if (list === '') return; // memcached accepts an empty -o
  for (const item of list.split(',')) {
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? undefined : item.slice(eq + 1);
    const spec = EXTENDED_OPTIONS.find((o) => o.name === name);
    if (!spec) {
      const refusal = REFUSED_EXTENDED_PREFIXES.find(([p]) => name.startsWith(p));
      if (refusal) throw new UsageError(`"${name}": ${refusal[1]}`);
      throw new UsageError(`unknown extended option "${item}"`);
    }
    if (spec.value === 'none') {
      if (value !== undefined) throw new UsageError(`"${name}" takes no value`);
    } else {
      if (value === undefined || value === '') throw new UsageError(`"${name}" needs a value (${name}=...)`);
      try {
        if (spec.value === 'integer') parseInteger(value, 0, Number.MAX_SAFE_INTEGER);
        else if (spec.value === 'number') parseDecimal(value);
        else if (spec.value === 'size') parseSize(value);
      } catch (err) {
        if (err instanceof UsageError) throw new UsageError(`${name}: ${err.message}`);
        throw err;
      }
    }
    spec.apply?.(config, value, ctx);
  }
}
