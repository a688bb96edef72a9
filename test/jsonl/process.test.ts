// The JSON-lines front of the real daemon process: the port file's JSON INET line, both
// forms next to the memcached port, and transactions with --journal-fsync always across a
// clean restart and kill -9 at random moments and the moment a COMMIT is acknowledged (a
// committed transaction of megabytes is all there or all absent, and every acknowledged
// COMMIT is there).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client, tempDir } from '../snapshot/helpers.js';
import { REPO_ROOT } from '../support/daemon-process.js';
import { JsonlClient, OK, Ok, oneShot } from './client.js';
import { RUN_AS } from '../support/run-as.js';

interface Proc {
  child: ChildProcess;
  port: number;
  json: number;
  exited: Promise<unknown>;
}

async function startProc(args: string[], dir: string): Promise<Proc> {
  const portFile = path.join(dir, `ports-${Math.random().toString(36).slice(2)}`);
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/memcached-ts.js'), ...RUN_AS, '-p', '-1', '--json-port', '-1', '-l', '127.0.0.1', ...args], {
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
    // each client w runs transactions t = 1, 2, ... one after the other, each writing
    // c<w>-<i> = "<t>:" padded to VALUE bytes for every i < KEYS (megabytes per COMMIT, so
    // its journal write is long enough for a kill to land in it) and INCR n<w> (= t)
    const CLIENTS = 4;
    const KEYS = 8;
    const VALUE = 300 * 1000;
    const ROUNDS = 16;
    const acked = Array<number>(CLIENTS).fill(0);
    const sent = Array<number>(CLIENTS).fill(0);
    const value = (t: number) => `${t}:`.padEnd(VALUE, String.fromCharCode(97 + (t % 26)));
    let commits = 0;
    let killedOnAck = 0;
    /** What the daemon holds for each client: the t of its last transaction that landed. */
    const check = async (port: number, when: string): Promise<number[]> => {
      const c = await JsonlClient.connect(port);
      const found: number[] = [];
      for (let w = 0; w < CLIENTS; w++) {
        const r = await c.sendRaw(`GET n${w}\n${[...Array(KEYS).keys()].map((i) => `GET c${w}-${i}\n`).join('')}`, KEYS + 1);
        const n = r[0]!.result === null ? 0 : Number(r[0]!.result);
        // all of transaction n is there and nothing of a later one: the keys hold its value whole
        const values = r.slice(1).map((x) => (x.result === null ? 'absent' : x.result === value(n) ? n : `torn ${String(x.result).slice(0, 12)}`));
        expect(values, `${when}: client ${w}'s keys (n${w} = ${n})`).toEqual(Array(KEYS).fill(n === 0 ? 'absent' : n));
        // every acknowledged COMMIT is there; nothing that was never sent is
        expect(n, `${when}: client ${w}, acknowledged ${acked[w]}, sent ${sent[w]}`).toBeGreaterThanOrEqual(acked[w]!);
        expect(n).toBeLessThanOrEqual(sent[w]!);
        found.push(n);
      }
      c.close();
      return found;
    };
    let state = Array<number>(CLIENTS).fill(0);
    for (let round = 0; round < ROUNDS; round++) {
      const p = await startProc(args, dir);
      if (round > 0) state = await check(p.json, `after kill ${round}`);
      let stop = false;
      let armed = false;
      const kill = () => {
        if (stop) return;
        stop = true;
        p.child.kill(round === ROUNDS - 1 ? 'SIGTERM' : 'SIGKILL');
      };
      const workers = state.map(async (last, w) => {
        const c = await JsonlClient.connect(p.json);
        c.closed.then(() => (stop = true), () => {});
        for (let t = last + 1; !stop; t++) {
          const body = [...Array(KEYS).keys()].map((i) => `PUT c${w}-${i} ${value(t)}\n`).join('');
          sent[w] = t;
          const r = await Promise.race([c.sendRaw(`START\n${body}START\nINCR n${w}\nCOMMIT\nCOMMIT\n`, KEYS + 5), c.closed.then(() => null)]);
          if (r === null) break;
          expect(r[KEYS + 4], `client ${w} transaction ${t}`).toEqual(Ok());
          acked[w] = t;
          commits++;
          // kill the moment a reply says COMMIT: it must already be on disk
          if (armed) {
            killedOnAck++;
            kill();
          }
        }
      });
      // kill at a random moment, or as the first COMMIT after a random moment is acknowledged
      const wait = 50 + Math.random() * 250;
      await new Promise((r) => setTimeout(r, wait));
      if (round % 2 === 0) kill();
      else {
        armed = true;
        setTimeout(kill, 2000);
      }
      await p.exited;
      stop = true;
      await Promise.all(workers);
    }
    const p = await startProc(args, dir);
    try {
      await check(p.json, 'after the clean restart');
      expect(commits).toBeGreaterThan(ROUNDS);
      expect(killedOnAck).toBeGreaterThan(0);
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  }, 120_000);
});
