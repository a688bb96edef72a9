// Hit ratio under a skewed workload with scans, memcached against memcached-ts at the same -m:
// Zipf-distributed reads of a key space larger than the cache, each miss followed by a set
// (what a cache client does), and every so often a one-pass scan over keys never seen before
// (a batch job reading through the cache). A segmented LRU keeps the Zipf head in WARM while
// the scan flows through HOT and COLD; a flat LRU lets the scan push it out.
//   node dist/bench/hit-ratio.js [--mem 16] [--keys 1000000] [--ops 2000000] [--targets ...]
import net from 'node:net';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/cli.js';
import { Rng, ZipfKeys } from './lib/rng.js';
import { ServerProcess, splitCommand, RUN_AS } from './lib/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOST = '127.0.0.1';
const MC_USER = process.getuid?.() === 0 ? ' -u root' : '';

/** The servers a run can compare; {port} and {mem} are filled in. */
const TARGETS: Record<string, string> = {
  memcached: `memcached${MC_USER} -U 0 -l ${HOST} -p {port} -m {mem}`,
  'memcached-flat': `memcached${MC_USER} -U 0 -l ${HOST} -p {port} -m {mem} -o no_lru_maintainer`,
  'memcached-ts': `node bin/memcached-ts.js${RUN_AS} -U 0 -l ${HOST} -p {port} -m {mem}`,
  'memcached-ts-flat': `node bin/memcached-ts.js${RUN_AS} -U 0 -l ${HOST} -p {port} -m {mem} -o no_lru_maintainer`,
};

const USAGE = `usage: node dist/bench/hit-ratio.js [options]
Hit ratio of get-miss-then-set clients on Zipf keys with one-pass scans mixed in, for each
target at the same -m, all targets driven at the same time with the same request sequence.
  --mem MB          every server's -m (default 16)
  --keys N          Zipf key space (default 1000000)
  --theta T         Zipf skew, 0 < T < 1 (default 0.99)
  --ops N           Zipf reads measured (default 2000000), after --warmup N more (default 500000)
  --scan-every N    Zipf reads between two scans (default 100000)
  --scan-keys N     keys a scan reads, each once, never seen before (default 100000)
  --value-size B    value bytes (default 100)
  --batch N         requests in flight per round trip (default 64)
  --seed N          request sequence seed (default 1)
  --reps N          runs, each with fresh servers (default 3); the table has each and the mean
  --targets LIST    comma list of ${Object.keys(TARGETS).join(', ')}
                    (default memcached,memcached-ts,memcached-ts-flat)
  --out FILE        also write the markdown table here ("-": stdout only, the default)`;

const a = benchArgs(USAGE, {
  mem: { type: 'string', default: '16' },
  keys: { type: 'string', default: '1000000' },
  theta: { type: 'string', default: '0.99' },
  ops: { type: 'string', default: '2000000' },
  warmup: { type: 'string', default: '500000' },
  'scan-every': { type: 'string', default: '100000' },
  'scan-keys': { type: 'string', default: '100000' },
  'value-size': { type: 'string', default: '100' },
  batch: { type: 'string', default: '64' },
  seed: { type: 'string', default: '1' },
  reps: { type: 'string', default: '3' },
  targets: { type: 'string', default: 'memcached,memcached-ts,memcached-ts-flat' },
  out: { type: 'string', default: '-' },
});

function positive(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) {
    process.stderr.write(`--${name} must be a positive integer, got "${v}"\n${USAGE}\n`);
    process.exit(2);
  }
  return n;
}
const mem = positive('mem', a.mem);
const keys = positive('keys', a.keys);
const ops = positive('ops', a.ops);
const warmup = Number(a.warmup);
const scanEvery = positive('scan-every', a['scan-every']);
const scanKeys = Number(a['scan-keys']);
const valueSize = positive('value-size', a['value-size']);
const batch = positive('batch', a.batch);
const seed = Number(a.seed);
const reps = positive('reps', a.reps);
const theta = Number(a.theta);
if (!(theta > 0 && theta < 1) || !Number.isSafeInteger(warmup) || warmup < 0 || !Number.isSafeInteger(scanKeys) || scanKeys < 0) {
  process.stderr.write(`--theta must be in (0,1); --warmup and --scan-keys must be integers >= 0\n${USAGE}\n`);
  process.exit(2);
}
const targetNames = a.targets!.split(',').filter((t) => t !== '');
for (const t of targetNames) {
  if (TARGETS[t] === undefined) {
    process.stderr.write(`unknown target "${t}"\n${USAGE}\n`);
    process.exit(2);
  }
}

