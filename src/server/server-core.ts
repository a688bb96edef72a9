// The listening sockets and the set of live connections, with the server-level counters that
// `stats` reports (connections, bytes read/written) and the connection limit (-c).
import net from 'node:net';
import fs from 'node:fs';
import type { CacheApi, DurabilityGate } from '../cache/api.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import type { ConnInfo, Protocol, ServerInfo, SessionContext } from '../protocol/types.js';
import { HeldReplies } from './output-budget.js';
import { Connection, type ConnectionHost } from './connection.js';
import { acceptIntoSharedBuffer } from './shared-read.js';
import { isUnspecifiedAddress } from './unspecified-address.js';
import { EventLog } from '../logging/event-log.js';
import { CloseReason } from '../logging/event-lines.js';
import { trace } from '../logging/trace.js';
import type { WatchSink } from '../logging/watcher.js';
import { connectionOpened, peerOf } from './conn-events.js';
import { ConnectionSink } from './watch-sink.js';

const TOO_MANY = Buffer.from('ERROR Too many open connections\r\n', 'latin1');

export interface ServerHooks {
  shutdown(graceful: boolean): void;
  extraStats(): Array<[string, string]>;
  settingsStats(): Array<[string, string]>;
  /**
   * The protocols to serve (at least one), in the order their claims on a connection's first
   * byte are tried; the first listed takes connections none claims (protocol/registry.ts).
   */
  protocols: readonly Protocol[];
  /** Start an LRU crawl now (`lru_crawler crawl`). */
  crawl?: (classes: number[]) => void;
  /** Hold replies to changes until they are durable (the journal with fsync always). */
  durability?: DurabilityGate | null;
  /** The events `watch` clients receive (the daemon shares it with the cache's evictions). */
  events?: EventLog;
}

/** The startup warning for listening on every interface with no authentication, or null. */
export function openListenWarning(cfg: Config): string | null {
  if (cfg.unixSocket !== null || cfg.port === 0 || cfg.authFile !== null) return null;
  const open = cfg.listen.filter(isUnspecifiedAddress);
  if (open.length === 0) return null;
  return `WARNING: listening on all interfaces (${open.join(',')}) without authentication: anyone who can reach this port can read and change the cache; bind with -l 127.0.0.1, firewall it, or use -Y / -S`;
}

export class ServerCore implements ConnectionHost {
  readonly cache: CacheApi;
  readonly config: Config;
  readonly log: Logger;
  readonly hooks: ServerHooks;
  readonly protocols: readonly Protocol[];
  readonly durability: DurabilityGate | null;
  readonly info: ServerInfo;
  readonly startedAt: number;
  bytesRead = 0;
  bytesWritten = 0;
  totalConnections = 0;
  rejectedConnections = 0;
  idleKicks = 0;
  /** Connections dropped because their pending replies passed Config.outputBufferLimit. */
  outputCapKicks = 0;
  connYields = 0;
  accepting = true;
  readonly connections = new Set<Connection>();
  readonly events: EventLog;
  /** Connections that turned into `watch` streams, with the sink their events go to. */
  readonly #watchers = new Map<Connection, WatchSink>();
  /** Why the connection being closed right now closes, when the server closes it. */
  #closing: CloseReason | null = null;
  readonly heldReplies: HeldReplies;
  /** Connections closed or turned away since start; only ever grows (no `stats reset`). */
  closedConnections = 0;
  readonly #servers: net.Server[] = [];
  /** Open connections of fronts with listeners of their own (HTTP): -c limits them and these together. */
  #otherConnections = 0;
  #nextId = 0;
  /** src/server/tls.ts, imported by listen() only with -Z (node:tls is not loaded otherwise). */
  #tls: typeof import('./tls.js') | null = null;
  #idleTimer: NodeJS.Timeout | null = null;

  constructor(cache: CacheApi, config: Config, log: Logger, hooks: ServerHooks) {
    this.cache = cache;
    this.config = config;
    this.log = log;
    this.hooks = hooks;
    if (hooks.protocols.length === 0) throw new Error('ServerCore: no protocol to serve');
    this.protocols = hooks.protocols;
    this.durability = hooks.durability ?? null;
    this.events = hooks.events ?? new EventLog();
    this.startedAt = cache.startedAt;
    this.heldReplies = new HeldReplies();
    this.info = this.#makeInfo();
  }

