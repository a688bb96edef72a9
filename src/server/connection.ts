// One client connection: read buffering without per-chunk concatenation, protocol choice by
// the first byte, one socket write per batch of replies, and backpressure (stop reading
// while the client is not reading its replies).
import type { Socket } from 'node:net';
import { Output } from '../protocol/output.js';
import { CLOSE, type Session, type SessionContext } from '../protocol/types.js';
import { TextSession } from '../protocol/text/session.js';
import { ReadBuffer } from './read-buffer.js';
import type { ServerCore } from './server-core.js';

export type SessionFactory = (ctx: SessionContext) => Session;

export class Connection implements SessionContext {
  readonly id: number;
  readonly socket: Socket;
  readonly core: ServerCore;
  readonly out = new Output();
  closeAfterWrite = false;
  lastCommandAt: number;
  #session: Session | null = null;
  readonly #input = new ReadBuffer();
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
    let result: number;
    try {
      result = this.#input.feed(
        chunk,
        (buf) => (this.#session ?? this.#chooseSession(buf[0]!)).consume(buf, 0),
        () => this.#session?.wantBytes ?? 0,
      );
    } catch (err) {
      // a fault in one connection closes that connection only
      this.core.log.warn(`connection ${this.id}: internal error, closing: ${(err as Error).stack ?? String(err)}`);
      this.destroy();
      return;
    }
    if (result === CLOSE) {
      this.#flush();
      this.#closed = true;
      this.socket.end();
      this.core.forget(this);
      return;
    }
    this.#flush();
  }

  #chooseSession(first: number): Session {
    const mode = this.core.config.bindingProtocol;
    const binary = mode === 'binary' || (mode === 'auto' && first === 0x80);
    const session = binary ? this.core.binarySession(this) : new TextSession(this);
    this.#session = session;
    return session;
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
