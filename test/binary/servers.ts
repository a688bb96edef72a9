// Test helpers: real memcached and memcached-ts as child processes on ephemeral ports, and a
// raw socket client that sends request bytes and collects response packets.
import net from 'node:net';
import { startDaemonProcess } from '../support/daemon-process.js';
import { startReferenceServer } from '../support/reference-server.js';
import { parsePackets, request, type Packet } from './wire.js';

export interface Target {
  name: 'memcached' | 'memcached-ts';
  port: number;
  stop(): Promise<void>;
}

/** memcached or memcached-ts as a real process, through the shared test/support/ launchers. */
export async function startTarget(name: Target['name'], args: string[] = []): Promise<Target> {
  const r = name === 'memcached' ? await startReferenceServer(args) : await startDaemonProcess(args);
  return {
    name,
    port: r.port,
    async stop() {
      await r.stop();
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
