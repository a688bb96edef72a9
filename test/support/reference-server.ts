// The one launcher for real memcached (the reference of the differential tests), and the one
// skip policy every differential suite applies when it is not installed.
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { startPortFileServer, type RunningServer } from './port-file-server.js';

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** MEMCACHED_BIN when set (only that file), else the first `memcached` on PATH. */
function findMemcached(): string | null {
  const fromEnv = process.env.MEMCACHED_BIN;
  if (fromEnv !== undefined && fromEnv !== '') return isExecutableFile(fromEnv) ? fromEnv : null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, 'memcached');
    if (isExecutableFile(file)) return file;
  }
  return null;
}

/** The reference binary, or null when it is not installed. */
export const MEMCACHED_BIN: string | null = findMemcached();

const WANTED = process.env.MEMCACHED_BIN ? `${process.env.MEMCACHED_BIN} (MEMCACHED_BIN)` : '`memcached` (looked up on PATH)';

/**
 * The skip policy of every differential suite; call it once per suite, at collection time, and
 * skip the suite's tests against memcached when it returns false:
 * - memcached found: true;
 * - not found and CI=true: throws, so the suite fails (CI must run it);
 * - not found otherwise: a console.warn banner naming the suite, and false.
 */
export function referenceAvailable(suite: string): boolean {
  if (MEMCACHED_BIN !== null) return true;
  if (process.env.CI === 'true') {
    throw new Error(
      `${suite}: ${WANTED} not found, and CI=true: differential tests against real memcached must not be ` +
        `skipped in CI (install it with: apt-get install memcached, or set MEMCACHED_BIN)`,
    );
  }
  const bar = '!'.repeat(78);
  console.warn(
    `\n${bar}\n!! ${suite}: SKIPPED the tests against real memcached: ${WANTED} not found.\n` +
      `!! Install memcached (apt-get install memcached) or set MEMCACHED_BIN to run them; CI=true makes this a failure.\n${bar}\n`,
  );
  return false;
}

/** memcached refuses to run as root without -u. */
function userArgs(): string[] {
  return process.getuid?.() === 0 ? ['-u', userInfo().username] : [];
}

/** Starts real memcached with `extraArgs` (e.g. ['-I', '1k']) on an ephemeral 127.0.0.1 port, UDP off. */
export function startReferenceServer(extraArgs: readonly string[] = []): Promise<RunningServer> {
  if (MEMCACHED_BIN === null) {
    return Promise.reject(new Error(`${WANTED} not found: check referenceAvailable(suite) before starting it`));
  }
  return startPortFileServer({
    name: 'memcached',
    command: MEMCACHED_BIN,
    args: [...userArgs(), '-U', '0', '-l', '127.0.0.1', '-p', '-1', ...extraArgs],
  });
}