  /** Bind every configured listener; returns the TCP port bound (or null when TCP is off). */
  async listen(): Promise<number | null> {
    const cfg = this.config;
    await this.#loadTls();
    if (cfg.unixSocket !== null) {
      const path = cfg.unixSocket;
      if (fs.existsSync(path)) fs.unlinkSync(path);
      // memcached -a: the socket's access bits. As memcached does, the umask is set around
      // the bind (which server.listen() does before it returns), so the file never exists
      // with wider bits; chmod after covers a worker thread, which may not change the umask.
      const mode = cfg.unixMask & 0o777;
      const previous = setUmask(~mode & 0o777);
      let bound: Promise<net.Server>;
      try {
        bound = this.#bind({ path }, this.protocols);
      } finally {
        if (previous !== null) process.umask(previous);
      }
      await bound;
      fs.chmodSync(path, mode);
      return null;
    }
    if (cfg.port === 0) return null;
    let port = cfg.port === -1 ? 0 : cfg.port;
    const warning = openListenWarning(cfg);
    if (warning !== null) this.log.warn(warning);
    return this.#listenTcp(port, this.protocols);
  }

  /**
   * Bind one more TCP port on the -l addresses, whose connections speak only `protocols`
   * (a front of its own, such as --json-port); -1 picks a free port. Returns the port bound.
   */
  async listenExtra(port: number, protocols: readonly Protocol[]): Promise<number> {
    if (protocols.length === 0) throw new Error('ServerCore: no protocol to serve');
    await this.#loadTls();
    return this.#listenTcp(port === -1 ? 0 : port, protocols);
  }

  async #loadTls(): Promise<void> {
    if (this.config.tls && this.#tls === null) this.#tls = await import('./tls.js');
  }