/** One request of the sequence: a Zipf key (kind 0) or a scan key (kind 1), by index. */
interface Step {
  kind: number;
  index: number;
}

/**
 * The request sequence, the same for every target: Zipf reads, with a scan of `scanKeys`
 * fresh keys after every `scanEvery` of them. Keys are fixed width so every item has the
 * same size (one slab class).
 */
function* sequence(): Generator<Step> {
  const rng = new Rng(seed);
  const zipf = new ZipfKeys(keys, theta);
  let scanned = 0;
  const total = warmup + ops;
  for (let i = 0; i < total; i++) {
    if (i > 0 && i % scanEvery === 0) for (let j = 0; j < scanKeys; j++) yield { kind: 1, index: scanned++ };
    yield { kind: 0, index: zipf.next(rng) };
  }
}

const keyOf = (s: Step): string => `${s.kind === 0 ? 'z' : 's'}${String(s.index).padStart(10, '0')}`;
const VALUE = 'v'.repeat(valueSize);

/** A connection that sends a batch of gets, counts hits, then sets the misses (noreply). */
class Client {
  readonly #sock: net.Socket;
  #buf: Buffer<ArrayBufferLike> = Buffer.alloc(0);
  #waiting: ((b: Buffer<ArrayBufferLike>) => void) | null = null;

  constructor(port: number) {
    this.#sock = net.connect({ host: HOST, port });
    this.#sock.setNoDelay(true);
    this.#sock.on('data', (d: Buffer) => {
      this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
      this.#waiting?.(this.#buf);
    });
  }

  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#sock.once('connect', () => resolve());
      this.#sock.once('error', reject);
    });
  }

  /** Hits among `ks` (one `get` each), then `set ... noreply` of the misses. Returns a hit flag per key. */
  async round(ks: string[]): Promise<boolean[]> {
    this.#sock.write(ks.map((k) => `get ${k}\r\n`).join(''));
    const hits = await this.#replies(ks.length);
    let sets = '';
    for (let i = 0; i < ks.length; i++) if (!hits[i]) sets += `set ${ks[i]} 0 0 ${valueSize} noreply\r\n${VALUE}\r\n`;
    if (sets !== '') this.#sock.write(sets);
    return hits;
  }

  /** Parse `n` get replies: `END` alone is a miss, `VALUE ... END` a hit. */
  #replies(n: number): Promise<boolean[]> {
    return new Promise((resolve, reject) => {
      const out: boolean[] = [];
      let at = 0;
      const parse = (b: Buffer<ArrayBufferLike>): void => {
        while (out.length < n) {
          const eol = b.indexOf('\r\n', at);
          if (eol < 0) return;
          if (b[at] === 0x45 /* E */) {
            out.push(false);
            at = eol + 2;
            continue;
          }
          const line = b.toString('latin1', at, eol);
          const m = /^VALUE \S+ \d+ (\d+)/.exec(line);
          if (m === null) {
            reject(new Error(`unexpected reply: ${line}`));
            return;
          }
          const end = eol + 2 + Number(m[1]) + 2 + 5;
          if (b.length < end) return;
          out.push(true);
          at = end;
        }
        this.#buf = b.subarray(at);
        this.#waiting = null;
        resolve(out);
      };
      this.#waiting = parse;
      parse(this.#buf);
    });
  }

  close(): void {
    this.#sock.end();
  }
}

interface Tally {
  zipfGets: number;
  zipfHits: number;
  scanGets: number;
  scanHits: number;
}

