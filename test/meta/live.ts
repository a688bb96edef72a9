// Real server processes for the meta differential test: memcached 1.6.18 and our daemon, each
// on an ephemeral port reported through MEMCACHED_PORT_FILENAME, and a client that sends a
// script and reads up to a sentinel reply. (A shared harness is coming in test/support/.)
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MEMCACHED = ['/usr/bin/memcached', '/usr/local/bin/memcached'].find((p) => existsSync(p)) ?? null;

export interface Server {
  readonly name: string;
  readonly port: number;
  stop(): Promise<void>;
}

async function waitForPortFile(file: string, child: ChildProcess, name: string): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    if (existsSync(file)) {
      const m = /TCP INET: (\d+)/.exec(readFileSync(file, 'latin1'));
      if (m) return Number(m[1]);
    }
    await new Promise((r) => setTimeout(r, 20)); // polling for start-up, not a TTL wait
  }
  throw new Error(`${name} did not report its port`);
}

async function start(name: string, cmd: string, args: string[]): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'meta-diff-'));
  const file = join(dir, 'port');
  const child = spawn(cmd, args, { env: { ...process.env, MEMCACHED_PORT_FILENAME: file }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let port: number;
  try {
    port = await waitForPortFile(file, child, name);
  } catch (e) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}: ${stderr}`);
  }
  return {
    name,
    port,
    stop: async () => {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const BASE = ['-U', '0', '-l', '127.0.0.1', '-p', '-1'];

export function startMemcached(): Promise<Server> {
  // memcached refuses to run as root unless told which user to stay
  const asRoot = process.getuid?.() === 0 ? ['-u', 'root'] : [];
  return start('memcached', MEMCACHED!, [...BASE, ...asRoot]);
}

export function startOurs(root: string): Promise<Server> {
  return start('memcached-ts', process.execPath, [join(root, 'bin/memcached-ts.js'), ...BASE]);
}

/** A connection that sends a chunk of requests and collects the replies up to a sentinel. */
export class Conn {
  readonly #sock: net.Socket;
  #got = Buffer.alloc(0);
  #wake: (() => void) | null = null;
  #seq = 0;

  private constructor(sock: net.Socket) {
    this.#sock = sock;
    sock.on('data', (d: Buffer) => {
      this.#got = Buffer.concat([this.#got, d]);
      this.#wake?.();
    });
    sock.on('close', () => this.#wake?.());
  }

  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }

  /**
   * Send `input`, then a miss with a unique opaque; return everything before that miss's
   * EN line. A sentinel after the input keeps quiet pipelines and their `mn` unambiguous.
   */
  async send(input: Buffer): Promise<Buffer> {
    const tag = `O${++this.#seq}x${Date.now() % 100000}`;
    const sentinel = Buffer.from(`EN k__sentinel__ ${tag}\r\n`, 'latin1');
    this.#sock.write(Buffer.concat([input, Buffer.from(`mg __sentinel__ k ${tag}\r\n`, 'latin1')]));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const at = this.#got.indexOf(sentinel);
      if (at >= 0) {
        const reply = this.#got.subarray(0, at);
        this.#got = this.#got.subarray(at + sentinel.length);
        return reply;
      }
      if (this.#sock.destroyed || Date.now() > deadline) throw new Error(`no sentinel; got ${JSON.stringify(this.#got.toString('latin1').slice(-300))}`);
      await new Promise<void>((r) => {
        this.#wake = r;
        setTimeout(r, 200);
      });
    }
  }

  close(): void {
    this.#sock.destroy();
  }
}
