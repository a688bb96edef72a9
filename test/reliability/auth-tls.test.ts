// -Y text authentication, compared byte for byte with memcached 1.6.18, and -Z TLS with a
// self-signed certificate made by the openssl CLI at test time.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceAvailable, startReferenceServer } from '../support/reference-server.js';
import { startDaemonProcess } from '../support/daemon-process.js';
import type { RunningServer } from '../support/port-file-server.js';
import { Collector, connect } from '../support/raw-client.js';
import { startCore } from './core-server.js';
import { AUTH_FAILURE_LIMIT } from '../../src/protocol/auth-file.js';
import { parsePackets, request } from '../binary/wire.js';

const HAVE_MEMCACHED = referenceAvailable('test/reliability/auth-tls.test.ts (-Y: answers as memcached)');

const dir = mkdtempSync(join(tmpdir(), 'mc-auth-'));
const authFile = join(dir, 'auth');
writeFileSync(authFile, 'alice:secret\nbob:pw\r\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Each step is written on its own and answered before the next: memcached 1.6.18 keeps only
 * the last of several auth errors that arrive in one read.
 */
const CASES: string[][] = [
  ['get foo\r\n', 'version\r\n'],
  ['set a 0 0 12\r\nalice secret\r\n', 'get a\r\n', 'version\r\n'],
  ['set a 0 0 12\r\nalice secreX\r\n', 'get a\r\n', 'set a 0 0 6\r\nbob pw\r\n', 'set a 0 0 1\r\nx\r\n', 'get a\r\n'],
  ['set a 0 0 5\r\nalice\r\n'],
  ['set a 0 0 12\r\nalice secret\n', '\r\n'],
  ['set a 0 0 x\r\n'],
  ['set a 0 0\r\n'],
  ['set a 0 0 -1\r\n'],
  ['\r\n'],
  ['set a 0 0 12 noreply\r\nalice secret\r\n'],
  ['set a 0 0 14\r\nalice secret x\r\n'],
  ['set a 0 0 13\r\nalice  secret\r\n'],
  ['   set a 0 0 12\r\nalice secret\r\n'],
  ['set a 0 0 0\r\n\r\n'],
  ['set a 0 0 12\r\nalice\u0000secret\r\n'],
  ['sets a 0 0 12\r\n', 'alice secret\r\n'],
  ['set a 0 0 12\r\nALICE secret\r\n'],
  ['set a 0 0 4294967296\r\n', 'a\r\n'],
  ['x'.repeat(3000)],
];

const ordinal = (n: number): string => `${n}${n === 1 ? 'st' : n === 2 ? 'nd' : n === 3 ? 'rd' : 'th'}`;

async function run(port: number, steps: string[]): Promise<string> {
  const c = new Collector(await connect(port));
  for (const step of steps) {
    if (c.closed) break;
    const before = c.bytes;
    c.socket.write(Buffer.from(step, 'latin1'));
    // wait for an answer (or a close); a step that only starts a request gets none
    try {
      await c.until((x) => x.closed || (x.bytes > before && x.text().endsWith('\r\n')), 300);
    } catch {
      /* no reply to this step */
    }
  }
  await c.until((x) => x.closed || true);
  c.socket.destroy();
  return c.text().replace(/STAT pid \d+/, 'STAT pid N') + (c.closed ? '<closed>' : '');
}

describe('-Y: text protocol authentication', () => {
  let ours: RunningServer;
  let ref: RunningServer | null = null;
  beforeAll(async () => {
    ours = await startDaemonProcess(['-Y', authFile]);
    if (HAVE_MEMCACHED) ref = await startReferenceServer(['-Y', authFile]);
  });
  afterAll(async () => {
    await ours.stop();
    await ref?.stop();
  });

  it.skipIf(!HAVE_MEMCACHED)('answers as memcached 1.6.18', async () => {
    for (const steps of CASES) {
      const [a, b] = await Promise.all([run(ours.port, steps), run(ref!.port, steps)]);
      expect(a.replace(/VERSION \S+/g, 'VERSION V'), JSON.stringify(steps)).toBe(b.replace(/VERSION \S+/g, 'VERSION V'));
    }
  });

  it('counts auth_cmds and auth_errors', async () => {
    const server = await startCore({ authFile, bindingProtocol: 'ascii' });
    const out = await run(server.port, ['set a 0 0 6\r\nbob px\r\n', 'set a 0 0 6\r\nbob pw\r\n', 'stats\r\n']);
    await server.close();
    expect(out).toMatch(/^CLIENT_ERROR authentication failure\r\nSTORED\r\nSTAT /);
    expect(out).toMatch(/STAT auth_cmds 2\r\n/);
    expect(out).toMatch(/STAT auth_errors 1\r\n/);
  });

  it(`closes the connection at the ${ordinal(AUTH_FAILURE_LIMIT)} wrong password, and counts every failure`, async () => {
    expect(AUTH_FAILURE_LIMIT).toBe(3);
    const server = await startCore({ authFile, bindingProtocol: 'ascii' });
    const wrong = 'set a 0 0 6\r\nbob px\r\n';
    const failure = 'CLIENT_ERROR authentication failure\r\n';
    try {
      // one at a time: the first two are answered and the connection stays open
      expect(await run(server.port, [wrong, wrong, wrong, 'version\r\n'])).toBe(failure.repeat(3) + '<closed>');
      // two wrong, then the right one: still below the limit
      expect(await run(server.port, [wrong, wrong, 'set a 0 0 6\r\nbob pw\r\n', 'version\r\n'])).toMatch(
        new RegExp(`^${failure.repeat(2)}STORED\r\nVERSION \\S+\r\n$`),
      );
      // 2,000 guesses in one write get three answers, then the close
      const c = new Collector(await connect(server.port));
      c.socket.write(wrong.repeat(2000));
      await c.until((x) => x.closed, 5000);
      expect(c.text()).toBe(failure.repeat(3));
      expect(server.core.cache.stats.auth_cmds).toBe(3 + 3 + 3);
      expect(server.core.cache.stats.auth_errors).toBe(3 + 2 + 3);
    } finally {
      await server.close();
    }
  });
});

describe('-S: binary SASL failures', () => {
  const plain = (u: string, p: string): Buffer => Buffer.from(`\0${u}\0${p}`);
  const auth = (u: string, p: string): Buffer => request({ opcode: 0x21, key: 'PLAIN', value: plain(u, p) });
  /** Version is allowed before authentication: its answer proves the connection is open. */
  const version = request({ opcode: 0x0b });
  const statuses = (c: Collector): number[] => parsePackets(Buffer.concat(c.chunks)).packets.map((p) => p.status);
  /** Write, then wait for `n` more packets in all, or the close; returns every status so far. */
  async function send(c: Collector, b: Buffer, n: number): Promise<number[]> {
    c.socket.write(b);
    await c.until((x) => x.closed || statuses(x).length >= n, 5000);
    if (!c.closed) await new Promise((r) => setTimeout(r, 20));
    return statuses(c);
  }

  it(`closes the connection at the ${ordinal(AUTH_FAILURE_LIMIT)} failed exchange, and counts every failure`, async () => {
    const server = await startCore({ authFile, sasl: true, bindingProtocol: 'binary' });
    try {
      // one at a time: two failures are answered and the connection stays open
      const a = new Collector(await connect(server.port));
      expect(await send(a, Buffer.concat([auth('bob', 'px'), version]), 2)).toEqual([0x20, 0]);
      expect(await send(a, Buffer.concat([auth('bob', 'px'), version]), 4)).toEqual([0x20, 0, 0x20, 0]);
      expect(await send(a, Buffer.concat([auth('bob', 'px'), version]), 6)).toEqual([0x20, 0, 0x20, 0, 0x20]);
      expect(await a.closedWithin()).toBe(true);
      // two failures, then the right password: still below the limit
      const b = new Collector(await connect(server.port));
      expect(await send(b, Buffer.concat([auth('alice', 'nope'), auth('bob', 'px'), auth('alice', 'secret'), request({ opcode: 0x0a })]), 4)).toEqual([0x20, 0x20, 0, 0]);
      expect(b.closed).toBe(false);
      b.socket.destroy();
      // 2,000 pipelined guesses get three answers, then the close
      const c = new Collector(await connect(server.port));
      c.socket.write(Buffer.concat(Array.from({ length: 2000 }, () => auth('bob', 'px'))));
      expect(await c.closedWithin()).toBe(true);
      expect(statuses(c)).toEqual([0x20, 0x20, 0x20]);
      expect(server.core.cache.stats.auth_cmds).toBe(3 + 3 + 3);
      expect(server.core.cache.stats.auth_errors).toBe(3 + 2 + 3);
    } finally {
      await server.close();
    }
  });
});

describe('-Z: TLS', () => {
  it('serves text and binary over TLS with a self-signed certificate', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    const server = await startCore({ tls: true, tlsCertFile: cert, tlsKeyFile: key });
    try {
      const talk = (payload: Buffer, done: (b: Buffer) => boolean): Promise<Buffer> =>
        new Promise((resolve, reject) => {
          const chunks: Buffer[] = [];
          const s = tls.connect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false }, () => s.write(payload));
          s.on('data', (d: Buffer) => {
            chunks.push(d);
            if (done(Buffer.concat(chunks))) {
              s.destroy();
              resolve(Buffer.concat(chunks));
            }
          });
          s.on('error', reject);
        });
      const text = await talk(Buffer.from('set k 0 0 2\r\nhi\r\nget k\r\n'), (b) => b.toString().endsWith('END\r\n'));
      expect(text.toString()).toBe('STORED\r\nVALUE k 0 2\r\nhi\r\nEND\r\n');
      const noop = Buffer.alloc(24);
      noop[0] = 0x80;
      noop[1] = 0x0a;
      const bin = await talk(noop, (b) => b.length >= 24);
      expect([bin[0], bin[1]]).toEqual([0x81, 0x0a]);
      // a plain-text client gets no service
      const plain = new Collector(await connect(server.port));
      plain.socket.write('version\r\n');
      expect(await plain.closedWithin()).toBe(true);
      expect(plain.text()).not.toMatch(/VERSION/);
    } finally {
      await server.close();
    }
  });
});
