// The JSON-lines front of the real daemon process: the port file's JSON INET line, both
// forms next to the memcached port, and transactions with --journal-fsync always across a
// clean restart and kill -9 at random moments (a committed transaction is all there or all
// absent, and every acknowledged COMMIT is there).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client, tempDir } from '../snapshot/helpers.js';
import { REPO_ROOT } from '../support/daemon-process.js';
import { JsonlClient, OK, Ok, oneShot } from './client.js';

interface Proc {
  child: ChildProcess;
  port: number;
  json: number;
  exited: Promise<unknown>;
}

async function startProc(args: string[], dir: string): Promise<Proc> {
  const portFile = path.join(dir, `ports-${Math.random().toString(36).slice(2)}`);
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/memcached-ts.js'), '-p', '-1', '--json-port', '-1', '-l', '127.0.0.1', ...args], {
    env: { ...process.env, MEMCACHED_PORT_FILENAME: portFile },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise((r) => child.on('exit', r));
  const deadline = Date.now() + 15000;
  while (!fs.existsSync(portFile)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`daemon did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const text = fs.readFileSync(portFile, 'utf8');
  return { child, exited, port: Number(/^TCP INET: (\d+)$/m.exec(text)![1]), json: Number(/^JSON INET: (\d+)$/m.exec(text)![1]) };
}

describe('JSON-lines front of the daemon process', () => {
  it('writes JSON INET to the port file and shares keys with the memcached port', async () => {
    const p = await startProc([], tempDir());
    try {
      expect(p.json).toBeGreaterThan(0);
      expect(p.json).not.toBe(p.port);
      expect(await oneShot(p.json, { command: 'SET', args: { key: 'foo', value: 'bar' } })).toEqual(OK());
      const t = await Client.connect(p.port);
      expect(await t.call('get foo\r\n')).toBe('VALUE foo 0 3\r\nbar\r\nEND\r\n');
      t.close();
      expect(await oneShot(p.json, 'GET foo')).toEqual(Ok('bar'));
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });

  it('keeps committed transactions whole across a restart and kill -9 with --journal-fsync always', async () => {
    const dir = tempDir();
    const args = ['--journal-file', path.join(dir, 'journal'), '--journal-fsync', 'always', '--snapshot-file', path.join(dir, 'snap'), '--snapshot-interval', '1'];
    const acked = new Set<number>();
    const CLIENTS = 4;
    const KEYS = 6;
    let next = 0;
    for (let round = 0; round < 5; round++) {
      const p = await startProc(args, dir);
      // every committed transaction t wrote tx<t>-<i> = t for i < KEYS, and moved `last`
      let stop = false;
      const workers = [...Array(CLIENTS).keys()].map(async () => {
        const c = await JsonlClient.connect(p.json);
        c.closed.then(() => (stop = true), () => {});
        while (!stop) {
          const t = next++;
          const body = [...Array(KEYS).keys()].map((i) => `PUT tx${t}-${i} ${t}\n`).join('');
          const r = await Promise.race([c.sendRaw(`START\n${body}START\nINCR total\nCOMMIT\nCOMMIT\n`, KEYS + 5), c.closed.then(() => null)]);
          if (r === null) break;
          if (r[KEYS + 4]!.status === 'Ok') acked.add(t);
        }
      });
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 300));
      if (round === 4) p.child.kill('SIGTERM');
      else p.child.kill('SIGKILL');
      await p.exited;
      stop = true;
      await Promise.all(workers);
    }
    const p = await startProc(args, dir);
    try {
      const c = await JsonlClient.connect(p.json);
      let whole = 0;
      for (let t = 0; t < next; t++) {
        const r = await c.sendRaw([...Array(KEYS).keys()].map((i) => `GET tx${t}-${i}\n`).join(''), KEYS);
        const present = r.filter((x) => x.result === String(t)).length;
        expect([0, KEYS], `transaction ${t}`).toContain(present);
        if (acked.has(t)) expect(present, `acknowledged transaction ${t}`).toBe(KEYS);
        if (present === KEYS) whole++;
      }
      expect(acked.size).toBeGreaterThan(10);
      // INCR total ran once in every transaction that landed
      expect(await c.send('GET total')).toEqual(Ok(String(whole)));
      c.close();
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  }, 60_000);
});
