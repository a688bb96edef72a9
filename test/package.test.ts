// What operators install: `npm pack` ships the built daemon (bin/, the bundle in dist/bundle,
// man/, LICENSE) and no tests or sources, and the tarball installed into a fresh prefix starts and answers
// VERSION. The install fetches yargs from the npm registry: when that fails and the registry
// cannot be reached, the test is skipped with a warning rather than failed.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/daemon-process.js';
import { startPortFileServer, type RunningServer } from './support/port-file-server.js';
import { request } from './support/raw-client.js';
import { RUN_AS } from './support/run-as.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'mcts-pack-'));
let server: RunningServer | null = null;
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface PackResult {
  filename: string;
  files: Array<{ path: string }>;
}

/** True when the registry npm would use answers within a few seconds. */
async function registryReachable(): Promise<boolean> {
  try {
    const { stdout } = await run('npm', ['config', 'get', 'registry'], { cwd: REPO_ROOT });
    const res = await fetch(new URL('yargs', stdout.trim().replace(/\/?$/, '/')), { signal: AbortSignal.timeout(5000) });
    return res.ok;
  } catch {
    return false;
  }
}

describe('the npm package', () => {
  let tarball = '';

  it('packs bin/, dist/bundle, man/ and LICENSE, and no tests, sources, dist/src or bench', async () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    // installing from git runs `prepare`, which must build dist/
    expect(pkg.scripts['prepare']).toMatch(/npm run build/);
    // --ignore-scripts: `prepare` would rebuild dist/ under the feet of the other test files;
    // `npm test` built it already
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: REPO_ROOT });
    const [result] = JSON.parse(stdout) as PackResult[];
    const files = result!.files.map((f) => f.path);
    for (const f of ['bin/memcached-ts.js', 'dist/bundle/main.js', 'dist/bundle/parse-child.js', 'dist/bundle/malloc-tuning.js', 'dist/bundle/v8-tuning.js', 'man/memcached-ts.1', 'LICENSE', 'package.json', 'README.md']) {
      expect(files).toContain(f);
    }
    const unwanted = files.filter((f) => /^(test|src|bench|dist\/bench|dist\/src|node_modules)\//.test(f) || f.endsWith('.ts') || f.endsWith('.map'));
    expect(unwanted).toEqual([]);
    tarball = join(dir, result!.filename);
  }, 30_000);

  it('installs into a fresh prefix and the installed memcached-ts answers VERSION', async (ctx) => {
    expect(tarball).not.toBe('');
    const prefix = join(dir, 'prefix');
    try {
      await run('npm', ['install', '--prefix', prefix, '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--fetch-retries=1', '--fetch-retry-mintimeout=1000', '--fetch-retry-maxtimeout=3000', tarball], {
        cwd: dir,
        timeout: 45_000,
      });
    } catch (err) {
      if (!(await registryReachable())) {
        const why = `SKIPPED: npm install of the packed tarball failed and the npm registry is unreachable (yargs is needed): ${String(err).split('\n')[0]}`;
        console.warn(`\n*** ${why} ***\n`);
        ctx.skip(why);
      }
      throw err;
    }
    server = await startPortFileServer({
      name: 'installed memcached-ts',
      command: join(prefix, 'node_modules', '.bin', 'memcached-ts'),
      args: [...RUN_AS, '-p', '-1', '-U', '0', '-l', '127.0.0.1'],
      cwd: dir,
    });
    const reply = await request(server.port, 'version\r\n', (t) => t.endsWith('\r\n'));
    expect(reply).toMatch(/^VERSION \d+\.\d+\.\d+/);
  }, 60_000);
});
