// Standalone load generator against one running server, for ad-hoc runs:
//   node dist/bench/load.js --port 11211 --conns 50 --get-ratio 0.9 --value-size 100 --duration 10
import { benchArgs } from './lib/cli.js';
import { Keyspace, parseSizeRange } from './lib/keyspace.js';
import { mixedSource, preload, runLoad } from './lib/loadgen.js';
import { parseKeyDist } from './lib/rng.js';
import { TextDriver } from './lib/text-protocol.js';
import { ProgressBar } from './lib/progress.js';

const USAGE =
  'usage: node dist/bench/load.js [--host H] [--port P] [--conns N] [--depth D] [--multi-get W]\n' +
  '  [--get-ratio R] [--keys N] [--key-size 10-16] [--value-size 100|1m|100-1000]\n' +
  '  [--key-dist uniform|zipf:0.99] [--warmup S] [--duration S] [--seed N] [--verify-every N] [--no-preload]';

const a = benchArgs(USAGE, {
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '11211' },
  conns: { type: 'string', default: '50' },
  depth: { type: 'string', default: '1' },
  'multi-get': { type: 'string', default: '1' },
  'get-ratio': { type: 'string', default: '0.9' },
  keys: { type: 'string', default: '100000' },
  'key-size': { type: 'string', default: '10-16' },
  'value-size': { type: 'string', default: '100' },
  'key-dist': { type: 'string', default: 'uniform' },
  warmup: { type: 'string', default: '1' },
  duration: { type: 'string', default: '5' },
  seed: { type: 'string', default: '1' },
  'verify-every': { type: 'string', default: '16' },
  'no-preload': { type: 'boolean', default: false },
});

const host = a.host!;
const port = Number(a.port);
const seed = Number(a.seed);
const ks = new Keyspace({ count: Number(a.keys), keySize: parseSizeRange(a['key-size']!), valueSize: parseSizeRange(a['value-size']!), seed });
const driver = new TextDriver(ks);
const bar = new ProgressBar();
if (!a['no-preload']) {
  const r = await preload(host, port, ks, driver, { seed, onProgress: (p) => bar.update(p.fraction, `preload ${Math.round(p.recentOpsPerSec)}/s`) });
  bar.clear();
  process.stderr.write(`preloaded ${r.ops} keys in ${r.seconds.toFixed(2)} s, ${r.errors} errors\n`);
}
const width = Number(a['multi-get']);
const res = await runLoad(
  {
    host,
    port,
    connections: Number(a.conns),
    depth: Number(a.depth),
    maxKeys: width,
    source: mixedSource(ks, Number(a['get-ratio']), width, parseKeyDist(a['key-dist']!)),
    mode: 'timed',
    warmupMs: Number(a.warmup) * 1000,
    durationMs: Number(a.duration) * 1000,
    seed,
    verifyEvery: Number(a['verify-every']),
  },
  driver,
  { onProgress: (p) => bar.update(p.fraction, `${p.phase} ${Math.round(p.recentOpsPerSec)} ops/s`) },
);
bar.clear();
process.stdout.write(JSON.stringify(res, null, 2) + '\n');
