// `stats detail`: per key-prefix counts of gets, hits, sets and deletes, recorded while
// detail is on (memcached's stats_prefix.c). A key without the delimiter is not counted.

interface PrefixCounts {
  get: number;
  hit: number;
  set: number;
  del: number;
}

export class PrefixStats {
  enabled = false;
  delimiter = 0x3a; // ':', memcached -D
  readonly #byPrefix = new Map<string, PrefixCounts>();

  #find(key: Uint8Array, off: number, len: number): PrefixCounts | null {
    let n = 0;
    while (n < len && key[off + n] !== 0 && key[off + n] !== this.delimiter) n++;
    if (n === len || key[off + n] !== this.delimiter) return null;
    const prefix = Buffer.from(key.buffer, key.byteOffset + off, n).toString('latin1');
    let c = this.#byPrefix.get(prefix);
    if (c === undefined) {
      c = { get: 0, hit: 0, set: 0, del: 0 };
      this.#byPrefix.set(prefix, c);
    }
    return c;
  }

  recordGet(key: Uint8Array, off: number, len: number, hit: boolean): void {
    const c = this.#find(key, off, len);
    if (c === null) return;
    c.get++;
    if (hit) c.hit++;
  }

  recordSet(key: Uint8Array, off: number, len: number): void {
    const c = this.#find(key, off, len);
    if (c !== null) c.set++;
  }

  recordDelete(key: Uint8Array, off: number, len: number): void {
    const c = this.#find(key, off, len);
    if (c !== null) c.del++;
  }

  /** The `stats detail dump` body, END included. */
  dump(): string {
    let s = '';
    for (const [p, c] of this.#byPrefix) s += `PREFIX ${p} get ${c.get} hit ${c.hit} set ${c.set} del ${c.del}\r\n`;
    return `${s}END\r\n`;
  }

  clear(): void {
    this.#byPrefix.clear();
  }
}
