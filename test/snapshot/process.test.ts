// Snapshots across real daemon processes: fill over the text protocol, SIGTERM, restart with the
// same file; kill -9 in the middle of a snapshot; damaged files at startup.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/cache/clock.js';
import { storeValue } from '../support/cache-ops.js';
import { defaultConfig } from '../../src/config/config.js';
import { startDaemon } from '../../src/daemon.js';
import { loadSnapshot } from '../../src/persistence/loader.js';
import { writeSnapshot } from '../../src/persistence/writer.js';
import { fuzzSeed, randomInt, seededRandom } from '../support/random.js';
import { captureLog, Client, newCache, parseGets, startProcess, tempDir } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

beforeAll(() => {
  // the daemon process runs the compiled code
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json')], { stdio: 'inherit' });
}, 120_000);

/** key -> absolute exptime (-1: never), from `lru_crawler metadump all`. */
async function exptimes(c: Client): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  // every LRU segment (a cachedump shows COLD only, as memcached's)
  const r = await c.call('lru_crawler metadump all\r\n', ['END\r\n', 'ERROR\r\n']);
  for (const m of r.matchAll(/key=(\S+) exp=(-?\d+)/g)) out.set(decodeURIComponent(m[1]!), Number(m[2]));
  return out;
}

describe('round trip over a real process', () => {
  it('every item identical after SIGTERM and restart: value, flags, CAS, absolute expiry', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'snap');
    const p1 = await startProcess(['--snapshot-file', file], dir);
    const c1 = await Client.connect(p1.port);
    const keys: string[] = [];
    let batch = '';
    for (let i = 0; i < 2000; i++) {
      const key = `user:${i}`;
      keys.push(key);
      const value = `payload-${i}-`.padEnd(10 + ((i * 37) % 3000), String.fromCharCode(65 + (i % 26)));
      const ttl = i % 4 === 0 ? 0 : 3600 + i;
      batch += `set ${key} ${i * 13} ${ttl} ${value.length}\r\n${value}\r\n`;
      if (i % 100 === 99) {
        await c1.callMany(batch, 'STORED\r\n', 100);
        batch = '';
      }
    }
    const big = 'Z'.repeat(900 * 1024); // chained over several chunks
    await c1.call(`set big 7 0 ${big.length}\r\n${big}\r\n`);
    const before = parseGets(await c1.call(`gets ${keys.join(' ')} big\r\n`));
    const expBefore = await exptimes(c1);
    expect(before.size).toBe(2001);
    c1.close();
    p1.child.kill('SIGTERM');
    expect(await p1.exited).toBe(0);
    expect(p1.stderr()).not.toMatch(/failed/);

    const p2 = await startProcess(['--snapshot-file', file], dir);
    expect(p2.stderr()).toMatch(/snapshot: loaded .* 2001 items/);
    const c2 = await Client.connect(p2.port);
    const after = parseGets(await c2.call(`gets ${keys.join(' ')} big\r\n`));
    expect(after.size).toBe(2001);
    for (const [k, v] of before) expect(after.get(k), k).toEqual(v);
    const expAfter = await exptimes(c2);
    for (const [k, e] of expBefore) expect(Math.abs((expAfter.get(k) ?? -1) - e), k).toBeLessThanOrEqual(1);
    // the CAS counter continues above every loaded CAS
    await c2.call('set fresh 0 0 1\r\nx\r\n');
    const fresh = parseGets(await c2.call('gets fresh\r\n')).get('fresh')!;
    expect(fresh.cas).toBeGreaterThan(Math.max(...[...before.values()].map((v) => v.cas)));
    const stats = await c2.call('stats\r\n');
    expect(stats).toMatch(/STAT snapshot_load_result loaded\r\n/);
    c2.close();
    p2.child.kill('SIGTERM');
    expect(await p2.exited).toBe(0);
  }, 60_000);

  it('items whose TTL ran out while the daemon was down are not loaded; the rest keep their expiry', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'snap');
    const p1 = await startProcess(['--snapshot-file', file], dir);
    const c1 = await Client.connect(p1.port);
    await c1.call('set short 0 100 1\r\na\r\nset long 0 100000 1\r\nb\r\nset never 0 0 1\r\nc\r\n');
    const exp = await exptimes(c1);
    c1.close();
    p1.child.kill('SIGTERM');
    expect(await p1.exited).toBe(0);
    // restart "an hour later": the same daemon code in process on a clock moved forward
    const clock = new ManualClock(Math.floor(Date.now() / 1000) + 3600);
    const log = captureLog();
    const d = await startDaemon({ ...defaultConfig(), port: -1, snapshotFile: file }, { clock, log });
    expect(log.lines[0]).toMatch(/2 items .* skipped 1 expired/);
    const c2 = await Client.connect(d.tcpPort!);
    expect(await c2.call('get short long never\r\n')).toBe('VALUE long 0 1\r\nb\r\nVALUE never 0 1\r\nc\r\nEND\r\n');
    expect((await exptimes(c2)).get('long')).toBe(exp.get('long'));
    c2.close();
    await d.stop('test');
  }, 30_000);
});

