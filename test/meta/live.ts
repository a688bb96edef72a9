// Real server processes for the meta differential test: memcached 1.6.18 and our daemon, each
// on an ephemeral port reported through MEMCACHED_PORT_FILENAME, and a client that sends a
// script and reads up to a sentinel reply. Processes are started by the shared test/support/ launchers.
import net from 'node:net';
import { startDaemonProcess } from '../support/daemon-process.js';
import type { RunningServer } from '../support/port-file-server.js';
import { startReferenceServer } from '../support/reference-server.js';

export interface Server {
  readonly name: string;
  readonly port: number;
  stop(): Promise<void>;
}

const asServer = (name: string, r: RunningServer): Server => ({
  name,
  port: r.port,
  stop: async () => {
    await r.stop();
  },
});

export async function startMemcached(): Promise<Server> {
  return asServer('memcached', await startReferenceServer());
}

/** Our daemon as a real process (the checkout test/support/daemon-process.ts points at). */
export async function startOurs(_root: string): Promise<Server> {
  return asServer('memcached-ts', await startDaemonProcess());
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
