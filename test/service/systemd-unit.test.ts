// contrib/memcached-ts.service as systemd reads it: `systemd-analyze verify` on the unit, with
// ExecStart pointed at this checkout's bin (the unit names the `npm install -g` path, absent
// here) and no man page lookup. systemd-analyze exits 0 even for unknown keys, so the test
// asserts it says nothing, and checks with a broken copy that it would have said something.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../snapshot/helpers.js';
import { REPO_ROOT } from '../support/daemon-process.js';

const UNIT = path.join(REPO_ROOT, 'contrib/memcached-ts.service');
const BIN = path.join(REPO_ROOT, 'bin/memcached-ts.js');
const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function analyzer(): boolean {
  if (spawnSync('systemd-analyze', ['--version']).status === 0) return true;
  if (process.env.CI === 'true') throw new Error('systemd-analyze not found, and CI=true: install it (apt-get install systemd)');
  const bar = '!'.repeat(78);
  console.warn(`\n${bar}\n!! systemd unit: SKIPPED: systemd-analyze not found (apt-get install systemd)\n${bar}\n`);
  return false;
}

/** What `systemd-analyze verify` prints for the unit text (empty when it has no complaint). */
function verify(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.trim();
}

describe.runIf(analyzer())('contrib/memcached-ts.service', () => {
  const unit = fs.readFileSync(UNIT, 'utf8').replaceAll('/usr/local/bin/memcached-ts', BIN);

  it('systemd-analyze verify has no complaint', () => {
    expect(unit).toContain(`ExecStart=${BIN} `);
    expect(verify('memcached-ts.service', unit)).toBe('');
  });

  it('the check would see a mistake (a misspelt key)', () => {
    const broken = unit.replace('ProtectHome=yes', 'ProtectHom=yes');
    expect(verify('memcached-ts-broken.service', broken)).toMatch(/Unknown key 'ProtectHom'/);
  });

  it('is hardened as the README says: dynamic user, state directory, read-only system', () => {
    for (const line of ['DynamicUser=yes', 'StateDirectory=memcached-ts', 'ProtectSystem=strict', 'NoNewPrivileges=yes']) {
      expect(unit.split('\n')).toContain(line);
    }
  });
});
