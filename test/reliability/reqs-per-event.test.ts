// -R (reqs_per_event): a connection handles at most that many requests from its buffered
// input before other connections get a turn, and `conn_yields` counts the turns it gives up.
import { afterEach, describe, expect, it } from 'vitest';
import { startDaemonProcess } from '../support/daemon-process.js';
import type { RunningServer } from '../support/port-file-server.js';
import { referenceAvailable, startReferenceServer } from '../support/reference-server.js';
import { Collector, connect } from '../support/raw-client.js';
import { startCore, type CoreServer } from './core-server.js';

const HAVE_MEMCACHED = referenceAvailable('test/reliability/reqs-per-event.test.ts (memcached counts the same)');

const running: RunningServer[] = [];
const cores: CoreServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
  await Promise.all(cores.splice(0).map((c) => c.close()));
});

async function start(which: 'ours' | 'memcached', args: string[] = []): Promise<RunningServer> {
  const s = which === 'ours' ? await startDaemonProcess(args) : await startReferenceServer(args);
  running.push(s);
  return s;
}

const count = (text: string, s: string): number => text.split(s).length - 1;

/** conn_yields before and after `n` pipelined gets sent in one write, on one connection. */
async function yieldsFor(port: number, n: number): Promise<number> {
  const sock = await connect(port);
  const c = new Collector(sock);
  const stat = async (): Promise<number> => {
    const before = c.text().length;
    sock.write('stats\r\n');
    await c.until((x) => x.text().slice(before).includes('END\r\n'));
    return Number(/STAT conn_yields (\d+)/.exec(c.text().slice(before))![1]);
  };
  const y0 = await stat();
  const before = c.text().length;
  sock.write('get nokey\r\n'.repeat(n));
  await c.until((x) => count(x.text().slice(before), 'END\r\n') === n);
  const y1 = await stat();
  sock.destroy();
  return y1 - y0;
}

describe('-R: requests per turn', () => {
  it('counts a yield for each turn given up, as memcached does for pipelined gets', async () => {
    const ours = await start('ours');
    const got = [];
    for (const n of [20, 21, 45, 100]) got.push(await yieldsFor(ours.port, n));
    expect(got).toEqual([0, 1, 2, 4]);
    const wide = await start('ours', ['-R', '1000']);
    expect(await yieldsFor(wide.port, 100)).toBe(0);
  });

  it.runIf(HAVE_MEMCACHED)('memcached counts the same for those gets', async () => {
    const ref = await start('memcached');
    const got = [];
    for (const n of [20, 21, 45, 100]) got.push(await yieldsFor(ref.port, n));
    expect(got).toEqual([0, 1, 2, 4]);
  });

  // In process, so the order is the event loop's, not the scheduler's: the pipeline is
  // written, the test waits one check phase (the server has read the pipeline in the poll
  // phase before it and, with -R, handled its first turns), then another client asks how many
  // gets were handled so far.
  for (const [R, handledBefore] of [
    [20, (n: number) => n < 4000],
    [1_000_000, (n: number) => n === 4000],
  ] as const) {
    it(`-R ${R}: ${R === 20 ? 'another client is served between turns of a long pipeline' : 'the pipeline is handled whole first'}`, async () => {
      const srv = await startCore({ reqsPerEvent: R });
      cores.push(srv);
      const a = new Collector(await connect(srv.port));
      const b = new Collector(await connect(srv.port));
      // both connections are accepted and reading before the test starts
      for (const c of [a, b]) {
        c.socket.write('version\r\n');
        await c.until((x) => x.text().includes('VERSION'));
      }
      a.socket.write('get nokey\r\n'.repeat(4000));
      await new Promise((r) => setImmediate(r));
      const before = b.text().length;
      b.socket.write('stats\r\n');
      await b.until((x) => x.text().slice(before).includes('END\r\n'));
      const gets = Number(/STAT cmd_get (\d+)/.exec(b.text().slice(before))![1]);
      expect(handledBefore(gets), `cmd_get ${gets} when the other client was served`).toBe(true);
      await a.until((x) => count(x.text(), 'END\r\n') === 4000);
      a.socket.destroy();
      b.socket.destroy();
    });
  }
});