describe('kill -9 during a snapshot', () => {
  it('never loses the previous snapshot', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'snap');
    // a first snapshot big enough that writing it takes a while
    const p0 = await startProcess(['-m', '512', '--snapshot-file', file], dir);
    const c0 = await Client.connect(p0.port);
    const v = 'q'.repeat(4000);
    for (let b = 0; b < 40; b++) {
      let cmds = '';
      for (let i = 0; i < 1000; i++) cmds += `set k${b * 1000 + i} ${b} 0 ${v.length}\r\n${v}\r\n`;
      await c0.callMany(cmds, 'STORED\r\n', 1000);
    }
    c0.close();
    p0.child.kill('SIGTERM');
    expect(await p0.exited).toBe(0);
    const N = 40_000;
    let midWrite = 0;
    const jitter = seededRandom(fuzzSeed('kill -9 during a snapshot (kill delays)', 'fresh'));
    for (let round = 0; round < 6; round++) {
      const p = await startProcess(['-m', '512', '--snapshot-file', file], dir);
      expect(p.stderr()).toMatch(new RegExp(`loaded .*: ${N} items`));
      p.child.kill('SIGTERM'); // starts the final snapshot
      await new Promise((r) => setTimeout(r, randomInt(jitter, 150)));
      p.child.kill('SIGKILL');
      await p.exited;
      if (fs.readdirSync(dir).some((n) => n.includes('.tmp-'))) midWrite++;
      // whatever moment the kill hit, the file is a whole snapshot: old or new
      const r = loadSnapshot(newCache(new ManualClock(), 512), file);
      expect(r.status, `round ${round}`).toBe('loaded');
      expect(r.items).toBe(N);
    }
    // the kill landed while a temp file was being written in at least one round
    expect(midWrite).toBeGreaterThan(0);
    // leftover temp files are cleaned up at the next start
    const p = await startProcess(['-m', '512', '--snapshot-file', file], dir);
    expect(fs.readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    p.child.kill('SIGKILL');
    await p.exited;
  }, 120_000);
});

describe('damaged files at startup over a real process', () => {
  async function startWith(prepare: (file: string) => void | Promise<void>) {
    const dir = tempDir();
    const file = path.join(dir, 'snap');
    await prepare(file);
    const p = await startProcess(['--snapshot-file', file], dir);
    const c = await Client.connect(p.port);
    expect(await c.call('set alive 0 0 2\r\nok\r\n')).toBe('STORED\r\n');
    c.close();
    const lines = p.stderr().trim().split('\n').filter((l) => l.startsWith('snapshot:'));
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    return { dir, file, lines, stderr: p.stderr() };
  }

  it('an empty file: one line, moved aside, a fresh snapshot at shutdown', async () => {
    const r = await startWith((f) => fs.writeFileSync(f, ''));
    expect(r.lines).toEqual([expect.stringMatching(/is empty; loaded nothing; moved it to .*snap\.bad-/)]);
    expect(fs.readdirSync(r.dir).some((n) => n.startsWith('snap.bad-'))).toBe(true);
    expect(loadSnapshot(newCache(new ManualClock()), r.file).items).toBe(1);
  });

  it('a truncated file: the verified part loads, the file is moved aside', async () => {
    const r = await startWith(async (f) => {
      const c = newCache(new ManualClock(Math.floor(Date.now() / 1000)));
      for (let i = 0; i < 30000; i++) {
        const k = Buffer.from(`k${i}`);
        const v = Buffer.alloc(100, 1);
        storeValue(c, k, v);
      }
      await writeSnapshot(c, `${f}.src`);
      const b = fs.readFileSync(`${f}.src`);
      fs.writeFileSync(f, b.subarray(0, Math.floor(b.length * 0.6)));
      fs.unlinkSync(`${f}.src`);
    });
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(/is truncated inside block \d+ .*loaded the verified part: \d+ items .*moved it to/);
    const loaded = Number(/verified part: (\d+) items/.exec(r.lines[0]!)![1]);
    expect(loaded).toBeGreaterThan(10000);
    expect(loaded).toBeLessThan(30000);
  });
});
