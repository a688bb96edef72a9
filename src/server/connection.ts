// One client connection: read buffering without per-chunk concatenation, protocol choice by
// the first byte (among the protocols the daemon handed the server), one socket write per batch of replies, and flow control in both
// directions. A session stops taking requests once OUTPUT_HIGH_WATER bytes of replies are
// pending; the connection then stops reading, writes the batch, and goes on with the
// requests already read when the socket drains. So a client that pipelines requests and
// never reads its replies holds at most one batch plus one reply, not the whole pipeline.
import type { Socket } from 'node:net';
import { Output, releaseLargeBuffers } from '../protocol/output.js';
import { chooseProtocol, CLOSE, MULTIGET_LINE_LIMIT, type Protocol, type ServerInfo, type Session, type SessionContext } from '../protocol/types.js';
import { DirectWriter, Wrote } from './direct-write.js';
import type { HeldReplies } from './output-budget.js';
import { ReadBuffer } from './read-buffer.js';
import { byteSink, readsIntoSink } from './shared-read.js';
import type { CacheApi, DurabilityGate } from '../cache/api.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import { trace } from '../logging/trace.js';

/**
 * What a connection needs of the server that accepted it (server-core.ts's ServerCore
 * implements it): the shared settings, the server-level counters it adds to, and the way
 * out of the connection set. Declared here so connection.ts does not import server-core.ts.
 */
export interface ConnectionHost {
  readonly cache: CacheApi;
  readonly config: Config;
  readonly log: Logger;
  readonly info: ServerInfo;
  bytesRead: number;
  bytesWritten: number;
  connYields: number;
  /** Connections dropped because their pending replies passed Config.outputBufferLimit. */
  outputCapKicks: number;
  /** The protocols served, in the order their claims on a first byte are tried. */
  readonly protocols: readonly Protocol[];
  /** With --journal-fsync always: replies to changes wait until the changes are on disk. */
  readonly durability: DurabilityGate | null;
  /** The connection has closed: drop it from the connection set. */
  forget(conn: Connection): void;
  /** Copied reply bytes the kernel has not taken, across all connections (output-budget.ts). */
  readonly heldReplies: HeldReplies;
}

/** Room in the read buffer beyond the largest item: the request's line or header. */
const REQUEST_HEAD_ROOM = 128 * 1024;

/** How long a closing connection may take to hand over its last replies. */
const LINGER_MS = 10_000;

export class Connection implements SessionContext {
  readonly id: number;
  readonly socket: Socket;
  readonly core: ConnectionHost;
  readonly out = new Output();
  closeAfterWrite = false;
  lastCommandAt: number;
  requestBudget = 0;
  /** Last time the client made progress: a command, or reading a batch of replies. */
  lastProgressAt: number;
  #session: Session | null = null;
  readonly #input: ReadBuffer;
  #closed = false;
  /** Waiting for 'drain' before writing more. */
  #blocked = false;
  /** Whole requests are held in #input, set aside while a batch of replies drains. */
  #backlog = false;
  #resumeQueued = false;
  /** The daemon is stopping: take no new bytes, finish what is held, then close. */
  #stopping = false;
  #reading = true;
  /** Bytes were appended to #input since the session last looked at it. */
  #unparsed = false;
  /** Replies are held until the journal has the changes they report on disk. */
  #syncing = false;
  /** Writes replies straight to the socket's handle (plain sockets), or null: socket.write(). */
  readonly #writer: DirectWriter | null;
  /** The protocols of the listener that accepted this connection. */
  readonly #protocols: readonly Protocol[];

