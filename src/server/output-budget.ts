// The memory that unread replies may hold across all of a server's connections. memcached
// points a reply at the item (it holds a reference); here a value is copied into the reply,
// so a client that sends `get` of many large items and never reads holds a copy of the part
// the kernel did not take: 300 such clients grew the daemon by 300 MiB (bench/unread-replies.ts).
// A connection charges the bytes of a write the kernel did not take whole until it drains.
// While the charges reach the budget, a value of GATED_VALUE bytes or more is copied only by
// the connection holding the turn; the others stop before that request and wait in line
// (their small replies still go out). The turn passes on once its holder's batch is written,
// so nothing waits for ever while some client reads, and held memory stays under the budget
// plus one batch. A client that holds the turn and stops reading holds up other large
// replies until it reads or -o idle_timeout closes it.
import { type Output, type ReplyBudget } from '../protocol/output.js';

interface Waiter {
  readonly out: Output;
  readonly resume: () => void;
}

export class OutputBudget implements ReplyBudget {
  readonly limit: number;
  /** Bytes of replies handed to sockets that the kernel has not taken yet. */
  held = 0;
  /** Times a large value had to wait (for tests and stats). */
  deferrals = 0;
  /** The connection (by its Output) that may copy large values over the budget. */
  #turn: Output | null = null;
  #waiting: Waiter[] = [];
  #wakeQueued = false;

  constructor(limit: number) {
    this.limit = limit;
  }

  get over(): boolean {
    return this.held >= this.limit;
  }

  /** Connections waiting for room. */
  get waiting(): number {
    return this.#waiting.length;
  }

  admits(out: Output, _bytes: number): boolean {
    if (this.held < this.limit) return true;
    if (this.#turn === null) this.#turn = out;
    if (this.#turn === out) return true;
    this.deferrals++;
    return false;
  }

  /** A write of `bytes` was left for the kernel to take later. */
  charge(bytes: number): void {
    this.held += bytes;
  }

  /** A charged write has been taken by the kernel (or its connection is gone). */
  release(bytes: number): void {
    this.held -= bytes;
    if (this.#waiting.length > 0) this.#queueWake();
  }

  /** The connection of `out` has written its batch whole: its turn, if it had it, passes on. */
  settled(out: Output): void {
    if (this.#turn !== out) return;
    this.#turn = null;
    if (this.#waiting.length > 0) this.#queueWake();
  }

  /** Call `resume` when the connection of `out` may try its deferred request again. */
  wait(out: Output, resume: () => void): void {
    this.#waiting.push({ out, resume });
    if (this.held < this.limit || this.#turn === null) this.#queueWake();
  }

  /** The connection of `out` closed. */
  forget(out: Output): void {
    if (this.#waiting.some((w) => w.out === out)) this.#waiting = this.#waiting.filter((w) => w.out !== out);
    this.settled(out);
  }

  // woken from the event loop, not from inside another connection's write callback
  #queueWake(): void {
    if (this.#wakeQueued) return;
    this.#wakeQueued = true;
    setImmediate(() => {
      this.#wakeQueued = false;
      this.#wake();
    });
  }

  #wake(): void {
    // under the budget every waiter goes on (each may spend some of it); over it, the first
    // in line gets the turn
    while (this.#waiting.length > 0) {
      if (this.held >= this.limit) {
        if (this.#turn !== null) return;
        this.#turn = this.#waiting[0]!.out;
      }
      const w = this.#waiting.shift()!;
      w.resume();
    }
  }
}
