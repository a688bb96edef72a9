// The journal's path is checked before the daemon serves anyone: anything but an absent or
// regular file, or a directory it cannot write, stops the start with exit 71 and one line.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/daemon-process.js';
import { tempDir } from '../snapshot/helpers.js';
import { RUN_AS } from '../support/run-as.js';

function start(...args: string[]): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/memcached-ts.js'), ...RUN_AS, '-p', '0', '-U', '0', ...args], { encoding: 'utf8', timeout: 10_000 });
  return { code: r.status, stderr: r.stderr };
}

describe('journal path at startup', () => {
  it('refuses a symlink, a FIFO, a directory and a missing directory, and touches none of them', () => {
    const dir = tempDir();
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, 'keep me');
    fs.symlinkSync(target, path.join(dir, 'link'));
    spawnSync('mkfifo', [path.join(dir, 'fifo')]);
    fs.mkdirSync(path.join(dir, 'adir'));
    const cases: Array<[string, RegExp]> = [
      [path.join(dir, 'link'), /journal file .*link is a symbolic link/],
      [path.join(dir, 'fifo'), /journal file .*fifo is a FIFO/],
      [path.join(dir, 'adir'), /journal file .*adir is a directory/],
      [path.join(dir, 'missing', 'j'), /the directory .*missing does not exist/],
    ];
    for (const [file, why] of cases) {
      const r = start('--journal-file', file);
      expect(r.code, file).toBe(71);
      expect(r.stderr.trim().split('\n'), file).toHaveLength(1);
      expect(r.stderr).toMatch(why);
    }
    expect(fs.readFileSync(target, 'utf8')).toBe('keep me');
    expect(fs.lstatSync(path.join(dir, 'link')).isSymbolicLink()).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual(['adir', 'fifo', 'link', 'target']);
  });
});
