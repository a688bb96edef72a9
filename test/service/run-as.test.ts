// -u USER as a real process started as root: memcached's refusal without -u, the drop after
// the bind (ids, groups), the files the dropped user writes later (snapshot temp file and
// rename, journal rotation to .prev), the unix socket handed to the user, and a directory
// the user cannot write refused at startup. Needs root and useradd: without root the tests
// are skipped with a warning (they cannot run); as root without useradd they fail under CI.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcess, tempDir } from '../snapshot/helpers.js';
import { REPO_ROOT } from '../support/daemon-process.js';
import { request, until } from '../support/raw-client.js';

const isRoot = process.geteuid?.() === 0;
const hasUseradd = spawnSync('useradd', ['--help'], { stdio: 'ignore' }).status === 0;
const why = !isRoot ? 'not running as root' : !hasUseradd ? 'useradd is missing' : null;
if (why !== null) {
  console.warn(`\n*** SKIPPED test/service/run-as.test.ts: ${why}; -u is tested only as root ***\n`);
  // as root (CI) the tests are expected to run: a missing useradd is a failure there
  if (isRoot && process.env.CI === 'true') throw new Error(`test/service/run-as.test.ts cannot run under CI: ${why}`);
}

const BIN = path.join(REPO_ROOT, 'bin/memcached-ts.js');
const USER = `mcts${process.pid % 100000}`;
let uid = -1;
let gid = -1;
let base = '';

function ids(pid: number): Record<string, string> {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Object.fromEntries(['Uid', 'Gid', 'Groups'].map((k) => [k, new RegExp(`^${k}:[ \\t]*(.*)$`, 'm').exec(status)![1]!.trim().replace(/\s+/g, ' ')]));
}

/** A directory inside `base` owned by the test user (or by root). */
function dir(name: string, owner: 'user' | 'root'): string {
  const d = path.join(base, name);
  fs.mkdirSync(d, { mode: 0o755 });
  if (owner === 'user') fs.chownSync(d, uid, gid);
  return d;
}

describe.skipIf(why !== null)('-u USER started as root', () => {
  beforeAll(() => {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
    uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }));
    gid = Number(execFileSync('id', ['-g', USER], { encoding: 'utf8' }));
    base = tempDir();
    fs.chmodSync(base, 0o755); // the user must be able to reach its directories
  });
  afterAll(() => {
    spawnSync('userdel', [USER], { stdio: 'ignore' });
    fs.rmSync(base, { recursive: true, force: true });
  });

  it("refuses to run without -u, with memcached's sentence and exit code", () => {
    const ours = spawnSync(process.execPath, [BIN, '-p', '-1', '-U', '0'], { encoding: 'utf8', timeout: 10_000 });
    expect(ours.status).toBe(64);
    expect(ours.stderr).toMatch(/^memcached-ts: can't run as root without the -u switch \(/);
    const theirs = spawnSync('memcached', ['-p', '0', '-U', '0'], { encoding: 'utf8', timeout: 10_000 });
    if (theirs.error === undefined) {
      expect(theirs.status).toBe(ours.status);
      expect(ours.stderr).toContain(theirs.stderr.trim());
    }
    const unknown = spawnSync(process.execPath, [BIN, '-p', '-1', '-U', '0', '-u', `${USER}x`], { encoding: 'utf8', timeout: 10_000 });
    expect([unknown.status, unknown.stderr]).toEqual([67, `memcached-ts: can't find the user ${USER}x to switch to\n`]);
  });

  it('drops to the user after the bind; the user writes snapshots and rotates the journal', async () => {
    const d = dir('state', 'user');
    const snap = path.join(d, 'snap');
    const journal = path.join(d, 'journal');
    const p = await startProcess(['-u', USER, '--snapshot-file', snap, '--snapshot-interval', '1', '--journal-file', journal], base);
    try {
      // the port file is written just before the drop: wait for it (a start-up poll)
      await until(() => ids(p.child.pid!).Uid !== '0 0 0 0', 10_000);
      expect(ids(p.child.pid!)).toEqual({ Uid: `${uid} ${uid} ${uid} ${uid}`, Gid: `${gid} ${gid} ${gid} ${gid}`, Groups: '' });
      expect(fs.statSync(journal).uid).toBe(uid); // opened by root, given to the user
      expect(await request(p.port, 'set k 0 0 5\r\nhello\r\n', (t) => t.endsWith('\r\n'))).toBe('STORED\r\n');
      // the periodic snapshot: a temp file and a rename in the user's directory, and the
      // journal's rotation to journal.prev and back, all as the user (start-up poll, no TTL)
      await until(() => fs.existsSync(snap) && fs.statSync(snap).size > 0, 10_000);
      expect(fs.statSync(snap).uid).toBe(uid);
    } finally {
      p.child.kill('SIGTERM');
      expect(await p.exited, p.stderr()).toBe(0);
    }
    expect(p.stderr()).not.toMatch(/FAIL|EACCES|EPERM/);
    // what the user wrote comes back at the next start
    const again = await startProcess(['-u', USER, '--snapshot-file', snap, '--journal-file', journal], base);
    try {
      expect(await request(again.port, 'get k\r\n', (t) => t.endsWith('END\r\n'))).toBe('VALUE k 0 5\r\nhello\r\nEND\r\n');
    } finally {
      again.child.kill('SIGTERM');
      expect(await again.exited, again.stderr()).toBe(0);
    }
  });

  it('refuses at startup a snapshot or journal directory the user cannot write, naming it', () => {
    const d = dir('roots', 'root');
    for (const opt of ['--snapshot-file', '--journal-file']) {
      const r = spawnSync(process.execPath, [BIN, '-p', '-1', '-U', '0', '-u', USER, opt, path.join(d, 'f')], { encoding: 'utf8', timeout: 10_000 });
      expect(r.status, opt).toBe(71);
      expect(r.stderr).toMatch(new RegExp(`cannot create files in ${d} \\(EACCES`));
    }
    // root alone could (the same command with -u root starts)
    expect(fs.readdirSync(d)).toEqual([]);
  });

  it('refuses an auth file the user cannot read', () => {
    const auth = path.join(dir('auth', 'root'), 'users');
    fs.writeFileSync(auth, 'a:b\n', { mode: 0o600 });
    const r = spawnSync(process.execPath, [BIN, '-p', '-1', '-U', '0', '-u', USER, '-Y', auth], { encoding: 'utf8', timeout: 10_000 });
    expect([r.status, r.stderr]).toEqual([71, `memcached-ts: cannot start: the -Y file ${auth} cannot be read by user ${USER} (EACCES)\n`]);
  });

  it('gives the user the unix socket, with the -a bits', async () => {
    const sock = path.join(dir('sock', 'user'), 'mc.sock');
    const child = spawn(process.execPath, [BIN, '-u', USER, '-s', sock, '-a', '0700'], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await until(() => fs.existsSync(sock) && ids(child.pid!).Uid?.startsWith(`${uid} `) === true, 10_000);
      const st = fs.statSync(sock);
      expect([st.uid, st.gid, st.mode & 0o777]).toEqual([uid, gid, 0o700]);
      expect(await request(sock, 'set a 0 0 1\r\nx\r\nget a\r\n', (t) => t.endsWith('END\r\n'))).toBe('STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n');
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
