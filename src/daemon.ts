// Wires the cache, the listeners (with the protocols -B asks for) and the snapshot scheduler together.
// startDaemon() resolves once every listener is bound; `stopped` resolves with the exit code.
import fs from 'node:fs';
import { systemClock, type Clock } from './cache/clock.js';
import { SlabAutomover } from './cache/automove.js';
import { LruCrawler } from './cache/crawler.js';
import { Cache } from './cache/cache.js';
import type { Config } from './config/config.js';
import { stderrLogger, type Logger } from './log.js';
import { MemoryReturn } from './server/memory-return.js';
import { ServerCore } from './server/server-core.js';
import { servedProtocols } from './protocol/registry.js';
import type { JsonlStats } from './protocol/jsonl/index.js';
import { settingsStats } from './config/settings-stats.js';
import { checkPersistencePath, targetProblem } from './persistence/path-check.js';
import type { SnapshotScheduler } from './persistence/scheduler.js';
import type { Journal } from './persistence/journal.js';
import { realJournalFs, type JournalFs } from './persistence/journal-fs.js';
import type { SnapshotFs } from './persistence/snapshot-fs.js';
import { EventLog } from './logging/event-log.js';
import { evictionReporter } from './protocol/watch-events.js';
import type { HttpServer } from './server/http-server.js';

// The optional parts (snapshots, the journal, the HTTP and JSON-lines fronts, and TLS in
// ServerCore) are imported only when the settings turn them on: what a module loads stays in
// the process for good, and node:http alone costs several MiB of RSS (bench/RESULTS-memory.md).

/** How long a graceful stop waits for clients to take their last replies. */
const DRAIN_TIMEOUT_MS = 3000;
/** sysexits.h EX_IOERR: the exit code when the final snapshot could not be written. */
export const EXIT_FINAL_SNAPSHOT_FAILED = 74;

export interface Daemon {
  /** The bound TCP port, or null when TCP is off. */
  readonly tcpPort: number | null;
  /** The bound --json-port, or null when the JSON-lines front is off. */
  readonly jsonPort: number | null;
  /** The bound HTTP port, or null without --http-port. */
  readonly httpPort: number | null;
  readonly cache: Cache;
  /** Stop accepting, close connections, resolve `stopped`. */
  stop(reason: string): Promise<void>;
  /** Resolves with the process exit code once the daemon has fully stopped. */
  readonly stopped: Promise<number>;
  /** The snapshot scheduler, or null without --snapshot-file. */
  readonly snapshots: SnapshotScheduler | null;
  /** The journal, or null without --journal-file. */
  readonly journal: Journal | null;
}

export interface DaemonOptions {
  clock?: Clock;
  log?: Logger;
  /** Install SIGTERM/SIGINT/SIGUSR1 handlers (the CLI does; in-process tests do not). */
  handleSignals?: boolean;
  /** Run the background LRU crawler (default true; tests that count lazy expiry turn it off). */
  lruCrawler?: boolean;
  /** Filesystem layer for snapshot writes (tests inject faults). */
  snapshotFs?: SnapshotFs;
  /** Filesystem layer for journal writes (tests inject faults). */
  journalFs?: JournalFs;
  /**
   * Runs the start-up checks of the persistence paths (-u: as the user the daemon will
   * become, since that user writes the files from then on).
   */
  checkAs?: <T>(check: () => T) => T;
  /**
   * Called once every listener is bound and the port file written, before the daemon
   * starts its timers (-P and -u: write the pid file, then drop root). If it throws, the
   * listeners are closed and startDaemon rejects with its error.
   */
  afterBind?: (bound: { unixSocket: string | null; journalFile: string | null }) => void;
}

