// Large values over TLS (-Z). A value of 16 KiB or more goes out from the item's slab chunks,
// pinned until the socket has taken it (Output#pinValue), on TLS sockets as on plain ones.
// A client that does not read holds pins, not copies; its values arrive whole even when the
// items are replaced meanwhile, and the pins go once it has read them. A multi-get yields
// when its replies pile up and takes its later keys when the client reads again, so those
// may be the new versions, as another thread's sets can land between keys in memcached.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import type { Cache } from '../../src/cache/cache.js';
import { until } from '../support/raw-client.js';
import { startCore } from './core-server.js';

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'mc-pin-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Sizes: one chunk of a large class, a chained item, and one below the pinning threshold. */
const SIZES = [MiB, 40 * 1024, 300 * 1024, 1000];

function valueOf(i: number, version: number): Buffer {
  const v = Buffer.alloc(SIZES[i]!, 0x61 + i + version * 10);
  v.writeUInt32BE(0xc0ffee00 + i, 8);
  return v;
}

function setBytes(i: number, version: number): Buffer {
  return Buffer.concat([Buffer.from(`set k${i} 3 0 ${SIZES[i]}\r\n`), valueOf(i, version), Buffer.from('\r\n')]);
}

function replyOf(keys: readonly number[], version: number): Buffer {
  const parts: Buffer[] = [];
  for (const i of keys) parts.push(Buffer.from(`VALUE k${i} 3 ${SIZES[i]}\r\n`), valueOf(i, version), Buffer.from('\r\n'));
  parts.push(Buffer.from('END\r\n'));
  return Buffer.concat(parts);
}

/** The version of each value in `reply` (a get of `keys`); throws on a value that is neither whole. */
function versionsIn(reply: Buffer, keys: readonly number[]): number[] {
  const out: number[] = [];
  let at = 0;
  for (const i of keys) {
    const head = `VALUE k${i} 3 ${SIZES[i]}\r\n`;
    expect(reply.toString('latin1', at, at + head.length)).toBe(head);
    at += head.length;
    const value = reply.subarray(at, at + SIZES[i]!);
    const v = [0, 1].find((version) => value.equals(valueOf(i, version)));
    if (v === undefined) throw new Error(`value ${out.length} (k${i}) is neither version whole`);
    out.push(v);
    at += SIZES[i]! + 2;
  }
  expect(reply.toString('latin1', at)).toBe('END\r\n');
  return out;
}

function tlsConnect(port: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends `payload` and collects the reply until it has `length` bytes (or the socket closes). */
function exchange(s: tls.TLSSocket, payload: Buffer, length: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const onData = (d: Buffer): void => {
      chunks.push(d);
      n += d.length;
      if (n >= length) finish();
    };
    const finish = (): void => {
      s.off('data', onData);
      resolve(Buffer.concat(chunks));
    };
    s.on('data', onData);
    s.once('close', finish);
    if (payload.length > 0) s.write(payload);
    s.resume();
  });
}

describe('-Z: large replies', () => {
  it('a silent TLS client holds pins, gets every value whole though replaced meanwhile, and releases the pins', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    const server = await startCore({ tls: true, tlsCertFile: cert, tlsKeyFile: key, itemSizeMax: 2 * MiB, memoryLimit: 64 * MiB });
    const sockets: tls.TLSSocket[] = [];
    try {
      const cache = server.core.cache as Cache;
      const writer = await tlsConnect(server.port);
      sockets.push(writer);
      // ~20 MiB of reply: more than the loopback socket buffers of both ends take
      const keys = [0, 1, 2, 3, 0, 2, 1, ...Array.from({ length: 18 }, () => 0)];
      const stored = Buffer.from('STORED\r\n'.repeat(SIZES.length));
      const setAll = Buffer.concat(SIZES.map((_, i) => setBytes(i, 0)));
      expect((await exchange(writer, setAll, stored.length)).toString()).toBe(stored.toString());

      // read at once: byte-equal
      const want = replyOf(keys, 0);
      const line = Buffer.from(`get ${keys.map((i) => `k${i}`).join(' ')}\r\n`);
      expect((await exchange(writer, line, want.length)).equals(want)).toBe(true);

      // a client that does not read: its get waits on pinned items
      const silent = await tlsConnect(server.port);
      sockets.push(silent);
      silent.pause();
      silent.write(line);
      await until(() => cache.links.pins.size > 0 && [...server.core.connections].some((c) => c.state === 'conn_mwrite'), 20_000);

      // replaced meanwhile (same lengths: unpinned, they would be written in place)
      const reSet = Buffer.concat(SIZES.map((_, i) => setBytes(i, 1)));
      expect((await exchange(writer, reSet, stored.length)).toString()).toBe(stored.toString());
      const want1 = replyOf(keys, 1);
      expect((await exchange(writer, line, want1.length)).equals(want1)).toBe(true);

      // the silent client reads now: every value whole, old ones first, then new ones if any
      const got = await exchange(silent, Buffer.alloc(0), want.length);
      expect(got.length).toBe(want.length);
      const versions = versionsIn(got, keys);
      expect(versions[0]).toBe(0);
      expect(versions).toEqual([...versions].sort());
      await until(() => cache.links.pins.size === 0 && cache.links.unlinkedPinned.size === 0, 5000);
    } finally {
      for (const s of sockets) s.destroy();
      server.core.destroyConnections();
      await server.core.closeListeners();
    }
  }, 60_000);
});
