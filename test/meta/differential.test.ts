// Meta commands against real memcached 1.6.18 and our daemon, both as processes on ephemeral
// ports: the same scripts (two clients where a race matters), replies compared as bytes after
// CAS values are normalised and TTL/last-access numbers are allowed one second of drift.
// Without memcached the suite is skipped loudly, or fails when CI=true.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASES } from './cases.js';
import { startDaemonProcess } from '../support/daemon-process.js';
import type { RunningServer } from '../support/port-file-server.js';
import { RawConnection } from '../support/raw-client.js';
import { referenceAvailable, startReferenceServer } from '../support/reference-server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HAVE_MEMCACHED = referenceAvailable('test/meta/differential.test.ts (meta commands, memcached vs memcached-ts)');

let sentinels = 0;

/**
 * Send `input`, then a miss with a unique opaque; return everything before that miss's
 * EN line. A sentinel after the input keeps quiet pipelines and their `mn` unambiguous.
 */
function send(conn: RawConnection, input: Buffer): Promise<Buffer> {
  const tag = `O${++sentinels}x${Date.now() % 100000}`;
  const sentinel = Buffer.from(`EN k__sentinel__ ${tag}\r\n`, 'latin1');
  conn.write(Buffer.concat([input, Buffer.from(`mg __sentinel__ k ${tag}\r\n`, 'latin1')]));
  return conn.read((got, closed) => {
    const at = got.indexOf(sentinel);
    if (at >= 0) return { value: Buffer.from(got.subarray(0, at)), used: at + sentinel.length };
    if (closed) throw new Error(`no sentinel; got ${JSON.stringify(got.toString('latin1').slice(-300))}`);
    return null;
  });
}

/** A script step whose expected reply is whatever memcached answers. */
type LiveStep = { send: string; client?: number } | { advance: number };
type LiveCase = { name: string; steps: LiveStep[] };

/** Extra scripts with no fixed expectation: memcached's reply is the reference. */
const LIVE_ONLY: LiveCase[] = [
  {
    name: 'quiet pipeline of mixed commands closed by mn',
    steps: [
      {
        send:
          'ms p1 2 q\r\nv1\r\nms p2 2 q T0 F3\r\nv2\r\nmg p1 v q k\r\nmg p3 v q\r\nmg p2 q s f\r\nma p4 q N0 J5\r\nma p4 q\r\n' +
          'md p1 q\r\nmd p1 q\r\nmg p4 v\r\nms p5 2 q MR\r\nxx\r\nms p2 2 q C1\r\nyy\r\nmn\r\n',
      },
    ],
  },
  {
    name: 'stale-while-revalidate race between two clients',
    steps: [
      { send: 'ms hot 5 T300 c\r\nvalue\r\n', client: 0 },
      { send: 'mg hot v c t R30\r\n', client: 1 },
      { send: 'md hot I T30 q\r\nmn\r\n', client: 0 },
      { send: 'mg hot v c t\r\n', client: 1 },
      { send: 'mg hot v c t\r\n', client: 0 },
      { send: 'mg hot v c t\r\n', client: 1 },
      { send: 'ms hot 6 T300 C1 I\r\nlosing\r\nmg hot v\r\n', client: 0 },
      { send: 'mg hot c\r\n', client: 1 },
    ],
  },
  {
    name: 'vivify race: one client wins, the others wait',
    steps: [
      { send: 'mg race v c N30 t\r\n', client: 0 },
      { send: 'mg race v c N30 t\r\n', client: 1 },
      { send: 'mg race v c N30 t q\r\nmn\r\n', client: 1 },
      { send: 'ms race 4 T60\r\nfull\r\n', client: 0 },
      { send: 'mg race v N30 t\r\n', client: 1 },
    ],
  },
  {
    name: 'keys: 250 bytes, 251 bytes, base64 of up to 250 encoded bytes',
    steps: [
      {
        send:
          `ms ${'k'.repeat(250)} 1 k\r\nx\r\nms ${'k'.repeat(251)} 1\r\nx\r\nmg ${'k'.repeat(251)} v\r\nmd ${'k'.repeat(251)}\r\nma ${'k'.repeat(251)}\r\n` +
          `me ${'k'.repeat(251)}\r\nms ${Buffer.alloc(186, 7).toString('base64')} 1 b k\r\nx\r\nmg ${Buffer.alloc(186, 7).toString('base64')} b k v\r\n` +
          `mg ${Buffer.alloc(187, 7).toString('base64')}A b\r\n`,
      },
    ],
  },
  {
    name: 'large value stored and fetched, bad chunk with a large value',
    steps: [
      { send: `ms lv 100000 T0\r\n${'x'.repeat(100000)}\r\nmg lv s v\r\n` },
      { send: `ms lv 5000 q\r\n${'y'.repeat(5000)}XX\r\nmg lv s\r\n` },
    ],
  },
];

/** CAS values differ between runs of interleaved tests; their position does not. */
function normalise(s: string): { text: string; times: number[] } {
  const times: number[] = [];
  const text = s
    .replace(/ c\d+/g, ' c#')
    .replace(/cas=\d+/g, 'cas=#')
    .replace(/( [tl]|la=|exp=-)(\d+)/g, (_m, p: string, n: string) => {
      times.push(Number(n));
      return `${p}@`;
    });
  return { text, times };
}

function expectSame(ours: Buffer, theirs: Buffer, what: string): void {
  const a = normalise(ours.toString('latin1'));
  const b = normalise(theirs.toString('latin1'));
  expect(a.text, what).toBe(b.text);
  expect(a.times.length, what).toBe(b.times.length);
  a.times.forEach((t, i) => expect(Math.abs(t - b.times[i]!), `${what}: time #${i} ${t} vs ${b.times[i]}`).toBeLessThanOrEqual(1));
}

describe.skipIf(!HAVE_MEMCACHED)('meta commands: memcached-ts vs memcached 1.6.18', () => {
  let mc: RunningServer;
  let ts: RunningServer;

  beforeAll(async () => {
    execFileSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
    [mc, ts] = await Promise.all([startReferenceServer(), startDaemonProcess()]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([mc?.stop(), ts?.stop()]);
  });

  for (const c of [...CASES, ...LIVE_ONLY] as LiveCase[]) {
    it(c.name, async () => {
      const conns = await Promise.all([mc, ts].map(async (srv) => [await RawConnection.open(srv.port), await RawConnection.open(srv.port)]));
      try {
        // start both from an empty cache
        for (const [a] of conns) expect((await send(a!, Buffer.from('flush_all\r\n'))).toString()).toBe('OK\r\n');
        for (const step of c.steps) {
          if ('advance' in step) continue; // a ManualClock step: the two live clocks agree anyway
          const input = Buffer.from(step.send, 'latin1');
          const theirs = await send(conns[0]![step.client ?? 0]!, input);
          const ours = await send(conns[1]![step.client ?? 0]!, input);
          expectSame(ours, theirs, `${c.name}: ${JSON.stringify(step.send.slice(0, 160))}`);
        }
      } finally {
        for (const pair of conns) for (const conn of pair) conn.close();
      }
    });
  }
});
