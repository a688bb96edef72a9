// A tiny socket client for protocol tests: sends raw bytes (whole or split into separate writes),
// then a `version` sentinel, and collects everything up to the sentinel's `VERSION …` reply or a close.
import { connect, type Socket } from 'node:net';

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
  readonly #connected: Promise<void>;
  #chunks: Buffer[] = [];
  #tail = '';
  #closed = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;

  private constructor(port: number) {
    this.#socket = connect({ host: '127.0.0.1', port });
    this.#socket.setNoDelay(true);
    this.#connected = new Promise((resolve, reject) => {
      this.#socket.once('connect', () => resolve());
      this.#socket.once('error', reject);
    });
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

  static async open(port: number): Promise<RawConnection> {
    const c = new RawConnection(port);
    await c.#connected;
    return c;
  }

  get closed(): boolean {
    return this.#closed;
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
export async function sendAndCollect(port: number, payload: Buffer, opts: SendOptions = {}): Promise<RawReply> {
  const c = await RawConnection.open(port);
  try {
    return await c.exchange(payload, opts);
  } finally {
    c.close();
  }
}
