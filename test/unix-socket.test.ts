// -s: the daemon serves a unix socket (TCP off) with -a's permission bits.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { REPO_ROOT } from './support/daemon-process.js';
import { request } from './support/raw-client.js';
import { RUN_AS } from './support/run-as.js';

const dir = mkdtempSync(join(tmpdir(), 'mcts-unix-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('serves the text protocol on a unix socket with the -a mask', async () => {
  const path = join(dir, 'mc.sock');
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/memcached-ts.js'), ...RUN_AS, '-s', path, '-a', '0600'], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 500 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 20)); // start-up poll, not a TTL wait
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const reply = await request(path, 'set a 0 0 1\r\nx\r\nget a\r\n', (got) => got.endsWith('END\r\n'));
    expect(reply).toBe('STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n');
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
});
