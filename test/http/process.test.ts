// The HTTP front of the real daemon process (bin/memcached-ts.js): the port file's HTTP line,
// cross-front visibility, a restart that keeps blobs through the snapshot, and kill -9 with
// --journal-fsync always keeping every blob whose 2xx arrived, and a journal on a full disk
// (the PUT that fills it gets 503 saying the change is in memory, not on disk).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import crypto from 'node:crypto';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Client, startProcess, tempDir } from '../snapshot/helpers.js';
import { seededRandom } from '../support/random.js';
import { ask } from './client.js';


interface Daemon {
  child: ChildProcess;
  tcp: number;
  http: number;
  exited: Promise<number | null>;
  stderr: () => string;
}

/** The daemon with its HTTP port on (`[...wrap, node, bin, ...args]`, e.g. inside `unshare`). */
async function spawnDaemon(args: string[], dir: string, wrap: string[] = []): Promise<Daemon> {
  const p = await startProcess(['--http-port', '-1', '-U', '0', ...args], dir, wrap);
  return { child: p.child, tcp: p.port, http: Number(/^HTTP INET: (\d+)$/m.exec(p.ports)?.[1]), exited: p.exited, stderr: p.stderr };
}

function blob(i: number, size: number): Buffer {
  const rnd = seededRandom(i);
  const b = Buffer.allocUnsafe(size);
  for (let j = 0; j < size; j++) b[j] = Math.floor(rnd() * 256);
  return b;
}

describe('the HTTP front of the daemon process', () => {
  it('writes HTTP INET to the port file; the text port sees blobs PUT over HTTP and HTTP sees text sets', async () => {
    const d = await spawnDaemon([], tempDir());
    try {
      expect(d.http).toBeGreaterThan(0);
      expect(d.http).not.toBe(d.tcp);
      expect((await ask(d.http, { method: 'PUT', path: '/store/dir/a.bin', body: 'from http', headers: { 'X-Memcached-Flags': '3' } })).status).toBe(201);
      const c = await Client.connect(d.tcp);
      expect(await c.call('get dir/a.bin\r\n')).toBe('VALUE dir/a.bin 3 9\r\nfrom http\r\nEND\r\n');
      expect(await c.call('set t 0 0 9\r\nfrom text\r\n')).toBe('STORED\r\n');
      expect((await ask(d.http, { path: '/get?key=t' })).body.toString()).toBe('from text');
      expect(await c.call('stats settings\r\n')).toMatch(/STAT http_port -1\r\n/);
      c.close();
    } finally {
      d.child.kill('SIGTERM');
      await d.exited;
    }
  });

  it('a restart keeps blobs through the snapshot, byte for byte (5 MiB included)', async () => {
    const dir = tempDir();
    const snap = path.join(dir, 'snap');
    const args = ['--snapshot-file', snap, '-I', '8m', '-m', '128'];
    const d1 = await spawnDaemon(args, dir);
    const blobs = [blob(1, 100), blob(2, 300_000), blob(3, 5 * 1024 * 1024)];
    for (const [i, b] of blobs.entries()) expect((await ask(d1.http, { method: 'PUT', path: `/store/keep/${i}`, body: b })).status).toBe(201);
    d1.child.kill('SIGTERM');
    expect(await d1.exited).toBe(0);
    const d2 = await spawnDaemon(args, dir);
    try {
      for (const [i, b] of blobs.entries()) expect((await ask(d2.http, { path: `/store/keep/${i}` })).body.equals(b), `blob ${i}`).toBe(true);
    } finally {
      d2.child.kill('SIGTERM');
      await d2.exited;
    }
  });

  it('kill -9 with --journal-fsync always keeps every blob whose 2xx arrived', async () => {
    const dir = tempDir();
    const args = ['--journal-file', path.join(dir, 'journal'), '--journal-fsync', 'always', '--snapshot-file', path.join(dir, 'snap')];
    const d1 = await spawnDaemon(args, dir);
    const acked = new Map<string, number>();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    let stop = false;
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let n = 0; !stop; n++) {
        const key = `w${w}/k${n % 20}`;
        try {
          const r = await ask(d1.http, { method: 'PUT', path: `/store/${key}`, body: `${n}:${'v'.repeat(n % 500)}`, agent });
          if (r.status === 201 || r.status === 204) acked.set(key, n);
        } catch {
          return; // the daemon is gone
        }
      }
    });
    await new Promise((r) => setTimeout(r, 700));
    d1.child.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    await d1.exited;
    agent.destroy();
    expect(acked.size).toBeGreaterThan(50);
    const d2 = await spawnDaemon(args, dir);
    try {
      let lost = 0;
      for (const [key, n] of acked) {
        const r = await ask(d2.http, { path: `/store/${key}` });
        const got = r.status === 200 ? Number(r.body.toString().split(':')[0]) : -1;
        // the last acknowledged version, or a later one whose reply the kill cut off
        if (got < n) lost++;
      }
      expect(lost).toBe(0);
    } finally {
      d2.child.kill('SIGTERM');
      await d2.exited;
    }
  });
});

