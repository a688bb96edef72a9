// One `watch` client: the lines of the kinds it asked for go to its socket as long as the bytes
// the socket has not taken yet stay under a fixed budget (memcached's per-watcher buffer,
// watcher_logbuf_size). Past it a line is dropped and counted, never queued; the count goes out
// as `skipped=N` before the next line that fits, as memcached's logger thread does.

/** Where a watcher's lines go: its connection, as the server hands it over. */
export interface WatchSink {
  /** Bytes written to the sink and not yet taken by the kernel. */
  readonly backlog: number;
  /** The connection is gone: the watcher is about to be removed. */
  readonly closed: boolean;
  /** Queue `line` (ASCII) on the connection. */
  write(line: string): void;
}

/** Room kept beside a line for the skipped report, as memcached asks its buffer for line + 128. */
const SKIP_ROOM = 128;

export class Watcher {
  readonly flags: number;
  readonly sink: WatchSink;
  /** The most bytes the sink may hold unsent. */
  readonly budget: number;
  /** Lines dropped since the last one sent. */
  skipped = 0;

  constructor(sink: WatchSink, flags: number, budget: number) {
    this.sink = sink;
    this.flags = flags;
    this.budget = budget;
  }

  /** Send one line, or drop it when the socket is behind; true when it was sent. */
  offer(line: string): boolean {
    const sink = this.sink;
    if (sink.closed || sink.backlog + line.length + SKIP_ROOM > this.budget) {
      this.skipped++;
      return false;
    }
    if (this.skipped > 0) {
      sink.write(`skipped=${this.skipped}\n`);
      this.skipped = 0;
    }
    sink.write(line);
    return true;
  }
}
