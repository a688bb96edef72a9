// When snapshots happen: one load at start, one write every --snapshot-interval seconds
// (never two at once), one final write at graceful stop; plus the snapshot_* stats lines.
import type { Cache } from '../cache/cache.js';
import type { Logger } from '../log.js';
import { loadSnapshot, removeStaleTemps, type LoadResult } from './loader.js';
import type { SnapshotFs } from './snapshot-fs.js';
import { writeSnapshot, type WriteOptions, type WriteResult } from './writer.js';

export interface SchedulerOptions {
  file: string;
  /** seconds; 0 = only at stop */
  interval: number;
  log: Logger;
  fs?: SnapshotFs;
  write?: Omit<WriteOptions, 'fs'>;
  /** Runs before each write starts (the journal starts a new file here). */
  beforeWrite?: () => Promise<unknown>;
  /** Runs after each write, with whether the snapshot is safely on disk. */
  afterWrite?: (ok: boolean) => void;
}

export class SnapshotScheduler {
  readonly #cache: Cache;
  readonly #opts: SchedulerOptions;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<WriteResult> | null = null;
  #stopped = false;
  saves = 0;
  failures = 0;
  lastSaveTime = 0;
  lastDurationMs = 0;
  lastItems = 0;
  lastBytes = 0;
  lastResult = 'none';
  loadResult: LoadResult | null = null;

  constructor(cache: Cache, opts: SchedulerOptions) {
    this.#cache = cache;
    this.#opts = opts;
  }

  /** Load the snapshot if there is one. Call before listening: it blocks until done. */
  load(): LoadResult {
    const stale = removeStaleTemps(this.#opts.file);
    if (stale > 0) this.#opts.log.info(`snapshot: removed ${stale} unfinished temp file(s) next to ${this.#opts.file}`);
    this.loadResult = loadSnapshot(this.#cache, this.#opts.file, { log: this.#opts.log });
    return this.loadResult;
  }

  /** Start the periodic writes (no-op when the interval is 0). */
  start(): void {
    if (this.#opts.interval > 0) this.#arm();
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.saveNow().then(() => this.#arm());
    }, this.#opts.interval * 1000);
    this.#timer.unref();
  }

  /** Write a snapshot now, or join the one already being written. */
  saveNow(): Promise<WriteResult> {
    if (this.#running) return this.#running;
    const run = (async () => {
      await this.#opts.beforeWrite?.();
      const r = await writeSnapshot(this.#cache, this.#opts.file, { ...this.#opts.write, fs: this.#opts.fs });
      this.#record(r);
      this.#opts.afterWrite?.(r.ok);
      return r;
    })();
    this.#running = run;
    void run.finally(() => {
      if (this.#running === run) this.#running = null;
    });
    return run;
  }

  /** Stop the timer, let a running write finish, then write the final snapshot. */
  async stop(): Promise<WriteResult> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#running) await this.#running;
    return this.saveNow();
  }

  #record(r: WriteResult): void {
    this.lastDurationMs = r.durationMs;
    if (r.ok) {
      this.saves++;
      this.lastSaveTime = Math.floor(Date.now() / 1000);
      this.lastItems = r.items;
      this.lastBytes = r.fileBytes;
      this.lastResult = 'ok';
      this.#opts.log.info(
        `snapshot: saved ${r.items} items (${(r.fileBytes / 1048576).toFixed(1)} MB) to ${this.#opts.file} in ${(r.durationMs / 1000).toFixed(2)} s`,
      );
    } else {
      this.failures++;
      this.lastResult = r.code;
      const next = this.#stopped ? 'not retried: stopping' : this.#opts.interval > 0 ? `next attempt in ${this.#opts.interval} s` : 'next attempt at shutdown';
      this.#opts.log.warn(`snapshot: saving to ${this.#opts.file} failed (${r.message}); the previous snapshot is kept; ${next}`);
    }
  }

  stats(): Array<[string, string]> {
    const l = this.loadResult;
    return [
      ['snapshot_saves', String(this.saves)],
      ['snapshot_failures', String(this.failures)],
      ['snapshot_in_progress', this.#running ? '1' : '0'],
      ['snapshot_last_result', this.lastResult],
      ['snapshot_last_save_time', String(this.lastSaveTime)],
      ['snapshot_last_duration_ms', String(Math.round(this.lastDurationMs))],
      ['snapshot_last_items', String(this.lastItems)],
      ['snapshot_last_bytes', String(this.lastBytes)],
      ['snapshot_load_result', l ? l.status : 'none'],
      ['snapshot_loaded_items', String(l ? l.items : 0)],
    ];
  }
}