describe('HTTPS from the daemon process', () => {
  it('-Z serves HTTPS with the -o ssl_chain_cert/ssl_key certificate; past -c a connection is closed', async () => {
    const dir = tempDir();
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    const d = await spawnDaemon(['-Z', '-o', `ssl_chain_cert=${cert},ssl_key=${key}`, '-c', '2'], dir);
    try {
      const agent = new https.Agent({ keepAlive: true, maxSockets: 2 });
      expect((await ask(d.http, { method: 'PUT', path: '/store/tls/a', body: blob(7, 100_000), tls: true, agent })).status).toBe(201);
      // two keep-alive HTTPS connections fill -c 2: a third is closed (no answer can go out before
      // the TLS handshake, and the handshake is not done for a connection past the limit)
      const both = await Promise.all([ask(d.http, { path: '/store/tls/a', tls: true, agent }), ask(d.http, { path: '/healthz', tls: true, agent })]);
      expect(both[0].body.equals(blob(7, 100_000))).toBe(true);
      expect(both[1].status).toBe(200);
      await expect(ask(d.http, { path: '/healthz', tls: true })).rejects.toThrow();
      // the memcached port (TLS too with -Z) counts toward the same -c
      const text = await new Promise<string>((resolve) => {
        let got = '';
        const s = tls.connect({ host: '127.0.0.1', port: d.tcp, rejectUnauthorized: false });
        s.on('data', (b: Buffer) => (got += b.toString()));
        s.on('error', () => {});
        s.on('close', () => resolve(got));
      });
      expect(text).toBe('ERROR Too many open connections\r\n');
      agent.destroy();
      let status = 0;
      for (const deadline = Date.now() + 5000; status !== 200 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
        status = await ask(d.http, { path: '/healthz', tls: true }).then((r) => r.status, () => 0);
      }
      expect(status).toBe(200);
      // the certificate served is the one generated here
      const served = await new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: d.http, rejectUnauthorized: false }, () => {
          resolve(s.getPeerX509Certificate()!.fingerprint256);
          s.destroy();
        });
        s.on('error', reject);
      });
      expect(served).toBe(new crypto.X509Certificate(fs.readFileSync(cert)).fingerprint256);
    } finally {
      d.child.kill('SIGTERM');
      await d.exited;
    }
  });
});

/** A private mount namespace with a tmpfs can be made here (root, or a kernel that allows it). */
function canMountTmpfs(): boolean {
  const dir = tempDir();
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
  return r.status === 0;
}

describe('the HTTP front of the daemon process on a full disk', () => {
  // the journal on a 256 KiB tmpfs mounted in a mount namespace of the daemon's own: the disk
  // really fills, with the daemon's own write() and fdatasync()
  it.skipIf(!canMountTmpfs())('a PUT the journal cannot write gets 503 saying it is in memory, not on disk; then 503 with the reason, GETs work, and writes resume once the disk grows', async () => {
    const dir = tempDir();
    const disk = path.join(dir, 'disk');
    fs.mkdirSync(disk);
    const wrap = ['unshare', '-m', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs -o size=256k tmpfs "$0" && exec "$@"`, disk];
    const d = await spawnDaemon(['--journal-file', path.join(disk, 'journal'), '--journal-fsync', 'always'], dir, wrap);
    try {
      const acked: number[] = [];
      let failed = -1;
      for (let i = 0; i < 20 && failed < 0; i++) {
        const r = await ask(d.http, { method: 'PUT', path: `/store/full/${i}`, body: blob(i, 40_000) });
        if (r.status === 503) {
          // the PUT whose record did not fit: told what happened to it
          expect(r.body.toString()).toMatch(
            /^journal (write|fsync) failed \(ENOSPC\): this change was applied in memory but is not on disk; the journal writes it once the disk works again \(it is lost if the daemon stops before that\); until then writes are refused\n$/,
          );
          failed = i;
          continue;
        }
        expect(r.status, `PUT ${i}`).toBe(201);
        acked.push(i);
      }
      expect(failed).toBeGreaterThan(0);
      // as the 503 said: in memory
      expect((await ask(d.http, { path: `/store/full/${failed}` })).body.equals(blob(failed, 40_000))).toBe(true);
      const refused = await ask(d.http, { method: 'PUT', path: '/store/full/next', body: 'x' });
      expect(refused.status).toBe(503);
      expect(refused.body.toString()).toMatch(/ENOSPC/);
      for (const i of acked) expect((await ask(d.http, { path: `/store/full/${i}` })).body.equals(blob(i, 40_000)), `GET ${i}`).toBe(true);
      // the disk grows (from inside the daemon's mount namespace): writes are taken again
      execFileSync('nsenter', ['-t', String(d.child.pid), '-m', 'mount', '-o', 'remount,size=8m', disk]);
      let status = 0;
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
        status = (await ask(d.http, { method: 'PUT', path: '/store/full/after', body: 'healed' })).status;
        if (status !== 503) break;
      }
      expect(status).toBe(201);
      expect((await ask(d.http, { path: '/store/full/after' })).body.toString()).toBe('healed');
    } finally {
      d.child.kill('SIGTERM');
      await d.exited;
    }
  });
});
