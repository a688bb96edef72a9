// The daemon turns V8's Maglev compiler off (src/cli/v8-tuning.ts) unless the operator named a
// Maglev flag, and the flag takes effect in a running process.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { v8FlagsFor } from '../src/cli/v8-tuning.js';
import { REPO_ROOT } from './support/daemon-process.js';
import { startPortFileServer } from './support/port-file-server.js';
import { request } from './support/raw-client.js';
import { RUN_AS } from './support/run-as.js';

// Node 24 is built with Maglev (on by default); Node 20 and 22 are built without it.
const maglevBuilt = Number((process.config.variables as unknown as Record<string, unknown>).v8_enable_maglev ?? 0) === 1;

describe('V8 flags of the daemon', () => {
  it('turns Maglev off by default', () => {
    expect(v8FlagsFor([])).toEqual(['--no-maglev']);
    expect(v8FlagsFor(['--max-old-space-size=512', '--perf-basic-prof'])).toEqual(['--no-maglev']);
  });

  it("leaves the operator's Maglev flag alone", () => {
    expect(v8FlagsFor(['--maglev'])).toEqual([]);
    expect(v8FlagsFor(['--no-maglev'])).toEqual([]);
    expect(v8FlagsFor(['--maglev=true'])).toEqual([]);
    expect(v8FlagsFor(['--maglev-inlining'])).toEqual(['--no-maglev']);
  });

  // Where Maglev is built in, a function asked to compile with Maglev gets Maglev code, and
  // after the flag is set at run time it does not.
  it.runIf(maglevBuilt)('setting the flag at run time stops Maglev compiling', () => {
    const probe = (setFlag: boolean): string =>
      execFileSync(
        process.execPath,
        [
          '--allow-natives-syntax',
          '-e',
          `${setFlag ? "require('node:v8').setFlagsFromString('--no-maglev');" : ''}
           function g(x) { return x + 1; }
           %PrepareFunctionForOptimization(g); g(1); g(2);
           %OptimizeMaglevOnNextCall(g); g(3);
           process.stdout.write(String(%ActiveTierIsMaglev(g)));`,
        ],
        { encoding: 'utf8' },
      );
    expect(probe(false)).toBe('true');
    expect(probe(true)).toBe('false');
  });
});

// The daemon itself, started as bin/memcached-ts.js: under load V8 compiles its hot functions
// with TurboFan and none with Maglev; with `--maglev` named on node's command line Maglev is
// used again (so the check can fail). `--trace-opt` prints each compile on stdout, which the
// shell sends to stderr, where the test reads it.
describe.runIf(maglevBuilt)('the daemon process', () => {
  async function compiles(nodeFlags: string[]): Promise<{ maglev: number; turbofan: number }> {
    const server = await startPortFileServer({
      name: 'memcached-ts --trace-opt',
      command: 'sh',
      args: ['-c', 'exec "$@" 1>&2', 'sh', process.execPath, ...nodeFlags, '--trace-opt', join(REPO_ROOT, 'bin', 'memcached-ts.js'), ...RUN_AS, '-p', '-1', '-U', '0', '-l', '127.0.0.1'],
      cwd: REPO_ROOT,
    });
    const count = (target: string): number => server.stderr().split('\n').filter((l) => l.startsWith('[completed compiling') && l.includes(`(target ${target})`)).length;
    try {
      // Node's own start-up (module loading, before bin/memcached-ts.js runs a line) compiles
      // a few of its path helpers with Maglev; what counts is what happens under load
      // (they finish on a background thread: wait until no more arrive for 200 ms)
      let maglevAtStart = -1;
      for (let i = 0; i < 25 && count('MAGLEV') !== maglevAtStart; i++) {
        maglevAtStart = count('MAGLEV');
        await new Promise((r) => setTimeout(r, 200));
      }
      const turbofanAtStart = count('TURBOFAN_JS');
      const batch = Buffer.from('set k 0 0 1\r\nx\r\nget k\r\n'.repeat(2000));
      const expected = 'STORED\r\nVALUE k 0 1\r\nx\r\nEND\r\n'.repeat(2000);
      // at least 5 rounds of 2,000 sets and gets, more until TurboFan has compiled something
      for (let round = 0; round < 40 && (round < 5 || count('TURBOFAN_JS') === turbofanAtStart); round++) {
        const reply = await request(server.port, batch, (text) => text.length >= expected.length);
        expect(reply).toBe(expected);
      }
      await new Promise((r) => setTimeout(r, 200)); // concurrent compiles finish and print
      return { maglev: count('MAGLEV') - maglevAtStart, turbofan: count('TURBOFAN_JS') - turbofanAtStart };
    } finally {
      await server.stop();
    }
  }

  it('compiles hot code with TurboFan and none with Maglev under load', async () => {
    const c = await compiles([]);
    expect(c.turbofan).toBeGreaterThan(0);
    expect(c.maglev).toBe(0);
  }, 60_000);

  it('uses Maglev when node is started with --maglev', async () => {
    const c = await compiles(['--maglev']);
    expect(c.maglev).toBeGreaterThan(0);
  }, 60_000);
});
