// The HTTP listener (HTTPS with -Z): binds --http-port on the -l addresses, counts its
// connections against -c (one limit with the memcached port's), closes connections idle past -o idle_timeout, and hands every
// request to the handler the protocol layer built (src/protocol/http/router.ts).
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import type { HttpCounters } from '../protocol/http/context.js';
import type { HttpHandler } from '../protocol/http/router.js';
import { tlsContextOptions } from './tls.js';

/** Where the process's connection limit (-c) is kept: ServerCore, shared with the memcached port. */
export interface ConnectionLimit {
  /** True (and the connection counted) if one more connection fits under -c. */
  admitConnection(): boolean;
  releaseConnection(): void;
}

/**
 * A connection closed after an answer (Connection: close) is half-closed, and destroyed once the
 * client closes too, or after this long (nginx's lingering_time): destroying it at once, with an
 * upload still arriving, makes the kernel send a reset that erases the answer from the client's
 * buffers if it has not read it yet (RFC 9112 section 9.6), and many clients read the answer
 * only after sending the whole body. Meanwhile node's parser reads the rest of the body and
 * throws it away.
 */
const LINGER_MS = 30_000;

const TOO_MANY = 'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 26\r\n\r\nToo many open connections\n';

export class HttpServer {
  readonly #handler: HttpHandler;
  readonly #config: Config;
  readonly #log: Logger;
  readonly #counters: HttpCounters;
  readonly #limit: ConnectionLimit;
  readonly #servers: http.Server[] = [];
  readonly #sockets = new Set<net.Socket>();
  /** Per connection: the requests parsed behind the one being handled (pipelining). */
  readonly #waiting = new WeakMap<net.Socket, Array<[http.IncomingMessage, http.ServerResponse]>>();

  constructor(handler: HttpHandler, config: Config, log: Logger, counters: HttpCounters, limit: ConnectionLimit) {
    this.#handler = handler;
    this.#limit = limit;
    this.#config = config;
    this.#log = log;
    this.#counters = counters;
  }

  /** Bind on every -l address; returns the port (the one picked when --http-port is -1). */
  async listen(): Promise<number> {
    let port = this.#config.httpPort === -1 ? 0 : this.#config.httpPort;
    for (const host of this.#config.listen) {
      const server = this.#create();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port, backlog: this.#config.backlog }, () => {
          server.off('error', reject);
          server.on('error', (err) => this.#log.warn(`http listener error: ${err.message}`));
          resolve();
        });
      });
      this.#servers.push(server);
      const addr = server.address();
      if (addr !== null && typeof addr === 'object') port = addr.port;
    }
    return port;
  }

  #create(): http.Server {
    const cfg = this.#config;
    const options: http.ServerOptions = {
      // a big upload over a slow link may take long; stalls are the idle timeout's business
      requestTimeout: 0,
      // an idle keep-alive connection closes at -o idle_timeout (node's default of 5 s without it)
      ...(cfg.idleTimeout > 0 ? { keepAliveTimeout: cfg.idleTimeout * 1000 } : {}),
      noDelay: true,
    };
    const dispatch = (req: http.IncomingMessage, res: http.ServerResponse): void => this.#dispatch(req, res);
    const server = cfg.tls ? https.createServer({ ...options, ...tlsContextOptions(cfg) }, dispatch) : http.createServer(options, dispatch);
    // Expect: 100-continue goes to the handler, which sends 100 only when it will read the body
    server.on('checkContinue', dispatch);
    if (cfg.idleTimeout > 0) server.setTimeout(cfg.idleTimeout * 1000, (socket: net.Socket) => socket.destroy());
    server.on('connection', (socket: net.Socket) => this.#accept(socket));
    if (cfg.tls) server.on('tlsClientError', (err) => this.#log.debug(`HTTPS handshake failed: ${err.message}`));
    return server;
  }

  /**
   * node parses pipelined requests before the body of the one ahead has been delivered, so
   * one connection's requests are handled one at a time, each after the previous answer is
   * sent: a GET behind a PUT sees the PUT's blob. Requests waiting are paused by node once
   * their buffers fill, so this holds no unbounded input.
   */
  #dispatch(req: http.IncomingMessage, res: http.ServerResponse): void {
    const socket = req.socket;
    const queue = this.#waiting.get(socket);
    if (queue !== undefined) {
      queue.push([req, res]);
      return;
    }
    this.#waiting.set(socket, []);
    this.#run(socket, req, res);
  }

  #run(socket: net.Socket, req: http.IncomingMessage, res: http.ServerResponse): void {
    let done = false;
    const next = (): void => {
      if (done) return;
      done = true;
      const queue = this.#waiting.get(socket);
      const following = queue?.shift();
      if (following === undefined) {
        this.#waiting.delete(socket);
        return;
      }
      this.#run(socket, following[0], following[1]);
    };
    res.once('finish', next);
    res.once('close', next);
    this.#handler(req, res);
  }

  #accept(socket: net.Socket): void {
    const c = this.#counters;
    c.totalConnections++;
    if (!this.#limit.admitConnection()) {
      c.rejectedConnections++;
      socket.on('error', () => {});
      if (this.#config.tls) socket.destroy();
      else socket.end(TOO_MANY);
      return;
    }
    c.currConnections++;
    this.#sockets.add(socket);
    // node calls destroySoon when a response that closes the connection is finished
    socket.destroySoon = () => lingeringClose(socket);
    socket.once('close', () => {
      this.#limit.releaseConnection();
      c.currConnections--;
      this.#sockets.delete(socket);
    });
  }

  /** Stop accepting; let requests in flight finish for up to `timeoutMs`, then close the rest. */
  async close(timeoutMs: number): Promise<void> {
    const closed = Promise.all(this.#servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    for (const s of this.#servers) s.closeIdleConnections();
    const timer = setTimeout(() => {
      for (const s of this.#servers) s.closeAllConnections();
      for (const socket of this.#sockets) socket.destroy();
    }, timeoutMs);
    timer.unref();
    await closed;
    clearTimeout(timer);
    this.#servers.length = 0;
  }
}

/** Half-close `socket` now (after the answer); destroy it once the client has closed its side too, or after LINGER_MS. */
function lingeringClose(socket: net.Socket): void {
  if (socket.destroyed) return;
  if (socket.readableEnded) {
    // the client has closed its side already (a cut-off upload): nothing to linger for
    socket.end(() => socket.destroy());
    return;
  }
  socket.end();
  const done = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(done, LINGER_MS);
  timer.unref();
  socket.once('end', done);
  socket.once('close', done);
}
