// Small socket helpers for the reliability tests: connect, wait for bytes, wait for close.
import net from 'node:net';

/** Poll `cond` every 5 ms until it holds; throws after `ms`. For server state, not for TTLs. */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Collects everything a socket receives; `until` waits for a predicate or a close. */
export class Collector {
  chunks: Buffer[] = [];
  bytes = 0;
  closed = false;
  #waiters: Array<() => void> = [];
  constructor(readonly socket: net.Socket, keep = true) {
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

export async function request(port: number, payload: string | Buffer, done: (text: string) => boolean): Promise<string> {
  const s = await connect(port);
  const c = new Collector(s);
  s.write(payload);
  await c.until((x) => done(x.text()));
  s.destroy();
  return c.text();
}
