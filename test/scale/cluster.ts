// Several memcached-ts daemons on loopback, each with its own snapshot and journal, for the
// tests of running more than one: start one on a chosen port (a restart must come back on the
// same port, since proxies and clients hash by address), ask one for its keys, kill one.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startDaemonProcess } from '../support/daemon-process.js';
import type { RunningServer } from '../support/port-file-server.js';
import { request } from '../support/raw-client.js';

/** A free TCP port on 127.0.0.1 (bound and released: for programs that need a port number up front). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Poll `check` until it returns a value other than undefined; throws `what` after `ms`. */
export async function waitFor<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown = undefined;
  for (;;) {
    try {
      const got = await check();
      if (got !== undefined) return got;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One text command (or a pipelined batch) on a fresh connection, read up to `done`. */
export function textCall(port: number, payload: string, done: (reply: string) => boolean): Promise<string> {
  return request(port, payload, done);
}

/** `get` of every key in one request; key -> value of the ones present. */
export async function getMany(port: number, keys: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const CHUNK = 100;
  for (let i = 0; i < keys.length; i += CHUNK) {
    const reply = await textCall(port, `get ${keys.slice(i, i + CHUNK).join(' ')}\r\n`, (r) => /(^|\r\n)(END|SERVER_ERROR[^\r]*|ERROR)\r\n$/.test(r));
    if (!reply.endsWith('END\r\n')) throw new Error(`get failed: ${reply.slice(-200)}`);
    for (const m of reply.matchAll(/VALUE (\S+) \d+ \d+\r\n([^\r]*)\r\n/g)) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** Pipelined `set`s of every entry in one request; the reply line of each, in order. */
export async function setMany(port: number, entries: ReadonlyArray<readonly [string, string]>): Promise<string[]> {
  const payload = entries.map(([k, v]) => `set ${k} 0 0 ${Buffer.byteLength(v)}\r\n${v}\r\n`).join('');
  const reply = await textCall(port, payload, (r) => r.split('\r\n').length - 1 >= entries.length);
  return reply.split('\r\n').slice(0, entries.length);
}

/** One daemon's `stats` as name -> value. */
export async function stats(port: number): Promise<Map<string, string>> {
  const reply = await textCall(port, 'stats\r\n', (r) => r.endsWith('END\r\n'));
  return new Map(Array.from(reply.matchAll(/^STAT (\S+) (.*)\r$/gm), (m) => [m[1]!, m[2]!]));
}

export async function currItems(port: number): Promise<number> {
  return Number((await stats(port)).get('curr_items'));
}

export interface Persistence {
  /** A journal with --journal-fsync=always next to the snapshot (default true). */
  journal?: boolean;
  /** --snapshot-interval in seconds (default 0: a snapshot at shutdown only). */
  snapshotIntervalS?: number;
}

/** A daemon with its own snapshot file (and journal, fsync always), restartable on its port. */
export class Daemon {
  #proc: RunningServer | null = null;
  #port = -1;

  constructor(readonly dir: string, readonly name: string, readonly persistence: Persistence = {}) {
    fs.mkdirSync(dir, { recursive: true });
  }

  get snapshotFile(): string {
    return path.join(this.dir, `${this.name}.snapshot`);
  }

  get port(): number {
    if (this.#port < 0) throw new Error(`${this.name} was never started`);
    return this.#port;
  }

  get running(): boolean {
    return this.#proc !== null;
  }

  get pid(): number {
    if (this.#proc === null) throw new Error(`${this.name} is not running`);
    return this.#proc.pid;
  }

  /** Start it: on a free port the first time, on its previous port after that. */
  async start(): Promise<void> {
    if (this.#proc !== null) throw new Error(`${this.name} is already running`);
    const { journal = true, snapshotIntervalS = 0 } = this.persistence;
    const args = ['--snapshot-file', this.snapshotFile, '--snapshot-interval', String(snapshotIntervalS), '-m', '64'];
    if (journal) args.push('--journal-file', path.join(this.dir, `${this.name}.journal`), '--journal-fsync=always');
    // startDaemonProcess passes `-p -1`; a later -p wins, so a restart keeps its address
    this.#proc = await startDaemonProcess(this.#port < 0 ? args : [...args, '-p', String(this.#port)]);
    this.#port = this.#proc.port;
  }

  /** kill -9: no snapshot at exit; what the last snapshot and the journal hold survives. */
  async kill9(): Promise<void> {
    const p = this.#proc;
    if (p === null) return;
    this.#proc = null;
    process.kill(p.pid, 'SIGKILL');
    await p.exited;
  }

  async stop(): Promise<void> {
    const p = this.#proc;
    this.#proc = null;
    await p?.stop();
  }
}
