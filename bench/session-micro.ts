// In-process text-protocol sessions, no sockets: pipelined `get` (hits) and `set` batches fed
// straight to TextSession.consume(), in commands per CPU-second. Made to compare two builds (a checkout's
// dist/ given by --root) on the cost the logging hooks add with logging off, and to show the
// cost of one watcher (--watch, a sink that drops every line) or -vv (--verbose, stderr to a
// no-op) in a build that has them.
//   node dist/bench/session-micro.js [--root DIR] [--rounds R] [--round-ms MS] [--watch] [--verbose]
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { benchArgs } from './lib/cli.js';

const USAGE = `usage: node dist/bench/session-micro.js [options]
  --root DIR      the checkout whose dist/src is measured (default: this one)
  --rounds R      measured rounds (default 7)
  --round-ms MS   length of a round (default 1000)
  --watch         one watcher of fetchers and mutations (needs a build with watch)
  --verbose       verbosity 2, trace lines dropped (needs a build with -vv lines)`;

const a = benchArgs(USAGE, {
  root: { type: 'string', default: path.resolve(import.meta.dirname, '../..') },
  rounds: { type: 'string', default: '7' },
  'round-ms': { type: 'string', default: '1000' },
  watch: { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
});
const src = (p: string): Promise<Record<string, unknown>> => import(pathToFileURL(path.join(a.root, 'dist/src', p)).href) as Promise<Record<string, unknown>>;

// two builds' modules, typed loosely
const { createCache } = (await src('daemon.js')) as any;
const { defaultConfig } = (await src('config/config.js')) as any;
const { Output } = (await src('protocol/output.js')) as any;
const { TextSession } = (await src('protocol/text/session.js')) as any;
const { systemClock } = (await src('cache/clock.js')) as any;

const config = { ...defaultConfig(), verbosity: a.verbose ? 2 : 0 };
const cache = createCache(config, systemClock);
const server: Record<string, unknown> = { pid: 1, startedAt: 0, connections: () => [], extraStats: () => [], settingsStats: () => [] };
if (a.watch) {
  const { EventLog } = (await src('logging/event-log.js')) as any;
  const { FETCHERS, MUTATIONS } = (await src('logging/event-flags.js')) as any;
  const events = new EventLog();
  events.addWatcher({ backlog: 0, closed: false, write: () => {} }, FETCHERS | MUTATIONS);
  server.events = events;
}
if (a.verbose) {
  const { setTraceSink } = (await src('logging/trace.js')) as any;
  setTraceSink(() => {});
}
const ctx = { cache, config, server, out: new Output(), closeAfterWrite: false, lastCommandAt: 0, requestBudget: Infinity, id: 1 };
const session = new TextSession(ctx);

const KEYS = 1000;
const value = 'v'.repeat(100);
const setBatch = Buffer.from(Array.from({ length: KEYS }, (_, i) => `set key:${i} 0 0 100\r\n${value}\r\n`).join(''), 'latin1');
const getBatch = Buffer.from(Array.from({ length: KEYS }, (_, i) => `get key:${i}\r\n`).join(''), 'latin1');

function feed(batch: Buffer): void {
  ctx.requestBudget = Infinity;
  // whole commands and replies under the output high-water mark: one call takes the batch
  if (session.consume(batch, 0) !== batch.length) throw new Error('the session stopped early');
  ctx.out.take();
  ctx.out.written();
}

/** Commands per CPU-second of this process (steadier than per wall second on a shared machine). */
function measure(batch: Buffer): number {
  let cmds = 0;
  const cpu0 = process.cpuUsage();
  const end = performance.now() + Number(a['round-ms']);
  while (performance.now() < end) {
    feed(batch);
    cmds += KEYS;
  }
  const cpu = process.cpuUsage(cpu0);
  return cmds / ((cpu.user + cpu.system) / 1e6);
}

feed(setBatch);
const results: Record<string, number[]> = { set: [], get: [] };
measure(getBatch); // warm-up
for (let r = 0; r < Number(a.rounds); r++) {
  results.set!.push(measure(setBatch));
  results.get!.push(measure(getBatch));
}
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
console.log(JSON.stringify({ root: a.root, watch: a.watch, verbose: a.verbose, setPerCpuSec: Math.round(median(results.set!)), getPerCpuSec: Math.round(median(results.get!)) }));
