// The daemon re-executes itself once with glibc's malloc tuned (src/cli/malloc-tuning.ts):
// the decision as a function, and the real process's environment on this host.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { MMAP_THRESHOLD, REEXEC_MARK, tunedEnv, type Runtime } from '../src/cli/malloc-tuning.js';
import { REPO_ROOT, startDaemonProcess } from './support/daemon-process.js';
import { startPortFileServer, type RunningServer } from './support/port-file-server.js';
import { request } from './support/raw-client.js';
import { RUN_AS } from './support/run-as.js';

const linux = (env: NodeJS.ProcessEnv, over: Partial<Runtime> = {}): Runtime => ({
  platform: 'linux',
  env,
  canExec: true,
  hasIpc: false,
  isGlibc: () => true,
  isSecure: () => false,
  ...over,
});

/** One request, the first line of its reply. */
function ask(port: number, req: string): Promise<string> {
  return request(port, req, (text) => text.endsWith('\r\n'));
}

describe('tunedEnv', () => {
  it('adds the threshold and keeps the rest of the environment', () => {
    expect(tunedEnv(linux({ PATH: '/bin', A: 'x' }))).toEqual({ PATH: '/bin', A: 'x', MALLOC_MMAP_THRESHOLD_: String(MMAP_THRESHOLD), [REEXEC_MARK]: '1' });
  });

  it('leaves alone an environment that already tunes malloc, even with an empty value', () => {
    expect(tunedEnv(linux({ MALLOC_MMAP_THRESHOLD_: '131072' }))).toBeNull();
    expect(tunedEnv(linux({ GLIBC_TUNABLES: '' }))).toBeNull();
  });

  it('never re-executes twice: the re-executed process has the mark, whatever glibc kept', () => {
    const once = tunedEnv(linux({ PATH: '/bin' }))!;
    // secure mode strips the malloc variables at exec; the mark alone must stop a second exec
    const stripped = { ...once };
    delete stripped.MALLOC_MMAP_THRESHOLD_;
    expect(tunedEnv(linux(stripped))).toBeNull();
  });

  it('does nothing in secure mode, with an IPC channel, without execve, off Linux, or with another C library', () => {
    expect(tunedEnv(linux({}, { isSecure: () => true }))).toBeNull();
    expect(tunedEnv(linux({}, { hasIpc: true }))).toBeNull();
    expect(tunedEnv(linux({}, { canExec: false }))).toBeNull();
    expect(tunedEnv(linux({}, { platform: 'darwin' }))).toBeNull();
    expect(tunedEnv(linux({}, { isGlibc: () => false }))).toBeNull();
    let asked = false;
    tunedEnv(linux({ GLIBC_TUNABLES: 'x' }, { isGlibc: () => (asked = true) }));
    expect(asked).toBe(false);
  });
});

describe.runIf(process.platform === 'linux')('the daemon process', () => {
  let server: RunningServer | null = null;
  afterEach(async () => {
    await server?.stop();
    server = null;
  });
  const environ = (pid: number): Map<string, string> =>
    new Map(readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const glibc = typeof (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime === 'string';
  const tunedHere = typeof (process as { execve?: unknown }).execve === 'function' && glibc;
  const preset = process.env.MALLOC_MMAP_THRESHOLD_ !== undefined || process.env.GLIBC_TUNABLES !== undefined;

  it(`runs with the threshold set when Node has execve (this one ${tunedHere ? 'has' : 'has not'}), as the same process, and answers`, async () => {
    server = await startDaemonProcess();
    const env = environ(server.pid);
    if (preset) expect(env.get('MALLOC_MMAP_THRESHOLD_')).toBe(process.env.MALLOC_MMAP_THRESHOLD_);
    else expect(env.get('MALLOC_MMAP_THRESHOLD_')).toBe(tunedHere ? String(MMAP_THRESHOLD) : undefined);
    // the port file came from the pid we spawned (execve keeps it), with the arguments given
    const cmdline = readFileSync(`/proc/${server.pid}/cmdline`, 'latin1').split('\0');
    expect(cmdline.slice(-7, -1)).toEqual(['-p', '-1', '-U', '0', '-l', '127.0.0.1']);
    expect(await ask(server.port, 'version\r\n')).toMatch(/^VERSION \S+\r\n$/);
  });

  it('keeps the node flags it was started with, and re-executes once', async () => {
    server = await startPortFileServer({
      name: 'memcached-ts',
      command: process.execPath,
      args: ['--stack-size=900', join(REPO_ROOT, 'bin', 'memcached-ts.js'), ...RUN_AS, '-p', '-1', '-U', '0', '-l', '127.0.0.1'],
      cwd: REPO_ROOT,
    });
    const cmdline = readFileSync(`/proc/${server.pid}/cmdline`, 'latin1').split('\0');
    expect(cmdline[1]).toBe('--stack-size=900');
    const env = environ(server.pid);
    if (!preset) expect(env.get(REEXEC_MARK)).toBe(tunedHere ? '1' : undefined);
    expect(await ask(server.port, 'version\r\n')).toMatch(/^VERSION /);
  });

  it('keeps glibc defaults when GLIBC_TUNABLES is set', async () => {
    server = await startDaemonProcess([], { GLIBC_TUNABLES: '' });
    const env = environ(server.pid);
    expect(env.get('GLIBC_TUNABLES')).toBe('');
    if (process.env.MALLOC_MMAP_THRESHOLD_ === undefined) expect(env.has('MALLOC_MMAP_THRESHOLD_')).toBe(false);
  });
});
