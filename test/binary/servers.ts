// Test helpers: real memcached and memcached-ts as child processes on ephemeral ports (the
// shared test/support/ launchers), and binary request/response over the shared socket client.
import type { Socket } from 'node:net';
import { startDaemonProcess } from '../support/daemon-process.js';
import { RawConnection } from '../support/raw-client.js';
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

/** A binary connection over the shared socket client: send bytes, then collect packets up to a Noop marker or close. */
export class RawConn {
  readonly #conn: RawConnection;

  private constructor(conn: RawConnection) {
    this.#conn = conn;
  }

  static async connect(port: number): Promise<RawConn> {
    return new RawConn(await RawConnection.open(port));
  }

  get socket(): Socket {
    return this.#conn.socket;
  }

  get closed(): boolean {
    return this.#conn.closed;
  }

  write(b: Buffer): void {
    this.#conn.write(b);
  }

  /** Send the bytes and a Noop; resolve with every packet before the Noop's reply, and whether the server closed. */
  exchange(b: Buffer): Promise<{ packets: Packet[]; closed: boolean }> {
    this.write(Buffer.concat([b, NOOP_SYNC]));
    return this.#conn.read<{ packets: Packet[]; closed: boolean }>((buf, closed) => {
      const { packets, used } = parsePackets(buf);
      const i = packets.findIndex((p) => p.opcode === 0x0a && p.opaque === SYNC_OPAQUE);
      if (i >= 0) {
        let consumed = 0;
        for (let k = 0; k <= i; k++) consumed += 24 + packets[k]!.bodyLen;
        return { value: { packets: packets.slice(0, i), closed: false }, used: consumed };
      }
      return closed ? { value: { packets, closed: true }, used } : null;
    }, 5000);
  }

  close(): void {
    this.#conn.close();
  }
}
