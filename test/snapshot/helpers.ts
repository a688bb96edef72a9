// Shared by the snapshot tests: caches on a ManualClock, temp dirs, a tiny text-protocol
// client, and a real daemon process on an ephemeral port.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/cache/clock.js';
import { Cache } from '../../src/cache/cache.js';
import { storeValue } from '../support/cache-ops.js';
import { NONE } from '../../src/cache/item.js';
import type { Logger } from '../../src/log.js';
import { cacheOptions } from '../helpers/fakes.js';
import { RawConnection } from '../support/raw-client.js';

export const MB = 1024 * 1024;

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mcts-snap-'));
}

export function newCache(clock: ManualClock, memoryMb = 64, extra: Partial<ConstructorParameters<typeof Cache>[0]> = {}): Cache {
  return new Cache(cacheOptions({ memoryLimit: memoryMb * MB, ...extra }), clock);
}

export function set(cache: Cache, key: string, value: string | Buffer, flags = 0, exptime = 0): void {
  const k = Buffer.from(key);
  const v = typeof value === 'string' ? Buffer.from(value) : value;
  storeValue(cache, k, v, { flags, exptime });
}

export interface Snap {
  value: Buffer;
  flags: number;
  cas: number;
  exptime: number;
  time: number;
}

/** Look an item up without touching it (no LRU bump, no stats). */
export function peek(cache: Cache, key: string): Snap | null {
  const k = Buffer.from(key);
  const id = cache.table.find(k, 0, k.length, hashOf(cache, k));
  if (id === NONE) return null;
  const value = Buffer.alloc(cache.itemValueLength(id));
  cache.copyValue(id, value, 0);
  return { value, flags: cache.itemFlags(id), cas: cache.itemCas(id), exptime: cache.itemExptime(id), time: cache.itemTime(id) };
}

import { hashKey } from '../../src/cache/hash.js';
import { RUN_AS } from '../support/run-as.js';
function hashOf(_cache: Cache, k: Buffer): number {
  return hashKey(k, 0, k.length);
}

/** Every live key of the cache, in no particular order. */
export function allKeys(cache: Cache): string[] {
  const keys: string[] = [];
  for (let cls = 0; cls < cache.slabs.geometry.sizes.length; cls++) {
    for (const id of cache.itemsOfClass(cls)) {
      const b = Buffer.alloc(cache.itemKeyLength(id));
      cache.copyKey(id, b, 0);
      keys.push(b.toString());
    }
  }
  return keys;
}

export function captureLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (m) => void lines.push(m), info: () => {}, debug: () => {} };
}

// ---- a text-protocol client (over the shared socket client) ------------------------------------

const REPLY_ENDS = ['END\r\n', 'STORED\r\n', 'NOT_STORED\r\n', 'ERROR\r\n', 'DELETED\r\n', 'NOT_FOUND\r\n', 'EXISTS\r\n'];

export class Client {
  private constructor(readonly conn: RawConnection) {}

  static async connect(port: number): Promise<Client> {
    return new Client(await RawConnection.open(port));
  }

  /** Send `cmd` and read until the reply ends with one of the terminators. */
  call(cmd: string | Buffer, ends: string[] = REPLY_ENDS): Promise<string> {
    this.conn.write(cmd);
    return this.conn.readUntil(ends, Infinity);
  }

  /** Send `cmd` and read until `line` has come back `count` times. */
  async callMany(cmd: string, line: string, count: number): Promise<void> {
    this.conn.write(cmd);
    await this.conn.read((b) => {
      const s = b.toString('latin1');
      const seen = s.split(line).length - 1;
      if (seen > count || (seen === count && !s.endsWith(line))) throw new Error(`unexpected reply: ${s.slice(0, 200)}`);
      return seen === count ? { value: undefined, used: b.length } : null;
    }, Infinity);
  }

  close(): void {
    this.conn.close();
  }
}

/** Parse a `gets` reply into key -> {flags, cas, value}. */
export function parseGets(reply: string): Map<string, { flags: number; cas: number; value: string }> {
  const out = new Map<string, { flags: number; cas: number; value: string }>();
  let at = 0;
  for (;;) {
    const eol = reply.indexOf('\r\n', at);
    if (eol < 0) break;
    const line = reply.slice(at, eol);
    if (line === 'END') break;
    const [word, key, flags, bytes, cas] = line.split(' ');
    const n = Number(bytes);
    if (word !== 'VALUE' || !Number.isInteger(n)) throw new Error(`not a gets reply: ${line.slice(0, 80)}`);
    out.set(key!, { flags: Number(flags), cas: Number(cas), value: reply.slice(eol + 2, eol + 2 + n) });
    at = eol + 2 + n + 2;
  }
  return out;
}

// ---- a daemon process -------------------------------------------------------------------------

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface Proc {
  child: ChildProcess;
  port: number;
  /** The port file as the daemon wrote it (TCP INET, HTTP INET, JSON INET lines). */
  ports: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Run `[...wrap, node, bin/memcached-ts.js, -p -1, ...args]` (wrap: e.g. an `unshare` command line). */
export async function startProcess(args: string[], dir: string, wrap: string[] = []): Promise<Proc> {
  const portFile = path.join(dir, `port-${Math.random().toString(36).slice(2)}`);
  const command = [...wrap, process.execPath, path.join(ROOT, 'bin/memcached-ts.js'), ...RUN_AS, '-p', '-1', ...args];
  const child = spawn(command[0]!, command.slice(1), {
    env: { ...process.env, MEMCACHED_PORT_FILENAME: portFile },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const deadline = Date.now() + 15000;
  while (!fs.existsSync(portFile)) {
    if (child.exitCode !== null) throw new Error(`daemon exited early: ${err}`);
    if (Date.now() > deadline) throw new Error(`daemon did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const ports = fs.readFileSync(portFile, 'utf8');
  const port = Number(/TCP INET: (\d+)/.exec(ports)?.[1]);
  return { child, port, ports, stderr: () => err, exited };
}
