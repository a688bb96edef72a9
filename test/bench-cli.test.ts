// The bench scripts' command lines: every script answers --help with its usage (exit 0) and
// an unknown flag with the usage (exit 2), before any work; and only a full bench/run.ts run
// writes bench/RESULTS.md by default.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultReportFile, wantsHelp } from '../bench/lib/cli.js';

const ROOT = join(import.meta.dirname, '..');
/** bench/*.ts that are libraries, not scripts. */
const NOT_SCRIPTS = new Set(['workloads.ts']);
const SCRIPTS = readdirSync(join(ROOT, 'bench')).filter((f) => f.endsWith('.ts') && !NOT_SCRIPTS.has(f));

function runScript(file: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist/bench', file.replace(/\.ts$/, '.js')), ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bench scripts', () => {
  it('finds the scripts', () => {
    expect(SCRIPTS).toEqual(expect.arrayContaining(['run.ts', 'memaslap.ts', 'journal.ts', 'jsonl.ts', 'http.ts', 'cache-micro.ts']));
  });

  it.each(SCRIPTS)('%s --help prints its usage and exits 0', (file) => {
    const r = runScript(file, ['--help']);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/^usage: /);
  }, 30_000);

  it.each(SCRIPTS)('%s refuses an unknown flag with its usage (exit 2)', (file) => {
    const r = runScript(file, ['--no-such-flag']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--no-such-flag[\s\S]*\nusage: /);
  }, 30_000);

  it('recognises --help and -h only before --', () => {
    expect(wantsHelp(['--quick', '--help'])).toBe(true);
    expect(wantsHelp(['-h'])).toBe(true);
    expect(wantsHelp(['--', '--help'])).toBe(false);
    expect(wantsHelp(['--quick'])).toBe(false);
  });

  it('writes bench/RESULTS.md by default only for a full run', () => {
    expect(defaultReportFile({ quick: false })).toBe('bench/RESULTS.md');
    expect(defaultReportFile({ quick: true })).toBe('-');
    expect(defaultReportFile({ quick: false, workloads: 'a' })).toBe('-');
    expect(defaultReportFile({ quick: false, target: 'memcached' })).toBe('-');
  });
});
