// -d and -P as real processes: the starting command returns once the detached copy serves
// (or with the copy's error and exit code), the copy runs in its own session in / with
// /dev/null for input and output, the pid file names it and goes away at exit.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startProcess, tempDir } from '../snapshot/helpers.js';
import { REPO_ROOT } from '../support/daemon-process.js';
import { request, until } from '../support/raw-client.js';
import { RUN_AS } from '../support/run-as.js';

const BIN = path.join(REPO_ROOT, 'bin/memcached-ts.js');
const base = tempDir();
const started: number[] = [];
afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL'); // only if a test failed before stopping it
    } catch {
      // gone already
    }
  }
  fs.rmSync(base, { recursive: true, force: true });
});

/** Run `memcached-ts -d ...` from `cwd` to its exit. */
function daemonize(args: string[], cwd: string, env: Record<string, string> = {}): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...RUN_AS, '-d', '-U', '0', '-l', '127.0.0.1', ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, ...env },
  });
  return { status: r.status, stderr: r.stderr };
}

const alive = (pid: number): boolean => fs.existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));

describe('-d', () => {
  it('returns 0 once the detached copy serves; -P names it; relative paths still work', async () => {
    const cwd = fs.mkdtempSync(path.join(base, 'd-'));
    const r = daemonize(['-p', '-1', '-P', 'pid', '--snapshot-file', 'snap'], cwd, { MEMCACHED_PORT_FILENAME: 'ports' });
    expect(r).toEqual({ status: 0, stderr: '' });
    // both files exist when the command returns: no wait needed
    const pid = Number(fs.readFileSync(path.join(cwd, 'pid'), 'utf8'));
    started.push(pid);
    const port = Number(/TCP INET: (\d+)/.exec(fs.readFileSync(path.join(cwd, 'ports'), 'utf8'))![1]);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').slice(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ');
    expect(Number(stat[3])).toBe(pid); // session id: it leads a session of its own
    expect(fs.readlinkSync(`/proc/${pid}/cwd`)).toBe('/');
    for (const fd of [0, 1, 2]) expect(fs.readlinkSync(`/proc/${pid}/fd/${fd}`)).toBe('/dev/null');
    // the copy gets glibc's malloc tuned from its start, on every Node version
    const environ = fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
    const glibc = typeof (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime === 'string';
    if (glibc && process.env.MALLOC_MMAP_THRESHOLD_ === undefined && process.env.GLIBC_TUNABLES === undefined) {
      expect(environ).toContain('MALLOC_MMAP_THRESHOLD_=65536');
    }
    expect(await request(port, 'set k 0 0 1\r\nv\r\n', (t) => t.endsWith('\r\n'))).toBe('STORED\r\n');
    process.kill(pid, 'SIGTERM');
    await until(() => !alive(pid), 10_000); // a stop is not a TTL: poll for the exit
    expect(fs.existsSync(path.join(cwd, 'pid'))).toBe(false);
    expect(fs.statSync(path.join(cwd, 'snap')).size).toBeGreaterThan(0); // "snap" relative to where it was started
  }, 30_000);

  it("exits with the copy's error and code when the copy cannot start", () => {
    const cwd = fs.mkdtempSync(path.join(base, 'f-'));
    const r = daemonize(['-p', '-1', '--snapshot-file', path.join(cwd, 'no/such/dir/snap'), '-P', 'pid'], cwd);
    expect(r.status).toBe(71);
    expect(r.stderr).toBe(`memcached-ts: cannot start: snapshot file ${path.join(cwd, 'no/such/dir/snap')}: the directory ${path.join(cwd, 'no/such/dir')} does not exist\n`);
    expect(fs.existsSync(path.join(cwd, 'pid'))).toBe(false);
  });

  it('prints warnings once and usage errors without starting anything', () => {
    const cwd = fs.mkdtempSync(path.join(base, 'u-'));
    expect(daemonize(['-p', 'x'], cwd).status).toBe(64);
    const r = daemonize(['-p', '-1', '-k', '-P', 'pid'], cwd);
    expect(r.status).toBe(0);
    expect(r.stderr.split('\n').filter((l) => l.includes('-k ignored'))).toHaveLength(1);
    const pid = Number(fs.readFileSync(path.join(cwd, 'pid'), 'utf8'));
    started.push(pid);
    process.kill(pid, 'SIGTERM');
  });
});

describe('-P without -d', () => {
  it('writes the pid once bound and removes it at exit if it still holds that pid', async () => {
    const cwd = fs.mkdtempSync(path.join(base, 'p-'));
    const pidFile = path.join(cwd, 'pid');
    const p = await startProcess(['-P', pidFile], cwd);
    expect(fs.readFileSync(pidFile, 'utf8')).toBe(`${p.child.pid}\n`);
    // the port file is written a moment before the signal handlers are in place: ask first
    expect(await request(p.port, 'version\r\n', (t) => t.endsWith('\r\n'))).toMatch(/^VERSION /);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(fs.existsSync(pidFile)).toBe(false);
    // a file that names another process is left alone
    const q = await startProcess(['-P', pidFile], cwd);
    fs.writeFileSync(pidFile, '1\n');
    expect(await request(q.port, 'version\r\n', (t) => t.endsWith('\r\n'))).toMatch(/^VERSION /);
    q.child.kill('SIGTERM');
    expect(await q.exited).toBe(0);
    expect(fs.readFileSync(pidFile, 'utf8')).toBe('1\n');
  });

  it('refuses to start when the pid file cannot be written', () => {
    const r = spawnSync(process.execPath, [BIN, ...RUN_AS, '-p', '-1', '-U', '0', '-P', path.join(base, 'missing', 'pid')], { encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(71);
    expect(r.stderr).toMatch(/^memcached-ts: cannot start: cannot write the pid file .*missing\/pid: ENOENT/);
  });
});
