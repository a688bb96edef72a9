// Starts memcached-ts itself as a real process (bin/memcached-ts.js, built to dist/ by `npm run build`)
// on an ephemeral loopback port, the same way the reference server is started.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPortFileServer, type RunningServer } from './port-file-server.js';
import { RUN_AS } from './run-as.js';

/** The checkout whose daemon is started; MEMCACHED_TS_ROOT points the suite at another (built) one. */
export const REPO_ROOT = process.env.MEMCACHED_TS_ROOT ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(REPO_ROOT, 'bin', 'memcached-ts.js');
const BUILT_MAIN = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

/** Starts `node bin/memcached-ts.js -p -1 -U 0 -l 127.0.0.1 <extraArgs>` from the repo root. */
export function startDaemonProcess(extraArgs: readonly string[] = [], env?: Readonly<Record<string, string>>): Promise<RunningServer> {
  if (!existsSync(BUILT_MAIN)) {
    throw new Error(`${BUILT_MAIN} is missing: run \`npm run build\` first (\`npm test\` does it)`);
  }
  return startPortFileServer({
    name: 'memcached-ts',
    command: process.execPath,
    args: [BIN, ...RUN_AS, '-p', '-1', '-U', '0', '-l', '127.0.0.1', ...extraArgs],
    cwd: REPO_ROOT,
    env,
  });
}
