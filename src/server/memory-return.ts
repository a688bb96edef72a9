// Gives memory back after a burst of connections. Reply and read buffers of closed
// connections are ArrayBuffers outside the V8 heap, and a closed socket's native handle is
// freed only when its JS object is collected; V8 frees both only when a garbage collection
// runs, and an idle daemon allocates too little to trigger one, so tens of MB could stay
// resident for hours after a load spike. When the daemon has been quiet for a moment and
// buffer memory outside the slab pages has grown, or many connections have closed, run one
// full collection that also gives the emptied heap pages back (V8's "last resort" flavour:
// on Node 24 an ordinary one left the heap at its peak size). The first quiet second after a
// start can also run one: what starting up left behind (the command line parser's work, module
// loading, the young generation grown meanwhile) would otherwise stay resident until the
// first collection, which an idle daemon may never run (start({ settle: true })).
import v8 from 'node:v8';
import vm from 'node:vm';

const CHECK_MS = 1000;
/** Growth of non-slab buffer memory since the last collection that makes one worthwhile. */
const GROWTH = 16 * 1024 * 1024;
/** Connections closed since the last collection that make one worthwhile. */
const CLOSED = 1000;

type GcOptions = { type: 'major'; execution: 'sync'; flavor: 'last-resort' };
/**
 * V8 12 and later (Node 22+) take options: a last-resort major collection also shrinks the
 * heap. V8 11 (Node 20) reads any argument as a request for a minor collection, so there the
 * full collection is the call without one.
 */
const FULL: GcOptions | undefined =
  Number.parseInt(process.versions.v8, 10) >= 12 ? { type: 'major', execution: 'sync', flavor: 'last-resort' } : undefined;

function loadGc(): ((options?: GcOptions) => void) | null {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('gc');
    return typeof gc === 'function' ? (gc as (options?: GcOptions) => void) : null;
  } catch {
    return null;
  }
}

export class MemoryReturn {
  readonly #gc = loadGc();
  readonly #slabBytes: () => number;
  readonly #busy: () => boolean;
  readonly #closed: () => number;
  #baseline = 0;
  #closedAtLast = 0;
  /** Set by start({ settle: true }): the next quiet check collects what starting up left behind. */
  #startup = false;
  #timer: NodeJS.Timeout | null = null;
  collections = 0;

  /**
   * `slabBytes`: memory held by slab pages; `busy`: whether clients sent data lately;
   * `closed`: connections closed so far.
   */
  constructor(slabBytes: () => number, busy: () => boolean, closed: () => number = () => 0) {
    this.#slabBytes = slabBytes;
    this.#busy = busy;
    this.#closed = closed;
  }

  /** `settle`: collect once at the first quiet check, whatever grew (the daemon's start). */
  start(options: { settle?: boolean } = {}): void {
    if (this.#gc === null || this.#timer !== null) return;
    this.#baseline = this.#buffers();
    this.#closedAtLast = this.#closed();
    this.#startup = options.settle === true;
    this.#timer = setInterval(() => this.check(), CHECK_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #buffers(): number {
    return process.memoryUsage().arrayBuffers - this.#slabBytes();
  }

  check(): void {
    if (this.#gc === null || this.#busy()) return;
    const closed = this.#closed();
    if (!this.#startup && this.#buffers() < this.#baseline + GROWTH && closed - this.#closedAtLast < CLOSED) return;
    this.#startup = false;
    this.#gc(FULL);
    this.collections++;
    this.#baseline = this.#buffers();
    this.#closedAtLast = closed;
  }
}
