// One connection's open transaction: a stack of levels of buffered writes (innermost last),
// and what every key the transaction touched looked like when it first touched it, for the
// conflict check at the outermost COMMIT. Knows nothing of the cache or the wire.

/** A key's contents as a transaction sees them; exptime is absolute unix seconds, 0 = never. */
export interface Entry {
  readonly value: Buffer;
  readonly flags: number;
  readonly exptime: number;
}

/** A buffered write: the new contents, or null for a delete. */
export type Write = Entry | null;

/**
 * A key as the transaction first found it in the cache: its CAS (0 when absent), and with
 * CAS off (-C) its contents, which are compared instead.
 */
export interface Seen {
  readonly cas: number;
  readonly entry: Entry | null;
}

/** Rough bytes held per map entry and per level, beyond keys and values. */
const ENTRY_OVERHEAD = 64;
const LEVEL_OVERHEAD = 128;

const writeCost = (key: string, w: Write): number => ENTRY_OVERHEAD + 2 * key.length + (w === null ? 0 : w.value.length);
const seenCost = (key: string, s: Seen): number => ENTRY_OVERHEAD + 2 * key.length + (s.entry === null ? 0 : s.entry.value.length);

export class Transaction {
  /** Bytes the transaction may hold (writes of every level plus what it has seen). */
  readonly limit: number;
  readonly #levels: Array<Map<string, Write>> = [new Map()];
  readonly #levelBytes: number[] = [LEVEL_OVERHEAD];
  readonly #seen = new Map<string, Seen>();
  #bytes = LEVEL_OVERHEAD;

  constructor(limit: number) {
    this.limit = limit;
  }

  get depth(): number {
    return this.#levels.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Open a nested level; false when that would pass the memory limit. */
  begin(): boolean {
    if (this.#bytes + LEVEL_OVERHEAD > this.limit) return false;
    this.#levels.push(new Map());
    this.#levelBytes.push(LEVEL_OVERHEAD);
    this.#bytes += LEVEL_OVERHEAD;
    return true;
  }

  /** The key's buffered write, innermost level first, or undefined when none has one. */
  lookup(key: string): Write | undefined {
    for (let i = this.#levels.length - 1; i >= 0; i--) {
      const w = this.#levels[i]!.get(key);
      if (w !== undefined) return w;
    }
    return undefined;
  }

  hasSeen(key: string): boolean {
    return this.#seen.has(key);
  }

  /** Record how the key looked when first touched; false when past the memory limit. */
  see(key: string, s: Seen): boolean {
    const cost = seenCost(key, s);
    if (this.#bytes + cost > this.limit) return false;
    this.#seen.set(key, s);
    this.#bytes += cost;
    return true;
  }

  /** Buffer a write in the innermost level; false when past the memory limit. */
  write(key: string, w: Write): boolean {
    const top = this.#levels.length - 1;
    const level = this.#levels[top]!;
    const old = level.get(key);
    const delta = writeCost(key, w) - (old === undefined ? 0 : writeCost(key, old));
    if (delta > 0 && this.#bytes + delta > this.limit) return false;
    level.set(key, w);
    this.#levelBytes[top]! += delta;
    this.#bytes += delta;
    return true;
  }

  /** COMMIT of an inner level: its writes replace the outer level's. */
  mergeInner(): void {
    const inner = this.#levels.pop()!;
    const innerBytes = this.#levelBytes.pop()!;
    const top = this.#levels.length - 1;
    const outer = this.#levels[top]!;
    let outerBytes = this.#levelBytes[top]!;
    this.#bytes -= LEVEL_OVERHEAD;
    for (const [key, w] of inner) {
      const old = outer.get(key);
      if (old !== undefined) {
        const c = writeCost(key, old);
        outerBytes -= c;
        this.#bytes -= c;
      }
      outer.set(key, w);
    }
    this.#levelBytes[top] = outerBytes + innerBytes - LEVEL_OVERHEAD;
  }

  /** ROLLBACK of the innermost level: its writes go, the keys it read or wrote stay seen. */
  dropInner(): void {
    this.#levels.pop();
    this.#bytes -= this.#levelBytes.pop()!;
  }

  /** The outermost level's writes (what COMMIT of the outermost level applies). */
  get outermost(): ReadonlyMap<string, Write> {
    return this.#levels[0]!;
  }

  get seen(): ReadonlyMap<string, Seen> {
    return this.#seen;
  }
}
