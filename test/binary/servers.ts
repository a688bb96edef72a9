// Test helpers: real memcached and memcached-ts as child processes on ephemeral ports, and a
// raw socket client that sends request bytes and collects response packets.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePackets, request, type Packet } from './wire.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Target {
  name: 'memcached' | 'memcached-ts';
  port: number;
  stop(): Promise<void>;
}

/** Whether real memcached is installed; under CI its absence is a failure, not a skip. */
export function memcachedAvailable(): boolean {
  const ok = spawnSync('memcached', ['-V'], { encoding: 'utf8' }).status === 0;
  if (!ok) {
    if (process.env.CI === 'true') throw new Error('memcached is not installed, and CI=true: the differential tests must run');
    console.warn('\n*** memcached not installed: SKIPPING the tests against real memcached ***\n');
  }
  return ok;
}

let built = false;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Build dist/ when it is older than src/ (npm test builds first, so usually nothing to do;
 * skipping then also keeps parallel test files from rebuilding under each other).
 */
export function buildOnce(): void {
  if (built) return;
  const marker = path.join(ROOT, 'dist/src/protocol/binary/index.js');
  if (fs.existsSync(marker) && fs.statSync(marker).mtimeMs >= newestMtime(path.join(ROOT, 'src'))) {
    built = true;
    return;
  }
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json')], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`tsc failed:\n${r.stdout}${r.stderr}`);
  built = true;
}

export async function startTarget(name: Target['name'], args: string[] = [], env: Record<string, string> = {}): Promise<Target> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcbin-'));
  const portFile = path.join(dir, 'port');
  const base = ['-U', '0', '-l', '127.0.0.1', '-p', '-1', ...args];
  let child: ChildProcess;
  if (name === 'memcached') {
    // memcached refuses to run as root without -u
    const asRoot = process.getuid?.() === 0 ? ['-u', 'root'] : [];
    child = spawn('memcached', [...base, ...asRoot], { env: { ...process.env, ...env, MEMCACHED_PORT_FILENAME: portFile }, stdio: 'ignore' });
  } else {
    buildOnce();
    child = spawn(process.execPath, [path.join(ROOT, 'bin/memcached-ts.js'), ...base], {
      env: { ...process.env, ...env, MEMCACHED_PORT_FILENAME: portFile },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 10_000;
  let port = 0;
  while (port === 0) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`${name} did not write ${portFile}`);
    try {
      const m = /TCP INET: (\d+)/.exec(fs.readFileSync(portFile, 'utf8'));
      if (m) port = Number(m[1]);
    } catch {
      // not written yet
    }
    if (port === 0) await new Promise((r) => setTimeout(r, 20));
  }
  return {
    name,
    port,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const SYNC_OPAQUE = 0x5ee5c0de;
const NOOP_SYNC = request({ opcode: 0x0a, opaque: SYNC_OPAQUE });

/** A raw binary connection: send bytes, then collect packets up to a Noop marker or close. */
export class RawConn {
  readonly socket: net.Socket;
  #buf = Buffer.alloc(0);
  #closed = false;
  #waiters: Array<() => void> = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on('error', () => {});
  }

  static connect(port: number): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawConn(s)));
      s.once('error', reject);
    });
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  #wait(): Promise<void> {
    return new Promise((r) => this.#waiters.push(r));
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(b: Buffer): void {
    if (!this.#closed) this.socket.write(b);
  }

  /** Send the bytes and a Noop; resolve with every packet before the Noop's reply, and whether the server closed. */
  async exchange(b: Buffer): Promise<{ packets: Packet[]; closed: boolean }> {
    this.write(Buffer.concat([b, NOOP_SYNC]));
    const deadline = Date.now() + 5000;
    for (;;) {
      const { packets, used } = parsePackets(this.#buf);
      const i = packets.findIndex((p) => p.opcode === 0x0a && p.opaque === SYNC_OPAQUE);
      if (i >= 0) {
        let consumed = 0;
        for (let k = 0; k <= i; k++) consumed += 24 + packets[k]!.bodyLen;
        this.#buf = this.#buf.subarray(consumed);
        return { packets: packets.slice(0, i), closed: false };
      }
      if (this.#closed) {
        this.#buf = this.#buf.subarray(used);
        return { packets, closed: true };
      }
      if (Date.now() > deadline) throw new Error('no reply within 5s');
      await Promise.race([this.#wait(), new Promise((r) => setTimeout(r, 200))]);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
