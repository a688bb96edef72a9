// Gives memory back after a burst of connections. Reply and read buffers of closed
// connections are ArrayBuffers outside the V8 heap; V8 frees them only when a garbage
// collection runs, and an idle daemon allocates too little to trigger one, so tens of MB
// could stay resident for hours after a load spike. When the daemon has been quiet for a
// moment and buffer memory outside the slab pages has grown, run one collection.
import v8 from 'node:v8';
import vm from 'node:vm';

const CHECK_MS = 1000;
/** Growth of non-slab buffer memory since the last collection that makes one worthwhile. */
const GROWTH = 16 * 1024 * 1024;

function loadGc(): (() => void) | null {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}

export class MemoryReturn {
  readonly #gc = loadGc();
  readonly #slabBytes: () => number;
  readonly #busy: () => boolean;
  #baseline = 0;
  #timer: NodeJS.Timeout | null = null;
  collections = 0;

  /** `slabBytes`: memory held by slab pages; `busy`: whether clients sent data lately. */
  constructor(slabBytes: () => number, busy: () => boolean) {
    this.#slabBytes = slabBytes;
    this.#busy = busy;
  }

  start(): void {
    if (this.#gc === null || this.#timer !== null) return;
    this.#baseline = this.#buffers();
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
    if (this.#buffers() < this.#baseline + GROWTH) return;
    this.#gc();
    this.collections++;
    this.#baseline = this.#buffers();
  }
}