export async function startDaemon(config: Config, options: DaemonOptions = {}): Promise<Daemon> {
  // a path that cannot take a snapshot stops the start here, not the first save or the exit
  const checkAs = options.checkAs ?? (<T>(check: () => T): T => check());
  const problem = checkAs(() => persistenceProblem(config));
  if (problem !== null) throw new Error(problem);
  const clock = options.clock ?? systemClock;
  const log = options.log ?? stderrLogger(() => config.verbosity);
  const cache = createCache(config, clock);
  cache.prefixes.delimiter = config.prefixDelimiter.charCodeAt(0);
  let resolveStopped: (code: number) => void = () => {};
  const stopped = new Promise<number>((r) => (resolveStopped = r));
  let stopping: Promise<void> | null = null;

  // the snapshot loads before any listener opens, so no client sees a half-loaded cache
  // and the journal's records after it replay before any listener opens too
  let journal: Journal | null = null;
  const snapshots =
    config.snapshotFile === null
      ? null
      : new (await import('./persistence/scheduler.js')).SnapshotScheduler(cache, {
          file: config.snapshotFile,
          interval: config.snapshotInterval,
          log,
          fs: options.snapshotFs,
          beforeWrite: async () => (journal === null ? false : journal.rotate()),
          afterWrite: (ok) => journal?.rotationDone(ok),
        });
  snapshots?.load();
  if (config.journalFile !== null) journal = await startJournal(cache, config, log, options.journalFs ?? realJournalFs);

  const jsonl = config.jsonPort === 0 ? null : await import('./protocol/jsonl/index.js');
  const jsonStats = jsonl === null ? null : new jsonl.JsonlStats();
  const crawler = options.lruCrawler === false || !config.lruCrawler ? null : new LruCrawler(cache);
  // the `watch` stream: the server's connections and the cache's evictions feed it
  const events = new EventLog();
  cache.setEvictionObserver(evictionReporter(events, cache));
  const core = new ServerCore(cache, config, log, {
    shutdown: (graceful) => void daemon.stop(graceful ? 'shutdown graceful' : 'shutdown command'),
    extraStats: () => [...(snapshots?.stats() ?? []), ...(journal?.stats() ?? []), ...(jsonStats?.lines() ?? [])],
    settingsStats: () => settingsStats(config, { detailEnabled: cache.prefixes.enabled, oldest: cache.oldestLive }),
    protocols: servedProtocols(config.bindingProtocol),
    crawl: () => crawler?.kick(),
    durability: journal !== null && journal.policy === 'always' ? journal : null,
    events,
  });

  const openHttpFront = async (): Promise<HttpServer> => {
    const [{ HttpServer }, { createHttpHandler }, { HttpCounters }] = await Promise.all([
      import('./server/http-server.js'),
      import('./protocol/http/router.js'),
      import('./protocol/http/context.js'),
    ]);
    const counters = new HttpCounters();
    const handler = createHttpHandler({
      cache,
      config,
      log,
      durability: journal !== null && journal.policy === 'always' ? journal : null,
      server: core.info,
      counters,
      state: () => (stopping === null ? 'serving' : 'stopping'),
    });
    return new HttpServer(handler, config, log, counters, core);
  };

  const tcpPort = await core.listen();
  // the HTTP front: the same cache API, the same durability promise
  const httpServer = config.httpPort === 0 ? null : await openHttpFront();
  const httpPort = httpServer === null ? null : await httpServer.listen();
  const jsonPort = jsonl === null || jsonStats === null ? null : await core.listenExtra(config.jsonPort, [jsonl.jsonlProtocol(jsonStats)]);
  // A signal during a stop never skips the final snapshot: the first one says so and the stop
  // goes on; one more leaves without it (exit 1; the previous snapshot stays intact, the
  // unfinished temp file is removed at the next start). Without a snapshot file it leaves at once.
  let signalsWhileStopping = 0;
  // false until `daemon` exists below (a start that fails after the bind exits on its own)
  let serving = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (!serving) return;
    if (stopping === null) {
      void daemon.stop(sig);
      return;
    }
    if (snapshots === null || ++signalsWhileStopping > 1) {
      if (snapshots !== null) log.warn(`memcached-ts: ${sig} again: exiting WITHOUT the final snapshot; ${config.snapshotFile} keeps the previous one`);
      resolveStopped(1);
      return;
    }
    log.warn(`memcached-ts: ${sig} while stopping: the final snapshot to ${config.snapshotFile} is still to be written; waiting for it (send ${sig} once more to exit without it)`);
  };
  // installed before the port file appears: whoever waits for that file may signal at once
  if (options.handleSignals) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGUSR1', onSignal);
  }

  writePortFile(tcpPort, jsonPort, httpPort);
  if (options.afterBind) {
    try {
      options.afterBind({ unixSocket: config.unixSocket, journalFile: config.journalFile });
    } catch (err) {
      // a client that connected meanwhile must not hold the exit up
      const closed = Promise.all([core.closeListeners(), core.drainConnections(0), httpServer?.close(0), journal?.close()]);
      await Promise.race([closed, new Promise((r) => setTimeout(r, 1000).unref())]);
      throw err;
    }
  }
  snapshots?.start();
  log.info(`memcached-ts listening on ${config.unixSocket ?? (tcpPort === null ? 'no TCP port (-p 0)' : `${config.listen.join(',')}:${tcpPort}`)}`);
  crawler?.start();
  if (config.lru.maintainer) cache.maintainer.start();
  // memcached's LRU maintainer runs the slab automover about once a second. With
  // -o no_slab_reassign it starts no rebalancer, whatever `slabs automove` sets.
  const automover = new SlabAutomover(cache, () => ({
    level: config.slabReassign ? config.slabAutomove : 0,
    ratio: config.slabAutomoveRatio,
    window: config.slabAutomoveWindow,
  }));
  const automoveTimer = setInterval(() => {
    const moved = automover.step();
    if (moved === null) return;
    log.debug(`slab automove: a page from class ${moved[0]} to class ${moved[1]}`);
    events.slabMove(moved[0], moved[1]);
  }, 1000);
  automoveTimer.unref();
  let lastBytesRead = -1;
  const memory = new MemoryReturn(
    () => cache.slabs.totalMalloced,
    () => {
      const busy = core.bytesRead !== lastBytesRead;
      lastBytesRead = core.bytesRead;
      return busy;
    },
    () => core.closedConnections,
  );
  memory.start({ settle: true });

  serving = true;
  const daemon: Daemon = {
    tcpPort,
    jsonPort,
    httpPort,
    cache,
    stopped,
    snapshots,
    journal,
    stop(reason: string): Promise<void> {
      if (stopping !== null) return stopping;
      log.info(`memcached-ts stopping (${reason})`);
      crawler?.stop();
      cache.maintainer.stop();
      clearInterval(automoveTimer);
      memory.stop();
      stopping = (async () => {
        await Promise.race([
          (async () => {
            // stop accepting, answer what was already read, flush, close
            const closing = core.closeListeners();
            const httpClosing = httpServer?.close(DRAIN_TIMEOUT_MS);
            await core.drainConnections(DRAIN_TIMEOUT_MS);
            await closing;
            await httpClosing;
          })(),
          new Promise((r) => setTimeout(r, 5000).unref()),
        ]);
        // clients are gone, so this last snapshot is a point-in-time image
        let code = 0;
        const saved = snapshots ? await snapshots.stop() : null;
        // after the final snapshot: whatever it did not cover is written and fsynced
        const journalOk = journal === null ? true : await journal.close();
        if (saved !== null && !saved.ok) {
          log.warn(
            `memcached-ts: FINAL SNAPSHOT FAILED: the cache was NOT saved to ${config.snapshotFile} (${saved.message}); ` +
              (journal !== null && journalOk
                ? `the journal ${config.journalFile} still holds the changes since the previous snapshot; `
                : 'changes since the previous snapshot are lost; ') +
              `exit code ${EXIT_FINAL_SNAPSHOT_FAILED}`,
          );
          code = EXIT_FINAL_SNAPSHOT_FAILED;
        }
        if (!journalOk) {
          log.warn(`memcached-ts: the journal ${config.journalFile} could not be written before stopping; exit code ${EXIT_FINAL_SNAPSHOT_FAILED}`);
          code = EXIT_FINAL_SNAPSHOT_FAILED;
        }
        if (options.handleSignals) {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          process.off('SIGUSR1', onSignal);
        }
        resolveStopped(code);
      })();
      return stopping;
    },
  };
  return daemon;
}

