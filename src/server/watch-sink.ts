// Where a `watch` connection's log lines go: gathered during one turn of the event loop and
// written to the socket in one write at its end (not one write per event). The backlog the
// watcher's budget is measured against counts the gathered lines and everything the
// connection has not handed to the kernel yet.
import type { WatchSink } from '../logging/watcher.js';
import type { Connection } from './connection.js';

export class ConnectionSink implements WatchSink {
  readonly #conn: Connection;
  readonly #counted: (bytes: number) => void;
  #lines: string[] = [];
  #bytes = 0;
  #scheduled = false;

  /** `counted` adds the bytes written to the server's bytes_written. */
  constructor(conn: Connection, counted: (bytes: number) => void) {
    this.#conn = conn;
    this.#counted = counted;
  }

  get backlog(): number {
    return this.#bytes + this.#conn.pendingOutput;
  }

  get closed(): boolean {
    return this.#conn.closed;
  }

  write(line: string): void {
    this.#lines.push(line);
    this.#bytes += line.length;
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const text = this.#lines.join('');
    const bytes = this.#bytes;
    this.#lines = [];
    this.#bytes = 0;
    if (this.#conn.closed || bytes === 0) return;
    this.#counted(bytes);
    this.#conn.socket.write(text, 'latin1');
  };
}
