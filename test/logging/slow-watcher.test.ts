// A watcher that stops reading: its lines are dropped and counted instead of queued (the bytes
// held for it stay under watcher_logbuf_size), other clients go on as usual, and when it reads
// again the next line it gets is preceded by memcached's `skipped=N`. Run in-process (where the
// held bytes can be measured) and against the daemon process (counts through `stats`).
import { afterEach, describe, expect, it } from 'vitest';
import { WATCHER_BUFFER } from '../../src/logging/event-log.js';
import { startDaemonProcess } from '../support/daemon-process.js';
import { Collector, connect, request, type Address } from '../support/raw-client.js';
import { startCore, type CoreServer } from '../reliability/core-server.js';
import { watcher } from './scripts.js';

/** `stats` of the server as a map. */
async function stats(to: Address): Promise<Map<string, string>> {
  const text = await request(to, 'stats\r\n', (t) => t.endsWith('END\r\n'));
  return new Map([...text.matchAll(/^STAT (\S+) (.*)\r$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** 100 keys a line, `lines` lines: 100 item_get events each, replies of a few bytes. */
async function flood(c: Collector, lines: number): Promise<void> {
  const keys = Array.from({ length: 100 }, (_, i) => `missing-key-${i}`).join(' ');
  const before = (c.text().match(/END\r\n/g) ?? []).length;
  c.socket.write(`get ${keys}\r\n`.repeat(lines));
  await c.until((x) => (x.text().match(/END\r\n/g) ?? []).length >= before + lines, 60_000);
}

/**
 * The scenario on a server at `to`: returns what the watcher received after it read again.
 * `held` (in-process only) reports the bytes the server holds for the watcher, sampled as the
 * flood goes on.
 */
async function scenario(to: Address, held: () => number): Promise<{ tail: string; skipped: number; maxHeld: number }> {
  const w = await watcher(to, 'fetchers');
  w.socket.pause();
  const client = new Collector(await connect(to));
  let maxHeld = 0;
  // 200 000 lines of ~100 bytes: far more than the kernel's socket buffers and the budget
  for (let round = 0; round < 20; round++) {
    await flood(client, 100);
    maxHeld = Math.max(maxHeld, held());
  }
  const st = await stats(to);
  const skipped = Number(st.get('log_watcher_skipped'));
  expect(skipped).toBeGreaterThan(0);
  expect(st.get('log_watchers')).toBe('1');
  // another client is served while the watcher does not read
  const other = await request(to, 'set other 0 0 2\r\nhi\r\nget other\r\n', (t) => t.endsWith('END\r\n'));
  expect(other).toBe('STORED\r\nVALUE other 0 2\r\nhi\r\nEND\r\n');
  // the watcher reads again: everything held comes out, then the next event brings the report
  w.socket.resume();
  const received = w.bytes;
  await new Promise((r) => setTimeout(r, 300));
  const mark = w.text().length;
  client.socket.write('get after-the-pause\r\n');
  await w.until((x) => x.text().slice(mark).includes('key=after-the-pause '));
  expect(w.bytes).toBeGreaterThan(received);
  const tail = w.text().slice(mark);
  client.socket.destroy();
  w.socket.destroy();
  return { tail, skipped: Number((await stats(to)).get('log_watcher_skipped')), maxHeld };
}

describe('a watcher that does not read', () => {
  let core: CoreServer | null = null;
  afterEach(async () => {
    await core?.close();
    core = null;
  });

  it('in-process: the server holds at most watcher_logbuf_size for it, and it gets skipped=N', async () => {
    core = await startCore();
    const c = core.core;
    const watcherHeld = (): number => Math.max(0, ...[...c.connections].filter((x) => x.id === 1).map((x) => x.pendingOutput));
    const { tail, skipped, maxHeld } = await scenario(core.port, watcherHeld);
    expect(maxHeld).toBeGreaterThan(0);
    expect(maxHeld).toBeLessThanOrEqual(WATCHER_BUFFER);
    // one watcher: every line skipped is in the one report
    expect(tail).toMatch(new RegExp(`^skipped=${skipped}\\nts=\\d+\\.\\d+ gid=\\d+ type=item_get key=after-the-pause status=not_found clsid=0 cfd=2 size=0\\n$`));
    expect(c.events.stats.skipped).toBe(skipped);
  }, 120_000);

  it('daemon process: the skipped report once it reads again, other clients served meanwhile', async () => {
    const server = await startDaemonProcess();
    try {
      const { tail, skipped } = await scenario(server.port, () => 0);
      expect(tail).toMatch(new RegExp(`^skipped=${skipped}\\nts=\\d+\\.\\d+ gid=\\d+ type=item_get key=after-the-pause `));
    } finally {
      await server.stop();
    }
  }, 120_000);
});

describe('watcher connections', () => {
  let core: CoreServer | null = null;
  afterEach(async () => {
    await core?.close();
    core = null;
  });

  it('are not closed by the idle sweep, show as conn_watch, and see why others close', async () => {
    core = await startCore({ idleTimeout: 5 });
    const w = await watcher(core.port, 'connevents');
    const idle = new Collector(await connect(core.port));
    const quitter = new Collector(await connect(core.port));
    await w.until((x) => (x.text().match(/type=conn_new/g) ?? []).length === 2);
    expect((await request(core.port, 'stats conns\r\n', (t) => t.endsWith('END\r\n'))).match(/STAT 1:state (\S+)/)?.[1]).toBe('conn_watch');
    quitter.socket.write('quit\r\n');
    await quitter.until((x) => x.closed);
    core.clock.advance(10);
    core.core.sweepIdle();
    await idle.until((x) => x.closed);
    await w.until((x) => /reason=idle_timeout/.test(x.text()));
    expect(w.closed).toBe(false);
    const closes = w.text().match(/type=conn_close rip=127\.0\.0\.1 rport=\d+ transport=tcp reason=\w+ cfd=\d+/g);
    expect(closes?.map((l) => /reason=(\w+) cfd=(\d+)/.exec(l)!.slice(1).join(' '))).toEqual(['normal 3', 'normal 4', 'idle_timeout 2']);
    w.socket.destroy();
    await until(() => core!.core.events.watchers === 0);
  });
});

async function until(cond: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
