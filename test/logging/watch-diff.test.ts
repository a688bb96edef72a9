// `watch` against real memcached 1.6.18: the same commands (text, meta, binary) sent to both
// servers while a watcher listens; the watch lines must be the same once timestamps, gids
// (counted from the first), fds and ports are named alike. Both servers are real processes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemonProcess } from '../support/daemon-process.js';
import type { RunningServer } from '../support/port-file-server.js';
import { referenceAvailable, startReferenceServer } from '../support/reference-server.js';
import { Collector, connect } from '../support/raw-client.js';
import { normalizeEvents, runScripts, watcher } from './scripts.js';

const withReference = referenceAvailable('watch differential');

async function watchedRun(server: RunningServer, kinds: string, closes: number): Promise<string[]> {
  const w = await watcher(server.port, kinds);
  await runScripts(server.port);
  // the lines of the last close may still be on their way
  await w.until((c) => (c.text().match(/type=conn_close/g) ?? []).length >= closes || !kinds.includes('connevents'));
  await new Promise((r) => setTimeout(r, 100));
  w.socket.destroy();
  return normalizeEvents(w.text());
}

describe.skipIf(!withReference)('watch: memcached-ts streams what memcached 1.6.18 streams', () => {
  let ref: RunningServer;
  let ours: RunningServer;
  beforeAll(async () => {
    [ref, ours] = await Promise.all([startReferenceServer(), startDaemonProcess()]);
  });
  afterAll(async () => {
    await Promise.all([ref?.stop(), ours?.stop()]);
  });

  it('fetchers, mutations and connevents for text, meta and binary commands', async () => {
    const expected = await watchedRun(ref, 'fetchers mutations connevents', 2);
    const actual = await watchedRun(ours, 'fetchers mutations connevents', 2);
    expect(expected.length).toBeGreaterThan(40);
    expect(actual).toEqual(expected);
  });

  it('`watch` alone streams fetchers only', async () => {
    // without conn events nothing tells when memcached reuses an fd: connections are not told apart
    const oneFd = (lines: string[]): string[] => lines.map((l) => l.replace(/cfd=c\d+/, 'cfd=c'));
    const expected = oneFd(await watchedRun(ref, '', 0));
    const actual = oneFd(await watchedRun(ours, '', 0));
    expect(expected.every((l) => l.includes('type=item_get'))).toBe(true);
    expect(actual).toEqual(expected);
  });

  it('refuses an unknown kind with ERROR and leaves the connection usable', async () => {
    for (const server of [ref, ours]) {
      const c = new Collector(await connect(server.port));
      c.socket.write('watch fetchers deletions\r\nversion\r\n');
      await c.until((x) => x.text().includes('VERSION'));
      expect(c.text()).toMatch(/^ERROR\r\nVERSION /);
      c.socket.destroy();
    }
  });
});

describe.skipIf(!withReference)('watch evictions: the eviction lines of memcached 1.6.18', () => {
  it('name the evicted keys from the LRU tail with fetch, ttl, la, clsid and size', async () => {
    const lines: string[][] = [];
    for (const start of [() => startReferenceServer(['-m', '2']), () => startDaemonProcess(['-m', '2'])]) {
      const server = await start();
      try {
        const w = await watcher(server.port, 'evictions');
        const c = new Collector(await connect(server.port));
        const v = 'x'.repeat(1000);
        let s = '';
        for (let i = 0; i < 4000; i++) s += `set key${i} 0 ${i % 2 ? 0 : 500} ${v.length}\r\n${v}\r\n`;
        c.socket.write(`${s}version\r\n`);
        await c.until((x) => x.text().endsWith('\r\nVERSION 1.6.18\r\n'));
        // four whole lines: the fourth may arrive in more than one read
        await w.until((x) => (x.text().match(/type=eviction[^\n]*\n/g) ?? []).length >= 4);
        // a second may pass between the sets and the evictions on a busy machine: the item's age
        // (la) and what is left of its TTL move together, so their sum is compared
        const timeless = (l: string): string =>
          l.replace(/ttl=(-?\d+) la=(\d+)/, (_, ttl: string, la: string) => (ttl === '-1' ? 'ttl=-1' : `ttl+la=${Number(ttl) + Number(la)}`) + (Number(la) <= 2 ? ' la<=2' : ` la=${la}`));
        lines.push(normalizeEvents(w.text()).slice(0, 4).map(timeless));
        c.socket.destroy();
        w.socket.destroy();
      } finally {
        await server.stop();
      }
    }
    expect(lines[0]).toEqual([
      '+0 type=eviction key=key0 fetch=no ttl+la=500 la<=2 clsid=12 size=1000',
      '+1 type=eviction key=key1 fetch=no ttl=-1 la<=2 clsid=12 size=1000',
      '+2 type=eviction key=key2 fetch=no ttl+la=500 la<=2 clsid=12 size=1000',
      '+3 type=eviction key=key3 fetch=no ttl=-1 la<=2 clsid=12 size=1000',
    ]);
    expect(lines[1]).toEqual(lines[0]);
  });
});