async function drive(port: number): Promise<Tally> {
  const c = new Client(port);
  await c.ready();
  const t: Tally = { zipfGets: 0, zipfHits: 0, scanGets: 0, scanHits: 0 };
  let zipfSeen = 0;
  let pending: Step[] = [];
  const flush = async (): Promise<void> => {
    const hits = await c.round(pending.map(keyOf));
    for (let i = 0; i < pending.length; i++) {
      const s = pending[i]!;
      if (s.kind === 0) {
        // the warm-up fills the cache; only reads after it are counted
        if (++zipfSeen <= warmup) continue;
        t.zipfGets++;
        if (hits[i]) t.zipfHits++;
      } else if (zipfSeen > warmup) {
        t.scanGets++;
        if (hits[i]) t.scanHits++;
      }
    }
    pending = [];
  };
  for (const s of sequence()) {
    pending.push(s);
    if (pending.length === batch) await flush();
  }
  if (pending.length > 0) await flush();
  c.close();
  return t;
}

const pct = (n: number, d: number): string => (d === 0 ? '-' : `${((100 * n) / d).toFixed(2)}%`);

interface RunResult {
  tally: Tally;
  stats: Record<string, string>;
}

/** One run: fresh servers for every target, all driven at once. */
async function runOnce(): Promise<{ results: RunResult[]; seconds: number }> {
  const servers: ServerProcess[] = [];
  try {
    for (const name of targetNames) {
      servers.push(await ServerProcess.start({ argv: splitCommand(TARGETS[name]!), cwd: ROOT }, { label: name, memMB: mem, extraArgs: [], cpu: null, host: HOST }));
    }
    const began = Date.now();
    const tallies = await Promise.all(servers.map((s) => drive(s.port)));
    const seconds = (Date.now() - began) / 1000;
    const stats = await Promise.all(servers.map((s) => s.stats()));
    return { results: tallies.map((tally, i) => ({ tally, stats: stats[i]! })), seconds };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

const COUNTERS = ['evictions', 'evicted_active', 'moves_to_cold', 'moves_to_warm', 'moves_within_lru', 'lru_bumps_dropped'] as const;

async function main(): Promise<number> {
  const lines = [
    `Zipf(${theta}) over ${keys} keys, ${valueSize}-byte values, -m ${mem}; a scan of ${scanKeys} fresh keys every ${scanEvery} Zipf reads;`,
    `${warmup} Zipf reads of warm-up, then ${ops} measured; get, and set on a miss, ${batch} requests per round trip;`,
    `seed ${seed}; in each run all targets at once, fresh servers (${os.cpus().length} CPUs, shared).`,
    '',
    `| run | target | Zipf hit ratio | scan hit ratio | ${COUNTERS.join(' | ')} |`,
    `|---|---|---|---|${COUNTERS.map(() => '---|').join('')}`,
  ];
  const sums = targetNames.map(() => ({ hits: 0, gets: 0 }));
  for (let r = 1; r <= reps; r++) {
    const { results, seconds } = await runOnce();
    process.stderr.write(`run ${r}/${reps}: ${seconds.toFixed(0)} s\n`);
    results.forEach(({ tally: t, stats: st }, i) => {
      sums[i]!.hits += t.zipfHits;
      sums[i]!.gets += t.zipfGets;
      const row = `| ${r} | ${targetNames[i]} | ${pct(t.zipfHits, t.zipfGets)} | ${pct(t.scanHits, t.scanGets)} | ${COUNTERS.map((c) => st[c] ?? '-').join(' | ')} |`;
      lines.push(row);
      process.stderr.write(row + '\n');
    });
  }
  targetNames.forEach((name, i) => lines.push(`| all | ${name} | **${pct(sums[i]!.hits, sums[i]!.gets)}** | | ${COUNTERS.map(() => '').join(' | ')} |`));
  const text = lines.join('\n') + '\n';
  process.stdout.write(text);
  if (a.out !== '-') fs.writeFileSync(path.resolve(ROOT, a.out!), text);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
