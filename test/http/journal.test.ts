// A full disk seen from HTTP, through the real code path: the journal on with
// --journal-fsync always and a journal filesystem whose writes or fsyncs fail. The change
// whose write failed never gets a 2xx: it gets 503 saying it is in memory, not on disk;
// further changes get 503 with the reason and change nothing, reads go on, and writes work
// again once the disk does (process-journal.test.ts does the same with a real write error).
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { captureLog, tempDir } from '../snapshot/helpers.js';
import { until } from '../support/raw-client.js';
import { FaultyFs } from '../journal/faulty-fs.js';
import { ask, parsePrometheus } from './client.js';

let daemon: Daemon | null = null;
afterEach(async () => {
  await daemon?.stop('test');
  daemon = null;
});

async function start(): Promise<{ d: Daemon; port: number; faulty: FaultyFs }> {
  const faulty = new FaultyFs();
  const cfg = { ...defaultConfig(), port: -1, httpPort: -1, journalFile: path.join(tempDir(), 'j'), journalFsync: 'always' as const };
  daemon = await startDaemon(cfg, { log: captureLog(), journalFs: faulty, lruCrawler: false });
  return { d: daemon, port: daemon.httpPort!, faulty };
}

async function notDurable(port: number): Promise<number> {
  const text = (await ask(port, { path: '/metrics' })).body.toString();
  return parsePrometheus(text).samples.find((s) => s.name === 'memcached_ts_http_changes_not_durable_total')!.value;
}

describe('HTTP with a journal that cannot write (--journal-fsync always)', () => {
  for (const fault of ['write', 'fsync'] as const) {
    it(`a PUT whose journal ${fault} fails gets 503 "in memory, not on disk"; then changes get 503, reads go on, and writes resume once the disk works`, async () => {
      const { d, port, faulty } = await start();
      expect((await ask(port, { method: 'PUT', path: '/store/a', body: 'one' })).status).toBe(201);
      if (fault === 'write') faulty.writeFails = 'ENOSPC';
      else faulty.syncFails = 'ENOSPC';
      // the change reached memory but not the disk: 503 with what happened, not a 2xx
      const failed = await ask(port, { method: 'PUT', path: '/store/b', body: 'two' });
      expect(failed.status).toBe(503);
      expect(failed.body.toString()).toBe(
        `journal ${fault === 'write' ? 'write' : 'fsync'} failed (ENOSPC): this change was applied in memory but is not on disk; ` +
          'the journal writes it once the disk works again (it is lost if the daemon stops before that); until then writes are refused\n',
      );
      expect(d.cache.writeRefusal).toMatch(/ENOSPC/);
      expect((await ask(port, { path: '/store/b' })).body.toString()).toBe('two');
      // every further change is refused with the reason, and nothing changes
      for (const [method, p] of [['PUT', '/store/a'], ['POST', '/store/c'], ['DELETE', '/store/a'], ['GET', '/set?a=x']] as const) {
        const r = await ask(port, { method, path: p, body: method === 'GET' ? undefined : 'new' });
        expect(r.status, `${method} ${p}`).toBe(503);
        expect(r.body.toString()).toMatch(/ENOSPC.*writes are refused/);
        expect(r.headers['retry-after']).toBe('1');
      }
      const got = await ask(port, { path: '/store/a' });
      expect(got.status).toBe(200);
      expect(got.body.toString()).toBe('one');
      expect((await ask(port, { path: '/get?key=a' })).body.toString()).toBe('one');
      expect(await notDurable(port)).toBe(1);
      // the disk heals: writes are taken again
      faulty.writeFails = null;
      faulty.syncFails = null;
      await until(() => d.cache.writeRefusal === null, 5000);
      expect((await ask(port, { method: 'PUT', path: '/store/a', body: 'three' })).status).toBe(204);
      expect((await ask(port, { path: '/store/a' })).body.toString()).toBe('three');
      expect((await ask(port, { method: 'DELETE', path: '/store/a' })).status).toBe(204);
    });
  }
});