  async #listenTcp(port: number, protocols: readonly Protocol[]): Promise<number> {
    for (const host of this.config.listen) {
      const server = await this.#bind({ host, port }, protocols);
      const addr = server.address();
      if (addr !== null && typeof addr === 'object') port = addr.port;
    }
    return port;
  }

  /** Start the idle sweep (memcached's conn_timeout thread) when -o idle_timeout is set. */
  #startIdleSweep(): void {
    if (this.config.idleTimeout <= 0 || this.#idleTimer !== null) return;
    this.#idleTimer = setInterval(() => this.sweepIdle(), 1000);
    this.#idleTimer.unref();
  }

  /**
   * Close connections with no progress for more than idle_timeout seconds. Progress is a
   * command or the client reading a batch of replies, so a client that trickles one byte at
   * a time, or one that never reads what it asked for, is closed too.
   */
  sweepIdle(): void {
    const limit = this.config.idleTimeout;
    if (limit <= 0) return;
    const now = this.cache.clock.now();
    for (const c of [...this.connections]) {
      // a watcher sends no commands (memcached's conn_watch is not swept either)
      if (this.#watchers.has(c)) continue;
      if (now - Math.max(c.lastCommandAt, c.lastProgressAt) > limit) {
        this.idleKicks++;
        this.#closeFor(CloseReason.IdleTimeout, c);
      }
    }
  }

  #bind(options: net.ListenOptions, protocols: readonly Protocol[]): Promise<net.Server> {
    this.#startIdleSweep();
    return new Promise((resolve, reject) => {
      const onSocket = (socket: net.Socket): void => this.#accept(socket, protocols);
      const server = this.#tls !== null
        ? this.#tls.createTlsServer(this.config, onSocket, (err) => this.log.debug(`TLS handshake failed: ${err.message}`))
        : net.createServer({ noDelay: true, pauseOnConnect: false }, onSocket);
      server.once('error', reject);
      server.listen({ ...options, backlog: this.config.backlog }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log.warn(`listener error: ${err.message}`));
        if (!this.config.tls && !acceptIntoSharedBuffer(server, true)) this.log.debug('reading sockets through data events');
        this.#servers.push(server);
        resolve(server);
      });
    });
  }

  #accept(socket: net.Socket, protocols: readonly Protocol[]): void {
    if (!this.accepting) {
      socket.destroy();
      return;
    }
    this.totalConnections++;
    if (this.connections.size + this.#otherConnections >= this.config.maxConnections) {
      this.rejectedConnections++;
      this.closedConnections++;
      socket.on('error', () => {});
      socket.end(protocols[0]!.tooManyConnections ?? TOO_MANY);
      return;
    }
    const conn = new Connection(++this.#nextId, socket, this, protocols);
    this.connections.add(conn);
    if (this.config.verbosity > 1 || this.events.flags !== 0) connectionOpened(this, conn, protocols);
  }

  /**
   * -c is the process's limit, as memcached's maxconns: a front with a listener of its own
   * asks here for each new connection; true means it is counted until `releaseConnection`.
   */
  admitConnection(): boolean {
    if (this.connections.size + this.#otherConnections >= this.config.maxConnections) return false;
    this.#otherConnections++;
    return true;
  }

  releaseConnection(): void {
    this.#otherConnections--;
  }

  forget(conn: Connection): void {
    if (!this.connections.delete(conn)) return;
    this.closedConnections++;
    const sink = this.#watchers.get(conn);
    if (sink !== undefined) {
      this.#watchers.delete(conn);
      this.events.removeWatcher(sink);
      // memcached's logger thread closes its watchers
      if (this.config.verbosity > 1) trace(`<${conn.id} connection closing from side thread.`);
    }
    if (this.events.flags !== 0) this.events.connClose(peerOf(conn.socket), this.#closeReason(conn), conn.id);
    if (this.config.verbosity > 1) trace(`<${conn.id} connection closed.`);
  }

  /** memcached's close reasons: idle and shutdown as the server says, normal for quit or EOF. */
  #closeReason(conn: Connection): CloseReason {
    if (this.#closing !== null) return this.#closing;
    if (!this.accepting) return CloseReason.Shutdown;
    return conn.closeAfterWrite || conn.socket.readableEnded ? CloseReason.Normal : CloseReason.Error;
  }

  #closeFor(reason: CloseReason, conn: Connection): void {
    this.#closing = reason;
    try {
      conn.destroy();
    } finally {
      this.#closing = null;
    }
  }

  /** `watch`: the connection's events go out beside its (no longer read) requests. */
  #watch(ctx: SessionContext, flags: number): 'ok' | 'too_many' | 'failed' {
    // only a connection of this server can stream (an in-process test context cannot)
    if (!(ctx instanceof Connection) || ctx.closed) return 'failed';
    const sink = new ConnectionSink(ctx, (bytes) => (this.bytesWritten += bytes));
    if (!this.events.addWatcher(sink, flags)) return 'too_many';
    this.#watchers.set(ctx, sink);
    return 'ok';
  }

  /** Stop accepting new connections. */
  async closeListeners(): Promise<void> {
    this.accepting = false;
    if (this.#idleTimer !== null) clearInterval(this.#idleTimer);
    this.#idleTimer = null;
    await Promise.all(this.#servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.#servers.length = 0;
  }

  /**
   * Graceful stop of every connection: read nothing new, answer the requests already read,
   * flush, close. Connections still open after `timeoutMs` (clients that do not read) are
   * closed at once.
   */
  async drainConnections(timeoutMs: number): Promise<void> {
    for (const c of [...this.connections]) c.beginShutdown();
    const deadline = Date.now() + timeoutMs;
    while (this.connections.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    this.destroyConnections();
  }

  /** Close every client connection now. */
  destroyConnections(): void {
    for (const c of [...this.connections]) c.destroy();
  }

  #makeInfo(): ServerInfo {
    const core = this;
    return {
      pid: process.pid,
      get startedAt() {
        return core.startedAt;
      },
      get currConnections() {
        return core.connections.size;
      },
      get totalConnections() {
        return core.totalConnections;
      },
      get rejectedConnections() {
        return core.rejectedConnections;
      },
      get connectionStructures() {
        return core.connections.size + core.#servers.length;
      },
      get bytesRead() {
        return core.bytesRead;
      },
      get bytesWritten() {
        return core.bytesWritten;
      },
      listenDisabledNum: 0,
      get connYields() {
        return core.connYields;
      },
      get idleKicks() {
        return core.idleKicks;
      },
      get acceptingConns() {
        return core.accepting;
      },
      connections(): ConnInfo[] {
        const now = core.cache.clock.now();
        return [...core.connections].map((c) => ({
          id: c.id,
          address: c.address,
          state: core.#watchers.has(c) ? 'conn_watch' : c.state,
          secondsSinceLastCommand: Math.max(0, now - c.lastCommandAt),
        }));
      },
      shutdown: (graceful) => core.hooks.shutdown(graceful),
      extraStats: () => core.hooks.extraStats(),
      settingsStats: () => core.hooks.settingsStats(),
      crawl: (classes) => core.hooks.crawl?.(classes),
      events: core.events,
      watch: (ctx, flags) => core.#watch(ctx, flags),
      resetStats() {
        core.totalConnections = 0;
        core.rejectedConnections = 0;
        core.bytesRead = 0;
        core.bytesWritten = 0;
      },
    };
  }
}

/** Set the process umask; returns the previous one, or null where it cannot be set (a worker). */
function setUmask(mask: number): number | null {
  try {
    return process.umask(mask);
  } catch {
    return null;
  }
}