/** Why the snapshot or journal path cannot be used, or null. */
function persistenceProblem(config: Config): string | null {
  if (config.snapshotFile !== null) {
    const problem = checkPersistencePath(config.snapshotFile, 'snapshot file');
    if (problem !== null) return problem;
  }
  if (config.journalFile === null) return null;
  return (
    checkPersistencePath(config.journalFile, 'journal file') ??
    targetProblem(`${config.journalFile}.prev`, 'journal file') ??
    targetProblem(`${config.journalFile}.next`, 'journal file')
  );
}

/**
 * Replay the journal onto the cache (after the snapshot loaded) and register it as the
 * cache's change listener. Throws when the journal cannot be opened: the daemon must not
 * run without the durability it was asked for.
 */
async function startJournal(cache: Cache, config: Config, log: Logger, fsys: JournalFs): Promise<Journal> {
  const [{ openJournal }, { Journal }] = await Promise.all([import('./persistence/journal-replay.js'), import('./persistence/journal.js')]);
  const file = config.journalFile!;
  const t0 = Date.now();
  const opened = openJournal(cache, file, { log, fs: fsys, useCas: config.useCas, itemSizeMax: config.itemSizeMax });
  const r = opened.result;
  log.info(
    `journal: replayed ${r.records} records (${r.entries} changes) from ${file} in ${((Date.now() - t0) / 1000).toFixed(2)} s` +
      (r.expired > 0 ? `, ${r.expired} items expired meanwhile` : '') +
      (r.noRoom > 0 ? `, ${r.noRoom} items did not fit -m/-I` : '') +
      (r.droppedBytes > 0 ? `, ${r.droppedBytes} bytes of a bad tail cut off` : ''),
  );
  if (config.snapshotFile === null) {
    log.warn('journal: without --snapshot-file the journal is never compacted and grows with every change; add --snapshot-file and --snapshot-interval');
  }
  const journal = new Journal(opened.file, {
    file,
    fsync: config.journalFsync,
    log,
    size: opened.size,
    nextSeq: opened.nextSeq,
    useCas: config.useCas,
    itemSizeMax: config.itemSizeMax,
    onRefusal: (reason) => cache.setWriteRefusal(reason),
    fs: fsys,
  });
  cache.setChangeListener(journal);
  return journal;
}

/** The cache the settings describe. */
export function createCache(config: Config, clock: Clock): Cache {
  return new Cache(
    {
      memoryLimit: config.memoryLimit,
      itemSizeMax: config.itemSizeMax,
      chunkSize: config.chunkSize,
      growthFactor: config.growthFactor,
      slabPageSize: config.slabPageSize,
      slabChunkMax: config.slabChunkMax,
      noEvict: config.noEvict,
      useCas: config.useCas,
      lru: config.lru,
    },
    clock,
  );
}

/**
 * memcached's MEMCACHED_PORT_FILENAME: "TCP INET: <port>", and "JSON INET: <port>" and
 * "HTTP INET: <port>" for the other fronts, written atomically.
 */
function writePortFile(port: number | null, jsonPort: number | null, httpPort: number | null): void {
  const file = process.env.MEMCACHED_PORT_FILENAME;
  if (!file || (port === null && jsonPort === null && httpPort === null)) return;
  const tmp = `${file}.lck`;
  let text = port === null ? '' : `TCP INET: ${port}\n`;
  if (jsonPort !== null) text += `JSON INET: ${jsonPort}\n`;
  if (httpPort !== null) text += `HTTP INET: ${httpPort}\n`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