  constructor(id: number, socket: Socket, core: ConnectionHost, protocols: readonly Protocol[] = core.protocols) {
    this.id = id;
    this.socket = socket;
    this.core = core;
    this.#protocols = protocols;
    this.lastCommandAt = core.cache.clock.now();
    this.lastProgressAt = this.lastCommandAt;
    this.#input = new ReadBuffer(Connection.inputLimit(core.config.itemSizeMax));
    socket.setNoDelay(true);
    if (readsIntoSink(socket)) {
      socket[byteSink] = (chunk: Buffer) => this.#onData(chunk);
      this.#writer = DirectWriter.for(socket, (status) => this.#onDirectWritten(status));
    } else {
      socket.on('data', (chunk: Buffer) => this.#onData(chunk));
      this.#writer = null;
    }
    socket.on('drain', () => this.#onDrain());
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.destroy());
  }

  /** The most a connection's read buffer may hold: one item plus its request line or header. */
  static inputLimit(itemSizeMax: number): number {
    return Math.max(itemSizeMax, MULTIGET_LINE_LIMIT) + REQUEST_HEAD_ROOM;
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

  /** memcached's connection state names, as `stats conns` shows them. */
  get state(): string {
    return this.#blocked ? 'conn_mwrite' : 'conn_waiting';
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Reply bytes held for this client (not yet taken by the kernel). */
  get pendingOutput(): number {
    // a write through socket.write() is in both Node's count and libuv's queue until it
    // completes, a direct write only in libuv's: the larger of the two, not their sum
    return this.out.pending + Math.max(this.socket.writableLength, this.#writer?.queuedBytes ?? 0);
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    this.core.bytesRead += chunk.length;
    if (this.#backlog || this.#blocked || this.#stopping || this.#syncing) {
      // bytes that were already on their way when reading stopped: keep them for later
      if (this.#input.append(chunk) === CLOSE) this.destroy();
      else this.#unparsed = true;
      return;
    }
    this.#process(chunk);
  }

  /** Run the session over the held input plus `chunk`, write the replies, decide what next. */
  #process(chunk: Buffer | null): void {
    this.#unparsed = false;
    this.requestBudget = this.core.config.reqsPerEvent;
    const gate = this.core.durability;
    const appendedBefore = gate === null ? 0 : gate.appended;
    let result: number;
    try {
      result = chunk === null ? this.#input.resume(this.#consume, this.#want) : this.#input.feed(chunk, this.#consume, this.#want);
    } catch (err) {
      // a fault in one connection closes that connection only
      this.core.log.warn(`connection ${this.id}: internal error, closing: ${(err as Error).stack ?? String(err)}`);
      this.destroy();
      return;
    }
    // the session stopped with input left because enough replies are pending or it handled
    // -R requests: the rest waits for the next turn
    this.#backlog = result !== CLOSE && (this.out.full || this.requestBudget <= 0) && this.#input.length > 0;
    if (gate !== null && gate.appended !== appendedBefore) {
      this.#afterDurable(gate, result);
      return;
    }
    this.#afterBatch(result);
  }

  // The callbacks below are made in methods of their own, off the per-read path: a method
  // that makes a closure over `this` or its locals allocates a context on every call, even
  // when the branch that makes the closure is not taken.

  /**
   * These replies report changes: they go out once the journal has them on disk (with every
   * other connection's changes of this turn, in one write and one fsync).
   */
  #afterDurable(gate: DurabilityGate, result: number): void {
    this.#syncing = true;
    this.#setReading(false);
    gate.whenDurable(gate.appended, (error) => {
      this.#syncing = false;
      if (this.#closed) return;
      if (error !== null) {
        // never acknowledge a change that is not on disk: the client sees the connection
        // close without its replies
        this.core.log.warn(`connection ${this.id}: closed without replies: ${error}`);
        this.destroy();
        return;
      }
      this.#afterBatch(result);
    });
  }

  /** Write the replies of a batch of requests, then decide what comes next. */
  #afterBatch(result: number): void {
    this.#flush();
    if (this.#closed) return;
    if (result === CLOSE) {
      this.#backlog = false;
      this.#end();
      return;
    }
    this.#next();
  }

  /** After a batch: resume reading, go on with held requests, or wait for the socket. */
  #next(): void {
    if (this.#closed) return;
    if (this.#blocked) {
      this.#setReading(false);
      return;
    }
    if (this.#backlog) {
      this.#setReading(false);
      if (!this.#resumeQueued) this.#queueResume();
      return;
    }
    if (this.#stopping) {
      this.#end();
      return;
    }
    // requests that arrived while the backlog was worked off
    if (this.#unparsed) {
      this.#process(null);
      return;
    }
    this.#setReading(true);
  }

  /** Let other connections run before this one's next batch (memcached's conn_yields). */
  #queueResume(): void {
    this.#resumeQueued = true;
    this.core.connYields++;
    setImmediate(() => {
      this.#resumeQueued = false;
      if (!this.#closed && !this.#blocked && this.#backlog) this.#process(null);
    });
  }

  /** Bytes of this connection's copied replies that the kernel has not taken (HeldReplies). */
  #charged = 0;

  #charge(bytes: number): void {
    this.#charged += bytes;
    this.core.heldReplies.charge(bytes);
  }

  #uncharge(): void {
    if (this.#charged === 0) return;
    this.core.heldReplies.release(this.#charged);
    this.#charged = 0;
  }

  #setReading(on: boolean): void {
    if (on === this.#reading) return;
    this.#reading = on;
    if (on) this.socket.resume();
    else this.socket.pause();
  }

  // made once per connection, not per read
  readonly #consume = (buf: Buffer): number => (this.#session ?? this.#chooseSession(buf[0]!)).consume(buf, 0);
  readonly #want = (): number => this.#session?.wantBytes ?? 0;

  #chooseSession(first: number): Session {
    const protocol = chooseProtocol(this.#protocols, first);
    if (this.core.config.verbosity > 1 && this.#protocols.length > 1) trace(`${this.id}: Client using the ${protocol.name} protocol`);
    const session = protocol.createSession(this);
    this.#session = session;
    return session;
  }

  #flush(): void {
    if (this.out.hasParts) {
      this.#flushParts();
      return;
    }
    const b = this.out.take();
    if (b === null) return;
    this.core.bytesWritten += b.length;
    const retired = this.out.takeRetired();
    const w = this.#writer;
    if (w !== null && !w.busy && this.socket.writableLength === 0) {
      this.#writeDirect(w, b, retired);
      return;
    }
    const flowing = retired === null ? this.socket.write(b) : writeThenRelease(this.socket, b, retired);
    if (this.socket.writableLength > this.core.config.outputBufferLimit) {
      // one reply larger than the cap, or a client that stopped reading: drop it
      this.core.outputCapKicks++;
      this.destroy();
      return;
    }
    if (!flowing) {
      this.#blocked = true;
      this.#charge(this.socket.writableLength);
    }
  }

  /**
   * A batch with values sent from their slab chunks (Output#pinValue): its pieces go to the
   * socket in order in one gathered write, and the items are unpinned when the socket has
   * taken the last piece, or when the connection is destroyed first (never later: a closed
   * connection's pins are released with it).
   */
  #flushParts(): void {
    const copied = this.out.pending;
    const parts = this.out.takeParts();
    const pins = this.out.takePins();
    const retired = this.out.takeRetired();
    let total = 0;
    for (const p of parts) total += p.length;
    this.core.bytesWritten += total;
    this.#pinnedWrites.add(pins);
    const done = (): void => {
      if (this.#pinnedWrites.delete(pins)) for (const id of pins) this.core.cache.unpin(id);
      if (retired !== null) releaseLargeBuffers(retired);
    };
    const socket = this.socket;
    socket.cork();
    for (let i = 0; i < parts.length - 1; i++) socket.write(parts[i]!);
    const flowing = socket.write(parts[parts.length - 1]!, done);
    socket.uncork();
    if (socket.writableLength > this.core.config.outputBufferLimit) {
      this.core.outputCapKicks++;
      this.destroy();
      return;
    }
    if (!flowing) {
      this.#blocked = true;
      // the values are item memory, not copies: only the copied bytes count as held
      this.#charge(Math.min(socket.writableLength, copied));
    }
  }

  /** The pins of gathered writes the socket has not finished, released at the latest by destroy(). */
  readonly #pinnedWrites = new Set<number[]>();

  #unpinAll(): void {
    const cache = this.core.cache;
    // replies not handed to the socket yet (waiting for the journal, or cut short by an error)
    if (this.out.hasParts) for (const id of this.out.takePins()) cache.unpin(id);
    if (this.#pinnedWrites.size === 0) return;
    for (const pins of this.#pinnedWrites) for (const id of pins) cache.unpin(id);
    this.#pinnedWrites.clear();
  }

  /**
   * The usual case: nothing is queued for the socket, so the reply goes to its handle at once.
   * When the kernel does not take it whole, the connection waits as for 'drain' until libuv
   * has written the rest (the slice stays untouched: Output never rewrites a taken slice).
   */
  #writeDirect(w: DirectWriter, b: Buffer, retired: Buffer[] | null): void {
    const r = w.write(b);
    if (r === Wrote.All) {
      this.out.written();
      if (retired !== null) releaseLargeBuffers(retired);
      return;
    }
    if (r < 0) {
      // the peer is gone (EPIPE, ECONNRESET): nothing more to say to it
      this.destroy();
      return;
    }
    this.#retiredInFlight = retired;
    if (w.queuedBytes > this.core.config.outputBufferLimit) {
      // one reply larger than the cap
      this.core.outputCapKicks++;
      this.destroy();
      return;
    }
    this.#blocked = true;
    // the whole slice stays in memory until the write completes
    this.#charge(b.length);
  }

  /** Pooled buffers the queued direct write still reads from. */
  #retiredInFlight: Buffer[] | null = null;

  /** A direct write libuv queued has ended. */
  #onDirectWritten(status: number): void {
    const retired = this.#retiredInFlight;
    this.#retiredInFlight = null;
    if (retired !== null) releaseLargeBuffers(retired);
    if (status < 0) {
      // also when closing already (#end): the last replies cannot reach the client
      this.socket.destroy();
      this.destroy();
    } else {
      this.#onDrain();
    }
  }

  #onDrain(): void {
    this.#uncharge();
    if (this.#closed) return;
    this.lastProgressAt = this.core.cache.clock.now();
    if (!this.#blocked || this.#syncing) return;
    this.#blocked = false;
    if (this.#backlog) this.#process(null);
    else this.#next();
  }

  /** Graceful stop: read nothing new, answer what is held, flush, close. */
  beginShutdown(): void {
    if (this.#closed || this.#stopping) return;
    this.#stopping = true;
    this.#setReading(false);
    if (!this.#blocked && !this.#backlog && !this.#resumeQueued && !this.#syncing) this.#end();
  }

  /** Close once the pending replies are written. */
  #end(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#input.clear();
    this.#session?.closed?.();
    this.core.forget(this);
    // a client that never reads its last replies is not waited for forever
    const linger = setTimeout(() => this.socket.destroy(), LINGER_MS);
    linger.unref();
    this.socket.end(() => {
      clearTimeout(linger);
      this.socket.destroy();
    });
  }

  destroy(): void {
    this.#uncharge();
    if (!this.#closed) {
      this.#closed = true;
      this.#input.clear();
      this.#session?.closed?.();
      this.socket.destroy();
    }
    // the socket sends nothing more: the values it was sending may change from now on
    this.#unpinAll();
    this.core.forget(this);
  }
}

/** socket.write(b), giving `retired` back to the pool once it is written (a closure kept off Connection#flush). */
function writeThenRelease(socket: Socket, b: Buffer, retired: Buffer[]): boolean {
  return socket.write(b, () => releaseLargeBuffers(retired));
}
