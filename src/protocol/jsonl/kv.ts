// The JSON-lines front's view of the cache: whole entries under UTF-8 string keys, read and
// written through the sealed CacheApi only, plus the signed 64-bit arithmetic of INCR/DECR.
import { NONE, OpStatus, Outcome, StoreMode, StoreRequest, type CacheApi } from '../../cache/api.js';
import { KEY_MAX_LENGTH } from '../types.js';
import type { Entry, Seen } from './transaction.js';

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/**
 * The key's bytes, or null when memcached could not hold it: 1 to KEY_MAX_LENGTH bytes with
 * no space or control character (memcached's text protocol could not name it otherwise).
 */
export function keyBytes(key: string): Buffer | null {
  const b = Buffer.from(key, 'utf8');
  if (b.length === 0 || b.length > KEY_MAX_LENGTH) return null;
  for (const c of b) if (c <= 0x20 || c === 0x7f) return null;
  return b;
}

export const BAD_KEY = `a key is 1 to ${KEY_MAX_LENGTH} bytes of UTF-8 with no spaces or control characters`;

export class Kv {
  readonly cache: CacheApi;
  readonly #req = new StoreRequest();
  readonly #st = new OpStatus();

  constructor(cache: CacheApi) {
    this.cache = cache;
  }

  /** The live entry under a key, or null. `count`: as a get (cmd_get, hits, LRU bump). */
  read(key: Buffer, count: boolean): Entry | null {
    const c = this.cache;
    const id = count ? c.get(key, 0, key.length) : c.find(key, 0, key.length);
    if (id === NONE) return null;
    const value = Buffer.allocUnsafe(c.itemValueLength(id));
    c.copyValue(id, value, 0);
    return { value, flags: c.itemFlags(id), exptime: c.itemExptime(id) };
  }

  /** How the key looks now, for the conflict check (its CAS, or its contents with -C). */
  seen(key: Buffer): Seen {
    const c = this.cache;
    if (c.options.useCas) {
      const id = c.find(key, 0, key.length);
      return { cas: id === NONE ? 0 : c.itemCas(id), entry: null };
    }
    return { cas: 0, entry: this.read(key, false) };
  }

  /** The key changed since `then` was recorded. */
  changedSince(key: Buffer, then: Seen): boolean {
    const now = this.seen(key);
    if (this.cache.options.useCas) return now.cas !== then.cas;
    const a = now.entry;
    const b = then.entry;
    if (a === null || b === null) return a !== b;
    return a.flags !== b.flags || a.exptime !== b.exptime || !a.value.equals(b.value);
  }

  /** The entry fits the -I limit with its key. */
  fits(key: Buffer, valueLength: number): boolean {
    return this.cache.fits(key.length, valueLength, 0);
  }

  /** Store an entry (Set, or Add / Cas as asked); an exptime already past deletes. */
  put(key: Buffer, e: Entry, mode: StoreMode = StoreMode.Set, cas = 0): Outcome {
    if (e.exptime !== 0 && e.exptime <= this.cache.clock.now()) {
      this.cache.delete(key, 0, key.length);
      return Outcome.Stored;
    }
    const r = this.#req;
    r.mode = mode;
    r.key = key;
    r.kOff = 0;
    r.kLen = key.length;
    r.flags = e.flags;
    // absolute unix seconds: always past memcached's 30-day relative range
    r.exptime = e.exptime;
    r.value = e.value;
    r.vOff = 0;
    r.vLen = e.value.length;
    r.cas = cas;
    const out = this.cache.store(r, this.#st);
    r.key = r.value = EMPTY;
    return out;
  }

  remove(key: Buffer): boolean {
    return this.cache.delete(key, 0, key.length) === Outcome.Deleted;
  }

  /** The item's CAS now, for a compare-and-swap store (0 when absent or CAS is off). */
  casOf(key: Buffer): number {
    const c = this.cache;
    const id = c.find(key, 0, key.length);
    return id === NONE ? 0 : c.itemCas(id);
  }
}

const EMPTY = Buffer.alloc(0);

export const NOT_INTEGER = 'Value is not an integer';
export const OVERFLOW = 'increment or decrement would overflow';

/**
 * INCR/DECR on a decimal string (absent = "0"): the new value, or an error message. Signed
 * 64-bit as Redis, unlike memcached's unsigned incr (DECR of "0" is "-1" here, 0 there).
 */
export function addSigned(value: Buffer | null, delta: bigint): string | { error: string } {
  let n = 0n;
  if (value !== null) {
    const s = value.toString('latin1');
    if (!/^-?\d{1,20}$/.test(s)) return { error: NOT_INTEGER };
    n = BigInt(s);
    if (n < INT64_MIN || n > INT64_MAX) return { error: NOT_INTEGER };
  }
  const r = n + delta;
  if (r < INT64_MIN || r > INT64_MAX) return { error: OVERFLOW };
  return r.toString();
}
