// One client connection: read buffering without per-chunk concatenation, protocol choice by
// the first byte, one socket write per batch of replies, and backpressure (stop reading
// while the client is not reading its replies).
import type { Socket } from 'node:net';
import { Output } from '../protocol/output.js';
import { CLOSE, type Session, type SessionContext } from '../protocol/types.js';
import { TextSession } from '../protocol/text/session.js';
import type { ServerCore } from './server-core.js';

const MIN_READ_BUFFER = 16 * 1024;

export type SessionFactory = (ctx: SessionContext) => Session;

export class Connection implements SessionContext {
  readonly id: number;
  readonly socket: Socket;
  readonly core: ServerCore;
  readonly out = new Output();
  closeAfterWrite = false;
  lastCommandAt: number;
  #session: Session | null = null;
  /** Unconsumed bytes carried between reads, at rbuf[0, rlen). */
  #rbuf: Buffer | null = null;
  #rlen = 0;
  #closed = false;
  #paused = false;

  constructor(id: number, socket: Socket, core: ServerCore) {
    this.id = id;
    this.socket = socket;
    this.core = core;
    this.lastCommandAt = core.cache.clock.now();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => this.#onDrain());
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.destroy());
    if (core.config.idleTimeout > 0) {
      socket.setTimeout(core.config.idleTimeout * 1000, () => {
        core.idleKicks++;
        this.destroy();
      });
    }
  }

  get cache() {
    return this.core.cache;
  }
  get config() {
    return this.core.config;
  }
  get server() {
    return this.core.info;
  }

  get address(): string {
    const s = this.socket;
    return s.remoteAddress ? `${s.remoteFamily === 'IPv6' ? `[${s.remoteAddress}]` : s.remoteAddress}:${s.remotePort}` : 'unix';
  }

  get state(): string {
    return this.#paused ? 'conn_mwrite' : 'conn_waiting';
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    this.core.bytesRead += chunk.length;
    let buf: Buffer;
    if (this.#rlen === 0) {
      buf = chunk;
    } else {
      this.#reserve(this.#rlen + chunk.length);
      chunk.copy(this.#rbuf!, this.#rlen);
      this.#rlen += chunk.length;
      buf = this.#rbuf!.subarray(0, this.#rlen);
    }
    let consumed: number;
    try {
      const session = this.#session ?? this.#chooseSession(buf[0]!);
      consumed = session.consume(buf, 0);
    } catch (err) {
      // a fault in one connection closes that connection only
      this.core.log.warn(`connection ${this.id}: internal error, closing: ${(err as Error).stack ?? String(err)}`);
      this.destroy();
      return;
    }
    if (consumed === CLOSE) {
      this.#flush();
      this.#closed = true;
      this.socket.end();
      this.core.forget(this);
      return;
    }
    const left = buf.length - consumed;
    if (left === 0) {
      this.#rlen = 0;
    } else if (buf === chunk) {
      this.#rlen = 0;
      this.#reserve(Math.max(left, this.#session?.wantBytes ?? 0));
      chunk.copy(this.#rbuf!, 0, consumed);
      this.#rlen = left;
    } else {
      this.#rbuf!.copyWithin(0, consumed, this.#rlen);
      this.#rlen = left;
      this.#reserve(Math.max(left, this.#session?.wantBytes ?? 0));
    }
    if (this.#rlen === 0 && this.#rbuf !== null && this.#rbuf.length > 4 * MIN_READ_BUFFER) this.#rbuf = null;
    this.#flush();
  }

  #chooseSession(first: number): Session {
    const mode = this.core.config.bindingProtocol;
    const binary = mode === 'binary' || (mode === 'auto' && first === 0x80);
    const session = binary ? this.core.binarySession(this) : new TextSession(this);
    this.#session = session;
    return session;
  }

  /** Make rbuf hold at least n bytes, keeping rbuf[0, rlen). */
  #reserve(n: number): void {
    const cur = this.#rbuf;
    if (cur !== null && cur.length >= n) return;
    const next = Buffer.allocUnsafe(Math.max(n, MIN_READ_BUFFER, cur ? cur.length * 2 : 0));
    if (cur !== null && this.#rlen > 0) cur.copy(next, 0, 0, this.#rlen);
    this.#rbuf = next;
  }

  #flush(): void {
    const b = this.out.take();
    if (b === null) return;
    this.core.bytesWritten += b.length;
    if (!this.socket.write(b) && !this.#paused) {
      // the client is not keeping up: stop reading until its replies drain
      this.#paused = true;
      this.socket.pause();
      if (this.socket.writableLength > this.core.config.outputBufferLimit) this.destroy();
    }
  }

  #onDrain(): void {
    if (!this.#paused || this.#closed) return;
    this.#paused = false;
    this.socket.resume();
  }

  destroy(): void {
    if (this.#closed) {
      this.core.forget(this);
      return;
    }
    this.#closed = true;
    this.socket.destroy();
    this.core.forget(this);
  }
}
