// What the HTTP front's handlers receive: the sealed cache API, the settings, the durability
// gate, the server's figures for /stats and /metrics, and counters of the HTTP front itself.
import type { CacheApi, DurabilityGate } from '../../cache/api.js';
import type { Config } from '../../config/config.js';
import type { Logger } from '../../log.js';
import type { ServerInfo } from '../types.js';

/** The HTTP listener's own figures (connections are counted by the server, requests here). */
export class HttpCounters {
  currConnections = 0;
  totalConnections = 0;
  rejectedConnections = 0;
  /** Changes whose journal write failed: answered 503 (applied in memory, not on disk). */
  notDurable = 0;
  /** GET bodies cut off (connection destroyed) because the item changed while they were sent. */
  abortedBodies = 0;
  /** Answers by status code. */
  readonly responses = new Map<number, number>();

  count(status: number): void {
    this.responses.set(status, (this.responses.get(status) ?? 0) + 1);
  }
}

export interface HttpContext {
  readonly cache: CacheApi;
  readonly config: Config;
  readonly log: Logger;
  /** With --journal-fsync always: 2xx to a change only once it is on disk. */
  readonly durability: DurabilityGate | null;
  /** The memcached listener's figures and hooks (stats groups, settings, extra lines). */
  readonly server: ServerInfo;
  readonly counters: HttpCounters;
  /** 'serving' until the daemon starts to stop. */
  state(): 'serving' | 'stopping';
}
