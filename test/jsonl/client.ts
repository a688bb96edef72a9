// A JSON-lines client for tests: one socket, requests pipelined, one parsed reply per line,
// and the KVDB reference client's way (connect, one request, one reply line, close).
import net from 'node:net';

export type Reply = Record<string, unknown>;

export class JsonlClient {
  readonly #sock: net.Socket;
  readonly #waiting: Array<(r: Reply) => void> = [];
  #buf = '';
  /** Lines that came with no request waiting for them. */
  readonly unasked: string[] = [];
  readonly closed: Promise<void>;

  private constructor(sock: net.Socket) {
    this.#sock = sock;
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.#buf += d;
      let at: number;
      while ((at = this.#buf.indexOf('\n')) >= 0) {
        const line = this.#buf.slice(0, at);
        this.#buf = this.#buf.slice(at + 1);
        const w = this.#waiting.shift();
        if (w === undefined) this.unasked.push(line);
        else w(JSON.parse(line) as Reply);
      }
    });
    this.closed = new Promise((r) => sock.on('close', () => r()));
    sock.on('error', () => {});
  }

  static connect(port: number): Promise<JsonlClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new JsonlClient(s)));
      s.once('error', reject);
    });
  }

  /** Send one line (a plain command, or an object sent as JSON); resolves with its reply. */
  send(req: string | object): Promise<Reply> {
    const line = typeof req === 'string' ? req : JSON.stringify(req);
    return this.sendRaw(`${line}\n`, 1).then((r) => r[0]!);
  }

  /** Send raw bytes that hold `replies` requests; resolves with their replies. */
  sendRaw(bytes: string | Buffer, replies: number): Promise<Reply[]> {
    const got: Array<Promise<Reply>> = [];
    for (let i = 0; i < replies; i++) got.push(new Promise((r) => this.#waiting.push(r)));
    this.#sock.write(bytes);
    return Promise.all(got);
  }

  write(bytes: string | Buffer): void {
    this.#sock.write(bytes);
  }

  close(): void {
    this.#sock.end();
  }

  destroy(): void {
    this.#sock.destroy();
  }
}

/** A JSON request as the KVDB client sends it. */
export function json(command: string, args?: Record<string, unknown>): object {
  return args === undefined ? { command } : { command, args };
}

/** The KVDB reference client: connect, send one request, read one reply line, close. */
export async function oneShot(port: number, req: string | object): Promise<Reply> {
  const c = await JsonlClient.connect(port);
  try {
    return await c.send(req);
  } finally {
    c.close();
  }
}

export const OK = (result: unknown = null): Reply => ({ status: 'OK', result });
export const Ok = (result?: unknown): Reply => (result === undefined ? { status: 'Ok' } : { status: 'Ok', result });
