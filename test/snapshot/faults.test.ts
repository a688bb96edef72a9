// Faults while writing, injected through the writer's fs layer (ENOSPC, a read-only directory,
// the temp file removed mid-write): logged once, previous snapshot intact, next save works; a
// final save that fails makes the exit code non-zero.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/cache/clock.js';
import { defaultConfig } from '../../src/config/config.js';
import { EXIT_FINAL_SNAPSHOT_FAILED, startDaemon } from '../../src/daemon.js';
import { loadSnapshot } from '../../src/persistence/loader.js';
import { SnapshotScheduler } from '../../src/persistence/scheduler.js';
import { realSnapshotFs, type SnapshotFs } from '../../src/persistence/snapshot-fs.js';
import { captureLog, Client, newCache, set, tempDir } from './helpers.js';

function errno(code: string, msg: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${msg}`), { code });
}

/** The real fs, except that writes fail with ENOSPC once `limit` bytes have gone to a file. */
function fullDisk(limit: number): SnapshotFs & { armed: boolean } {
  const f = {
    armed: true,
    ...realSnapshotFs,
    async create(p: string) {
      const h = await realSnapshotFs.create(p);
      let written = 0;
      return {
        ...h,
        async write(buf: Uint8Array, off: number, len: number) {
          if (f.armed && written + len > limit) throw errno('ENOSPC', 'no space left on device, write');
          written += len;
          await h.write(buf, off, len);
        },
      };
    },
  };
  return f;
}

const readOnlyDir: SnapshotFs = {
  ...realSnapshotFs,
  create: async () => {
    throw errno('EROFS', "read-only file system, open '.../snap.tmp'");
  },
};

function filledCache(n: number) {
  const clock = new ManualClock();
  const cache = newCache(clock);
  for (let i = 0; i < n; i++) set(cache, `k${i}`, `v${i}`.repeat(50));
  return cache;
}

describe('faults while writing', () => {
  it('ENOSPC: logged once, previous snapshot intact, temp removed, next attempt succeeds', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'snap');
    const cache = filledCache(5000);
    const inject = fullDisk(100_000);
    const log = captureLog();
    const s = new SnapshotScheduler(cache, { file, interval: 0, log, fs: inject });
    inject.armed = false;
    expect((await s.saveNow()).ok).toBe(true);
    const before = fs.readFileSync(file);
    set(cache, 'extra', 'x');
    inject.armed = true;
    const r = await s.saveNow();
    expect(r).toMatchObject({ ok: false, code: 'ENOSPC' });
    expect(log.lines).toEqual([expect.stringMatching(/^snapshot: saving to .*snap failed \(ENOSPC: no space left on device, write\); the previous snapshot is kept; next attempt at shutdown$/)]);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['snap']);
    const st = new Map(s.stats());
    expect([st.get('snapshot_failures'), st.get('snapshot_last_result'), st.get('snapshot_saves')]).toEqual(['1', 'ENOSPC', '1']);
    expect(loadSnapshot(newCache(new ManualClock()), file).items).toBe(5000);
    inject.armed = false;
    expect((await s.saveNow()).ok).toBe(true);
    expect(loadSnapshot(newCache(new ManualClock()), file).items).toBe(5001);
    expect(new Map(s.stats()).get('snapshot_last_result')).toBe('ok');
  });

  it('a read-only directory: logged, previous snapshot intact', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'snap');
    const cache = filledCache(10);
    expect((await new SnapshotScheduler(cache, { file, interval: 0, log: captureLog() }).saveNow()).ok).toBe(true);
    const before = fs.readFileSync(file);
    const log = captureLog();
    const s = new SnapshotScheduler(cache, { file, interval: 60, log, fs: readOnlyDir });
    expect(await s.saveNow()).toMatchObject({ ok: false, code: 'EROFS' });
    expect(log.lines[0]).toMatch(/failed \(EROFS: read-only file system.*next attempt in 60 s$/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('the temp file removed under the daemon: the rename fails, logged, previous intact', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'snap');
    const cache = filledCache(3000);
    const log = captureLog();
    const s = new SnapshotScheduler(cache, { file, interval: 0, log });
    await s.saveNow();
    const before = fs.readFileSync(file);
    const s2 = new SnapshotScheduler(cache, {
      file, interval: 0, log,
      write: {
        sliceBytes: 16384, blockTarget: 16384,
        onSlice: () => {
          for (const n of fs.readdirSync(dir)) if (n.includes('.tmp-')) fs.unlinkSync(path.join(dir, n));
        },
      },
    });
    expect(await s2.saveNow()).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(log.lines.at(-1)).toMatch(/failed \(ENOENT/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('the snapshot directory removed: logged, the daemon keeps serving, and the failed final save exits 74', async () => {
    const dir = tempDir();
    const sub = path.join(dir, 'gone');
    fs.mkdirSync(sub);
    const log = captureLog();
    const cfg = { ...defaultConfig(), port: -1, snapshotFile: path.join(sub, 'snap') };
    const d = await startDaemon(cfg, { log });
    const c = await Client.connect(d.tcpPort!);
    expect(await c.call('set a 0 0 1\r\nx\r\n')).toBe('STORED\r\n');
    fs.rmdirSync(sub);
    const r = await d.snapshots!.saveNow();
    expect(r).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(await c.call('get a\r\n')).toBe('VALUE a 0 1\r\nx\r\nEND\r\n');
    const stats = await c.call('stats\r\n');
    expect(stats).toMatch(/STAT snapshot_failures 1\r\n/);
    expect(stats).toMatch(/STAT snapshot_last_result ENOENT\r\n/);
    c.close();
    await d.stop('test');
    expect(await d.stopped).toBe(EXIT_FINAL_SNAPSHOT_FAILED);
    expect(log.lines.at(-1)).toMatch(/^memcached-ts: FINAL SNAPSHOT FAILED: the cache was NOT saved to .*gone\/snap \(ENOENT.*exit code 74$/);
  });

  it('a final save that fails (ENOSPC through the fs seam): exit code 74, said loudly, previous snapshot kept', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'snap');
    const inject = fullDisk(1000);
    inject.armed = false;
    const log = captureLog();
    const cfg = { ...defaultConfig(), port: -1, snapshotFile: file };
    const d1 = await startDaemon(cfg, { log, snapshotFs: inject });
    const c = await Client.connect(d1.tcpPort!);
    for (let i = 0; i < 100; i++) await c.call(`set k${i} 0 0 100\r\n${'v'.repeat(100)}\r\n`);
    expect((await d1.snapshots!.saveNow()).ok).toBe(true);
    const before = fs.readFileSync(file);
    expect(await c.call('set late 0 0 1\r\nx\r\n')).toBe('STORED\r\n');
    c.close();
    inject.armed = true;
    await d1.stop('test');
    expect(await d1.stopped).toBe(EXIT_FINAL_SNAPSHOT_FAILED);
    expect(log.lines.filter((l) => /FINAL SNAPSHOT FAILED/.test(l))).toEqual([
      expect.stringMatching(/NOT saved to .*snap \(ENOSPC: no space left on device, write\); changes since the previous snapshot are lost; exit code 74$/),
    ]);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['snap']);
    // and a final save that works still exits 0
    inject.armed = false;
    const d2 = await startDaemon(cfg, { log: captureLog(), snapshotFs: inject });
    await d2.stop('test');
    expect(await d2.stopped).toBe(0);
  });
});
