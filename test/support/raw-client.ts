// The one socket client of the test tree, for talking to a server (real memcached, the daemon
// process or an in-process ServerCore) over TCP on 127.0.0.1 or over a unix socket:
// - connect() and Collector: a plain socket whose received bytes are collected, for tests that
//   drive the socket themselves (pause it, write in pieces, watch for a close);
// - request(): one connection, one payload, the reply up to a predicate;
// - RawConnection: request/response on one connection. exchange() sends raw bytes (whole or
//   split into separate writes), then a `version` sentinel, and collects everything up to the
//   sentinel's `VERSION …` reply or a close; read()/readUntil()/readBytes()/readAll() read the
//   replies of whatever was written up to a match, a terminator, a byte count or the close.
import { connect as netConnect, type Socket } from 'node:net';

/** A TCP port on 127.0.0.1, or the path of a unix socket. */
export type Address = number | string;

/** Opens a socket to `to` and resolves once it is connected. */
export function connect(to: Address): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = typeof to === 'number' ? netConnect({ host: '127.0.0.1', port: to }) : netConnect(to);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Poll `cond` every 5 ms until it holds; throws after `ms`. For server state, not for TTLs. */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Collects everything a socket receives; `until` waits for a predicate or a close. */
export class Collector {
  chunks: Buffer[] = [];
  bytes = 0;
  closed = false;
  #waiters: Array<() => void> = [];
  constructor(readonly socket: Socket, keep = true) {
    socket.on('data', (d: Buffer) => {
      this.bytes += d.length;
      if (keep) this.chunks.push(d);
      this.#wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    socket.on('error', () => {});
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }
  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
  async until(pred: (c: Collector) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this)) {
      if (this.closed) throw new Error(`closed before the condition held; got ${this.text().slice(0, 200)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${this.bytes} bytes: ${this.text().slice(0, 200)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  async closedWithin(timeoutMs = 5000): Promise<boolean> {
    try {
      await this.until((c) => c.closed, timeoutMs);
    } catch {
      return this.closed;
    }
    return true;
  }
}

/** Opens a connection, writes `payload`, and returns the reply (latin1) once `done` holds for it. */
export async function request(to: Address, payload: string | Buffer, done: (text: string) => boolean): Promise<string> {
  const s = await connect(to);
  const c = new Collector(s);
  s.write(payload);
  await c.until((x) => done(x.text()));
  s.destroy();
  return c.text();
}

export interface RawReply {
  /** Every byte received, including the sentinel's VERSION line when it arrived. */
  readonly bytes: Buffer;
  /** True when the server closed the connection before the sentinel was answered. */
  readonly closed: boolean;
}

export interface SendOptions {
  /** Offsets at which to cut the payload into separate writes (sorted, deduplicated, 0 < o < length). */
  readonly splitAt?: readonly number[];
  /** Wait between writes: 0 means one event-loop turn (setImmediate), otherwise milliseconds. */
  readonly gapMs?: number;
  /** VERSION lines the payload itself provokes (its own `version` commands), before the sentinel's. */
  readonly ownVersionLines?: number;
  readonly timeoutMs?: number;
  /**
   * Wait before the sentinel, in milliseconds (default: gapMs, at least 5). Cases that expect a close
   * for a line without a newline need the server to read the payload before the sentinel's newline.
   */
  readonly sentinelDelayMs?: number;
}

export const SENTINEL = Buffer.from('version\r\n');
const VERSION_LINE_AT_END = /(?:^|\n)VERSION [^\r\n]*\r\n$/;
const VERSION_LINE = /^VERSION [^\r\n]*\r$/gm;

/** Every offset 1..length-1: one byte per write. */
export function everyByte(length: number): number[] {
  return Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1);
}

export function splitPayload(payload: Buffer, offsets: readonly number[] = []): Buffer[] {
  const cuts = [...new Set(offsets)].filter((o) => o > 0 && o < payload.length).sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let start = 0;
  for (const cut of cuts) {
    parts.push(payload.subarray(start, cut));
    start = cut;
  }
  parts.push(payload.subarray(start));
  return parts;
}

function pause(gapMs: number): Promise<void> {
  return new Promise((r) => (gapMs <= 0 ? setImmediate(r) : setTimeout(r, gapMs)));
}

/** Printable form of bytes for error messages and diffs: \r, \n and non-ASCII escaped. */
export function showBytes(bytes: Buffer, max = 4000): string {
  let out = '';
  for (const b of bytes.subarray(0, max)) {
    if (b === 0x0a) out += '\\n\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x5c) out += '\\\\';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return bytes.length > max ? `${out}… (${bytes.length - max} more bytes)` : out;
}

/**
 * One connection. Each `exchange()` writes a payload (cut at `splitAt`), then the `version` sentinel,
 * and resolves with the bytes received since the previous exchange once the sentinel is answered or
 * the server closes. Rejects after `timeoutMs`, so a test fails instead of hanging.
 */
export class RawConnection {
  readonly #socket: Socket;
  #chunks: Buffer[] = [];
  #tail = '';
  #closed = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#socket.setNoDelay(true);
    this.#socket.on('data', (data: Buffer) => {
      this.#chunks.push(data);
      // Only the last few hundred bytes can end in the sentinel reply: avoid rescanning megabytes.
      this.#tail = (this.#tail + data.toString('latin1')).slice(-512);
      this.#wake?.();
    });
    const onClosed = (): void => {
      this.#closed = true;
      this.#wake?.();
    };
    this.#socket.on('end', onClosed);
    this.#socket.on('close', onClosed);
    this.#socket.on('error', (err: NodeJS.ErrnoException) => {
      // A reset, or a write after the server hung up, is a close and not a test failure.
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') this.#error = err;
      onClosed();
    });
  }

  static async open(to: Address): Promise<RawConnection> {
    return new RawConnection(await connect(to));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The socket itself, for tests that need it (addresses, pause/resume). */
  get socket(): Socket {
    return this.#socket;
  }

  /** Writes bytes as they are (no sentinel); read the replies with read() and friends. */
  write(bytes: string | Buffer): void {
    if (!this.#closed) this.#socket.write(bytes);
  }

  /**
   * Waits until `match` finds what it wants in the bytes received and not yet read, and returns
   * its value; the first `used` bytes are then read. `match` sees `closed` once the server has
   * closed, and should then return what it has or throw; a close it returns null for fails.
   * Rejects after `timeoutMs` (Infinity: wait for as long as the test runs).
   */
  async read<T>(match: (received: Buffer, closed: boolean) => { value: T; used: number } | null, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const received = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
      const closed = this.#closed;
      const m = match(received, closed);
      if (m !== null) {
        const rest = received.subarray(m.used);
        this.#chunks = rest.length === 0 ? [] : [rest];
        this.#tail = '';
        return m.value;
      }
      if (this.#error) throw this.#error;
      if (closed) throw new Error(`the server closed the connection first; received:\n${showBytes(received)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms; received so far:\n${showBytes(received)}`);
      await new Promise<void>((resolve) => {
        const timer = Number.isFinite(left) ? setTimeout(() => resolve(), left) : undefined;
        this.#wake = () => {
          clearTimeout(timer);
          this.#wake = null;
          resolve();
        };
      });
    }
  }

  /** Reads until the unread bytes end with one of `ends`; returns them all (latin1). */
  readUntil(ends: string | readonly string[], timeoutMs = 10_000): Promise<string> {
    const list = typeof ends === 'string' ? [ends] : ends;
    return this.read((b) => {
      const s = b.toString('latin1');
      return list.some((e) => s.endsWith(e)) ? { value: s, used: b.length } : null;
    }, timeoutMs);
  }

  /** Reads exactly `n` bytes. */
  readBytes(n: number, timeoutMs = 10_000): Promise<Buffer> {
    return this.read((b) => (b.length >= n ? { value: Buffer.from(b.subarray(0, n)), used: n } : null), timeoutMs);
  }

  /** Reads everything until the server closes the connection. */
  readAll(timeoutMs = 10_000): Promise<Buffer> {
    return this.read((b, closed) => (closed ? { value: Buffer.from(b), used: b.length } : null), timeoutMs);
  }

  #sentinelSeen(wantVersions: number): boolean {
    if (!VERSION_LINE_AT_END.test(this.#tail)) return false;
    const seen = Buffer.concat(this.#chunks).toString('latin1').match(VERSION_LINE)?.length ?? 0;
    return seen >= wantVersions;
  }

  async exchange(payload: Buffer, opts: SendOptions = {}): Promise<RawReply> {
    const wantVersions = (opts.ownVersionLines ?? 0) + 1;
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const gapMs = opts.gapMs ?? 0;
    this.#chunks = [];
    this.#tail = '';
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        reject(
          new Error(
            `no sentinel reply and no close within ${timeoutMs} ms; received so far:\n` +
              showBytes(Buffer.concat(this.#chunks)),
          ),
        );
      }, timeoutMs);
      this.#wake = () => {
        if (this.#closed || this.#sentinelSeen(wantVersions)) {
          clearTimeout(timer);
          this.#wake = null;
          resolve();
        }
      };
      this.#wake();
    });
    const writing = (async () => {
      for (const [i, part] of splitPayload(payload, opts.splitAt).entries()) {
        if (i > 0) await pause(gapMs);
        if (this.#closed || this.#wake === null) return;
        // Wait until the bytes are handed to the kernel, so separate writes leave as separate segments.
        await new Promise<void>((resolve) => this.#socket.write(part, () => resolve()));
      }
      await pause(opts.sentinelDelayMs ?? Math.max(gapMs, 5));
      if (!this.#closed && this.#wake !== null) this.#socket.write(SENTINEL);
    })();
    await Promise.all([done, writing]);
    if (this.#error) throw this.#error;
    return { bytes: Buffer.concat(this.#chunks), closed: this.#closed };
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** Opens a connection, runs one exchange, closes. */
export async function sendAndCollect(port: Address, payload: Buffer, opts: SendOptions = {}): Promise<RawReply> {
  const c = await RawConnection.open(port);
  try {
    return await c.exchange(payload, opts);
  } finally {
    c.close();
  }
}
