// A full disk seen from HTTP, through the real code path: the journal on with
// --journal-fsync always and a journal filesystem whose writes or fsyncs fail. The change
// whose write failed never gets a 2xx (the connection closes without an answer, as on the
// memcached port); further changes get 503 with the reason, reads go on, and writes work again
// once the disk does.
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

async function unanswered(port: number): Promise<number> {
  const text = (await ask(port, { path: '/metrics' })).body.toString();
  return parsePrometheus(text).samples.find((s) => s.name === 'memcached_ts_http_unanswered_changes_total')!.value;
}

describe('HTTP with a journal that cannot write (--journal-fsync always)', () => {
  for (const fault of ['write', 'fsync'] as const) {
    it(`a PUT whose journal ${fault} fails gets no answer; then changes get 503, reads go on, and writes resume once the disk works`, async () => {
      const { d, port, faulty } = await start();
      expect((await ask(port, { method: 'PUT', path: '/store/a', body: 'one' })).status).toBe(201);
      if (fault === 'write') faulty.writeFails = 'ENOSPC';
      else faulty.syncFails = 'ENOSPC';
      // the change reached memory but not the disk: neither 2xx nor "not done"; the connection closes
      await expect(ask(port, { method: 'PUT', path: '/store/b', body: 'two' })).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect(d.cache.writeRefusal).toMatch(/ENOSPC/);
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
      expect(await unanswered(port)).toBe(1);
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
