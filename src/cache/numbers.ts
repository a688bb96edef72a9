// memcached parses numbers with strtoull/strtol and then checks the end pointer; these
// helpers reproduce those rules on bytes so every protocol agrees with memcached.

const U64_MAX = (1n << 64n) - 1n;

const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/**
 * memcached's safe_strtoull() over buf[off, off+len): leading white space, an optional sign,
 * digits, then white space or the end. A '-' that made the value wrap is refused. Returns
 * null when memcached would refuse the number.
 */
export function parseU64(buf: Uint8Array, off: number, len: number): bigint | null {
  const end = off + len;
  let i = off;
  while (i < end && isSpace(buf[i]!)) i++;
  let neg = false;
  if (i < end && (buf[i] === 0x2b || buf[i] === 0x2d)) {
    neg = buf[i] === 0x2d;
    i++;
  }
  const digitsStart = i;
  // Accumulate in a number while it is exact, then switch to bigint.
  let small = 0;
  while (i < end) {
    const c = buf[i]! - 0x30;
    if (c < 0 || c > 9) break;
    if (small > 1e14) break;
    small = small * 10 + c;
    i++;
  }
  let v = BigInt(small);
  let overflow = false;
  while (i < end) {
    const c = buf[i]! - 0x30;
    if (c < 0 || c > 9) break;
    v = v * 10n + BigInt(c);
    if (v > U64_MAX) overflow = true;
    i++;
  }
  if (i === digitsStart) return null; // no digits: strtoull leaves endptr at the start
  if (i < end && !isSpace(buf[i]!)) return null;
  if (overflow) return null; // ERANGE
  if (neg && v !== 0n) {
    // strtoull negates; safe_strtoull refuses a result that looks negative as signed
    const wrapped = (U64_MAX + 1n - v) & U64_MAX;
    if (wrapped >= 1n << 63n) return null;
    return wrapped;
  }
  return v;
}

/**
 * A whole token as a non-negative integer no larger than `max` (strtoul/strtol with the
 * end-pointer check). Returns -1 when memcached would refuse it.
 */
export function parseUint(buf: Uint8Array, off: number, len: number, max: number): number {
  if (len === 0 || len > 20) return -1;
  let v = 0;
  for (let i = off; i < off + len; i++) {
    const c = buf[i]! - 0x30;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v <= max ? v : -1;
}

/**
 * memcached 1.6.18's safe_strtol(): strtol() into a 64-bit long (white space, a sign, digits,
 * then the end or white space; ERANGE refused), stored into an int32 by truncation, so
 * `4294967297` reads as 1 and `2147483648` as a negative number, as on the real server.
 * Null when refused.
 */
export function parseInt32(buf: Uint8Array, off: number, len: number): number | null {
  const end = off + len;
  let i = off;
  while (i < end && isSpace(buf[i]!)) i++;
  let neg = false;
  if (i < end && (buf[i] === 0x2b || buf[i] === 0x2d)) {
    neg = buf[i] === 0x2d;
    i++;
  }
  const digits = i;
  let small = 0;
  while (i < end && buf[i]! >= 0x30 && buf[i]! <= 0x39) {
    small = small * 10 + (buf[i]! - 0x30);
    i++;
  }
  if (i === digits) return null;
  if (i < end && !isSpace(buf[i]!)) return null;
  if (i - digits <= 9) return neg ? -small : small; // fits an int32: the common case
  let v = 0n;
  for (let k = digits; k < i; k++) v = v * 10n + BigInt(buf[k]! - 0x30);
  if (neg) v = -v;
  if (v > 0x7fffffffffffffffn || v < -0x8000000000000000n) return null; // ERANGE
  return Number(BigInt.asIntN(32, v));
}

/** Writes a u64 in decimal into dst at off; returns the new offset. */
export function writeDecimal(dst: Uint8Array, off: number, n: number): number {
  if (n < 10) {
    dst[off] = 0x30 + n;
    return off + 1;
  }
  let digits = 0;
  for (let t = n; t >= 1; t = Math.floor(t / 10)) digits++;
  let p = off + digits - 1;
  let t = n;
  while (t >= 1) {
    const q = Math.floor(t / 10);
    dst[p--] = 0x30 + (t - q * 10);
    t = q;
  }
  return off + digits;
}
