// Wires the cache, the listeners and (later) the snapshot scheduler together.
// startDaemon() resolves once every listener is bound; `stopped` resolves with the exit code.
import type { Config } from './config/config.js';

export interface Daemon {
  /** The bound TCP port, or null when TCP is off. */
  readonly tcpPort: number | null;
  /** Stop accepting, close connections, resolve `stopped`. */
  stop(reason: string): Promise<void>;
  /** Resolves with the process exit code once the daemon has fully stopped. */
  readonly stopped: Promise<number>;
}

export async function startDaemon(_config: Config): Promise<Daemon> {
  throw new Error('not wired yet');
}
