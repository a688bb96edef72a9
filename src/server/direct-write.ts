// Writing a plain socket's replies straight to its libuv handle. socket.write() takes a reply
// through Node's Writable machinery: length accounting, a new WriteWrap object per write and
// an after-write callback deferred through process.nextTick: about 6% of the daemon's busy
// time in a CPU profile of bench workload a (50 request/reply clients), 0.5% after this
// change. Almost every reply is taken by the kernel at once, so a DirectWriter calls the
// handle's writeBuffer() itself, with one request object it reuses for as long as writes
// complete synchronously. A write the kernel cannot take whole is queued by libuv as usual
// and completes through the request's oncomplete.
//
// Node keeps the WriteWrap class, and the flag that says whether libuv kept the last write's
// request, in an internal binding that process.binding() still exposes (Node 20 and 24).
// When those, or the handle's writeBuffer, are missing (another Node), DirectWriter.for()
// returns null and the connection writes through socket.write() as before.
import type { Socket } from 'node:net';

/** The request object libuv's write completion reports to. */
interface WriteReq {
  handle: unknown;
  oncomplete: ((this: WriteReq, status: number) => void) | null;
  /** Keeps the bytes alive while libuv holds a pointer into them. */
  buffer: Uint8Array | null;
  writer: DirectWriter | null;
}
type WriteReqClass = new () => WriteReq;

interface StreamHandle {
  writeBuffer(req: WriteReq, data: Uint8Array): number;
  readonly writeQueueSize: number;
}

interface StreamBinding {
  WriteWrap?: unknown;
  /** Node's record of the last write: [kLastWriteWasAsync] is 1 when libuv kept the request. */
  streamBaseState?: unknown;
  kLastWriteWasAsync?: unknown;
}

function findBinding(): { WriteWrap: WriteReqClass; state: Int32Array; asyncSlot: number } | null {
  try {
    const b = (process as unknown as { binding(name: string): StreamBinding }).binding('stream_wrap');
    if (typeof b.WriteWrap !== 'function' || !(b.streamBaseState instanceof Int32Array) || typeof b.kLastWriteWasAsync !== 'number') return null;
    return { WriteWrap: b.WriteWrap as WriteReqClass, state: b.streamBaseState, asyncSlot: b.kLastWriteWasAsync };
  } catch {
    return null;
  }
}

const binding = findBinding();

function onComplete(this: WriteReq, status: number): void {
  const w = this.writer;
  this.buffer = null;
  this.writer = null;
  if (w !== null) w.completed(status);
}

/** What write() did with the bytes. */
export const Wrote = { All: 0, Queued: 1 } as const;

export class DirectWriter {
  readonly #handle: StreamHandle;
  readonly #onWritten: (status: number) => void;
  /** The request object for the next write; replaced once libuv has kept one. */
  #req: WriteReq;
  /** A queued write has not completed yet. */
  #inFlight = false;

  private constructor(handle: StreamHandle, onWritten: (status: number) => void) {
    this.#handle = handle;
    this.#onWritten = onWritten;
    this.#req = DirectWriter.#newReq(handle);
  }

  static #newReq(handle: StreamHandle): WriteReq {
    const req = new binding!.WriteWrap();
    req.handle = handle;
    req.oncomplete = onComplete;
    req.buffer = null;
    req.writer = null;
    return req;
  }

  /**
   * A writer for a connected plain TCP or unix socket, or null when one cannot be made.
   * `onWritten` runs with libuv's status (negative on failure) when a queued write ends.
   */
  static for(socket: Socket, onWritten: (status: number) => void): DirectWriter | null {
    if (binding === null) return null;
    const handle = (socket as unknown as { _handle?: Partial<StreamHandle> | null })._handle;
    if (handle === null || handle === undefined || typeof handle.writeBuffer !== 'function' || typeof handle.writeQueueSize !== 'number') {
      return null;
    }
    return new DirectWriter(handle as StreamHandle, onWritten);
  }

  /** A queued write is still in progress (write() must not be called meanwhile). */
  get busy(): boolean {
    return this.#inFlight;
  }

  /** Bytes libuv holds that the kernel has not taken yet. */
  get queuedBytes(): number {
    return this.#handle.writeQueueSize;
  }

  /**
   * Write `data`. Returns Wrote.All when the kernel took every byte, Wrote.Queued when libuv
   * holds the rest (onWritten runs once that is written, or has failed), or a negative libuv
   * error code.
   */
  write(data: Uint8Array): number {
    const req = this.#req;
    const err = this.#handle.writeBuffer(req, data);
    if (err !== 0) return err < 0 ? err : -1;
    if (binding!.state[binding!.asyncSlot] === 0) return Wrote.All;
    // libuv kept `req` for the queued rest: the next write needs a request object of its own
    req.buffer = data;
    req.writer = this;
    this.#inFlight = true;
    this.#req = DirectWriter.#newReq(this.#handle);
    return Wrote.Queued;
  }

  /** The queued write ended (called by the request's oncomplete). */
  completed(status: number): void {
    this.#inFlight = false;
    this.#onWritten(status);
  }
}
