// Starts the real memcached (the reference for differential tests) on an ephemeral loopback port.
// Absent binary: an error in CI (the suite must run there), a loud skip elsewhere.
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { startPortFileServer, type RunningServer } from './port-file-server.js';

export const MEMCACHED_BIN = process.env.MEMCACHED_BIN ?? '/usr/bin/memcached';

/** True when the reference binary exists. In CI its absence throws at import time instead. */
export const referenceAvailable: boolean = existsSync(MEMCACHED_BIN);

if (!referenceAvailable) {
  if (process.env.CI === 'true') {
    throw new Error(
      `${MEMCACHED_BIN} not found, and CI=true: the differential suite must not be skipped in CI ` +
        `(install it with: apt-get install memcached)`,
    );
  }
  const bar = '!'.repeat(78);
  console.warn(
    `\n${bar}\n!! ${MEMCACHED_BIN} not found: differential tests against real memcached are SKIPPED.\n` +
      `!! Install memcached (apt-get install memcached) or set MEMCACHED_BIN to run them.\n${bar}\n`,
  );
}

/** memcached refuses to run as root without -u. */
function userArgs(): string[] {
  return process.getuid?.() === 0 ? ['-u', userInfo().username] : [];
}

/** Starts real memcached with `extraArgs` (e.g. ['-I', '1k']) on an ephemeral 127.0.0.1 port, UDP off. */
export function startReferenceServer(extraArgs: readonly string[] = []): Promise<RunningServer> {
  return startPortFileServer({
    name: 'memcached',
    command: MEMCACHED_BIN,
    args: [...userArgs(), '-U', '0', '-l', '127.0.0.1', '-p', '-1', ...extraArgs],
  });
}
