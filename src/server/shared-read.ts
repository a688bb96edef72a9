// Reading every plain (non-TLS) client socket into one shared buffer. A net.Socket made with
// `onread` hands each read to a callback as bytes in a buffer we own, instead of allocating a
// Buffer per read and pushing it through the Readable stream machinery ('data' events). On
// this 2-core host that saved 3-6 µs of server CPU per request/reply round trip, a quarter of
// what a plain Node echo server spends (bench/RESULTS.md). Node accepts sockets in
// net.Server's private onconnection callback and offers no `onread` option there, so the
// listener's handle gets an accept callback that builds the socket as Node's own does, with
// `onread` added. If that callback does not look as expected (another Node version), the
// listener keeps Node's and connections read through 'data' events as before.
//
// The contract that makes one buffer enough: a sink consumes or copies its bytes before it
// returns (ReadBuffer copies any partial request), and libuv delivers one read at a time.
import net from 'node:net';
import util from 'node:util';
import { registerView } from '../cache/bytes.js';

/** Bytes of one read; libuv reads at most this much per call, as its default allocation does. */
const SHARED_BYTES = 64 * 1024;
const shared = Buffer.allocUnsafe(SHARED_BYTES);
/**
 * One Buffer object per read length up to this many bytes, made once: reads of a request
 * size seen before allocate nothing, and the cache reads them all through one DataView
 * (src/cache/bytes.ts registerView) instead of making one per read.
 */
const REUSED_UP_TO = 4096;
const views: Array<Buffer | undefined> = new Array<Buffer | undefined>(REUSED_UP_TO + 1);
/** One DataView serves all of them: they start where `shared` starts. */
const sharedView = new DataView(shared.buffer, shared.byteOffset, shared.byteLength);

function bytesOfRead(nread: number): Buffer {
  if (nread > REUSED_UP_TO) return shared.subarray(0, nread);
  let b = views[nread];
  if (b === undefined) {
    b = shared.subarray(0, nread);
    views[nread] = b;
    registerView(b, sharedView);
  }
  return b;
}

/** Where a socket's bytes go: set by the connection that owns it. */
export const byteSink = Symbol('memcached-ts.byteSink');

export interface SinkSocket extends net.Socket {
  [byteSink]?: (chunk: Buffer) => void;
}

/** True when bytes of this socket arrive through its sink rather than 'data' events. */
export function readsIntoSink(socket: net.Socket): socket is SinkSocket {
  return byteSink in socket;
}

interface ListenHandle {
  onconnection?: (err: number, clientHandle: unknown) => void;
}
interface ServerInternals {
  _handle?: ListenHandle | null;
  _connections?: number;
}

/**
 * Give a listening net.Server an accept callback that creates its sockets with the shared
 * read buffer. Returns false (and changes nothing) when Node's internals are not as expected.
 */
export function acceptIntoSharedBuffer(server: net.Server, noDelay: boolean): boolean {
  const internals = server as unknown as ServerInternals;
  const handle = internals._handle;
  if (handle === null || handle === undefined || typeof handle.onconnection !== 'function' || typeof internals._connections !== 'number') {
    return false;
  }
  handle.onconnection = (err: number, clientHandle: unknown): void => {
    if (err) {
      server.emit('error', new Error(`accept: ${util.getSystemErrorName(err)}`));
      return;
    }
    const socket = new net.Socket({
      handle: clientHandle,
      allowHalfOpen: false,
      readable: true,
      writable: true,
      onread: {
        buffer: shared,
        callback: (nread: number) => {
          const sink = (socket as SinkSocket)[byteSink];
          if (sink !== undefined) sink(bytesOfRead(nread));
          return true;
        },
      },
    } as net.SocketConstructorOpts);
    (socket as SinkSocket)[byteSink] = undefined;
    if (noDelay) socket.setNoDelay(true);
    // what Node's own accept does, so server.close() waits for these sockets as for its own
    internals._connections!++;
    const linked = socket as unknown as { server: net.Server; _server: net.Server };
    linked.server = server;
    linked._server = server;
    server.emit('connection', socket);
  };
  return true;
}
