// The key space: every key the benchmark can touch, encoded once into flat Buffers,
// and the deterministic value (length, flags, bytes) that belongs to each key.
// Because a key's value never changes, any hit can be checked byte for byte.
import { Rng, hash32 } from './rng.js';

/** Inclusive size range; min === max means a fixed size. */
export interface SizeRange {
  min: number;
  max: number;
}

export function parseSizeRange(s: string): SizeRange {
  const unit = (t: string): number => {
    const m = /^(\d+)([kKmM]i?[bB]?)?$/.exec(t.trim());
    if (!m || !m[1]) throw new Error(`bad size "${t}"`);
    const n = Number(m[1]);
    const u = (m[2] ?? '').toLowerCase();
    if (u.startsWith('k')) return n * 1024;
    if (u.startsWith('m')) return n * 1024 * 1024;
    return n;
  };
  const parts = s.split('-');
  const min = unit(parts[0] ?? '');
  const max = parts.length > 1 ? unit(parts[1] ?? '') : min;
  if (max < min) throw new Error(`bad size range "${s}"`);
  return { min, max };
}

export function describeSize(r: SizeRange): string {
  const f = (n: number): string =>
    n >= 1048576 && n % 1048576 === 0 ? `${n / 1048576} MiB` : n >= 1024 && n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`;
  return r.min === r.max ? f(r.min) : `${f(r.min)}–${f(r.max)}`;
}

export interface KeyspaceOptions {
  count: number;
  keySize: SizeRange;
  valueSize: SizeRange;
  seed: number;
}

const KEY_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_';

export class Keyspace {
  readonly count: number;
  readonly keySize: SizeRange;
  readonly valueSize: SizeRange;
  /** All keys back to back; key i is keyBuf[keyOff[i], keyOff[i+1]). */
  readonly keyBuf: Buffer;
  readonly keyOff: Uint32Array;
  /** For each key, " <flags> 0 <bytes>\r\n": the tail of its `set` command line. */
  readonly setTail: Buffer;
  readonly setTailOff: Uint32Array;
  /** Random bytes; a key's value is a slice of this pool. */
  readonly pool: Buffer;
  private readonly seed: number;
  private readonly poolSpan: number;

  constructor(opts: KeyspaceOptions) {
    const { count, keySize, valueSize, seed } = opts;
    if (count < 1) throw new Error('key count must be >= 1');
    if (keySize.max > 250) throw new Error('memcached keys are at most 250 bytes');
    this.count = count;
    this.keySize = keySize;
    this.valueSize = valueSize;
    this.seed = seed >>> 0;

    // Keys: "k<index base36>-<random filler>", padded to a length drawn from keySize.
    // The index before the '-' makes every key unique whatever the filler is.
    const rng = new Rng(seed ^ 0x5eed);
    const keySpan = keySize.max - keySize.min + 1;
    this.keyOff = new Uint32Array(count + 1);
    const keys = Buffer.allocUnsafe(count * (keySize.max + 8));
    let off = 0;
    for (let i = 0; i < count; i++) {
      const want = keySize.min + (hash32(i ^ this.seed ^ 0x1234567) % keySpan);
      let s = `k${i.toString(36)}-`;
      while (s.length < want) s += KEY_ALPHABET[rng.below(KEY_ALPHABET.length)];
      this.keyOff[i] = off;
      off += keys.write(s, off, 'latin1');
    }
    this.keyOff[count] = off;
    this.keyBuf = Buffer.from(keys.subarray(0, off));

    this.setTailOff = new Uint32Array(count + 1);
    const tails = Buffer.allocUnsafe(count * 24);
    off = 0;
    for (let i = 0; i < count; i++) {
      this.setTailOff[i] = off;
      off += tails.write(` ${this.flags(i)} 0 ${this.valueLen(i)}\r\n`, off, 'latin1');
    }
    this.setTailOff[count] = off;
    this.setTail = Buffer.from(tails.subarray(0, off));

    // Value pool: random bytes, at least 1 MiB and at least twice the biggest value,
    // so different keys get different (overlapping) slices.
    const poolLen = Math.max(1 << 20, valueSize.max * 2);
    this.pool = Buffer.allocUnsafe(poolLen);
    const vr = new Rng(seed ^ 0x7a11e);
    let p = 0;
    for (; p + 4 <= poolLen; p += 4) this.pool.writeUInt32LE(vr.nextU32(), p);
    for (; p < poolLen; p++) this.pool[p] = vr.nextU32() & 0xff;
    this.poolSpan = poolLen - valueSize.max + 1;
  }

  keyLen(i: number): number {
    return this.keyOff[i + 1]! - this.keyOff[i]!;
  }

  keyString(i: number): string {
    return this.keyBuf.toString('latin1', this.keyOff[i]!, this.keyOff[i + 1]!);
  }

  valueLen(i: number): number {
    const span = this.valueSize.max - this.valueSize.min + 1;
    return span === 1 ? this.valueSize.min : this.valueSize.min + (hash32(i ^ this.seed ^ 0x0badf00d) % span);
  }

  /** Offset of key i's value in `pool`. */
  valueOff(i: number): number {
    return hash32(Math.imul(i, 0x9e3779b1) ^ this.seed) % this.poolSpan;
  }

  /** The 32-bit client flags stored with key i. */
  flags(i: number): number {
    return hash32(i ^ 0xf1a9) & 0xffff;
  }

  /** Total bytes of key + value over the whole key space (for sizing memory). */
  approxDataBytes(): number {
    const avgV = (this.valueSize.min + this.valueSize.max) / 2;
    return this.keyBuf.length + this.count * avgV;
  }
}
