// memcached parses numbers with strtoull/strtol and then checks the end pointer; these
// helpers reproduce those rules on bytes so every protocol agrees with memcached.

const U64_MAX = (1n << 64n) - 1n;

const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/** Result of scanDecimal(): sign, digit range and their value when it is exact. */
let scanNeg = false;
let scanDigits = 0;
let scanEnd = 0;
let scanSmall = 0;

/**
 * The part strtoul/strtol share: white space, an optional sign, decimal digits, then the end
 * of the token or white space (memcached's end-pointer check). False when refused; otherwise
 * the scan* variables describe the number (scanSmall is exact up to 15 digits).
 */
function scanDecimal(buf: Uint8Array, off: number, len: number): boolean {
  const end = off + len;
  let i = off;
  while (i < end && isSpace(buf[i]!)) i++;
  scanNeg = false;
  if (i < end && (buf[i] === 0x2b || buf[i] === 0x2d)) {
    scanNeg = buf[i] === 0x2d;
    i++;
  }
  scanDigits = i;
  let small = 0;
  while (i < end && buf[i]! >= 0x30 && buf[i]! <= 0x39) {
    if (i - scanDigits < 15) small = small * 10 + (buf[i]! - 0x30);
    i++;
  }
  scanEnd = i;
  scanSmall = small;
  if (i === scanDigits) return false; // no digits: the end pointer stays at the start
  return i === end || isSpace(buf[i]!);
}

/** The scanned digits as a bigint. */
function scannedBig(buf: Uint8Array): bigint {
  if (scanEnd - scanDigits <= 15) return BigInt(scanSmall);
  let v = 0n;
  for (let k = scanDigits; k < scanEnd; k++) v = v * 10n + BigInt(buf[k]! - 0x30);
  return v;
}

/**
 * memcached's safe_strtoull() over buf[off, off+len): leading white space, an optional sign,
 * digits, then white space or the end. A '-' that made the value wrap is refused. Returns
 * null when memcached would refuse the number.
 */
export function parseU64(buf: Uint8Array, off: number, len: number): bigint | null {
  if (!scanDecimal(buf, off, len)) return null;
  const v = scannedBig(buf);
  if (v > U64_MAX) return null; // ERANGE
  if (scanNeg && v !== 0n) {
    // strtoull negates; safe_strtoull refuses a result that looks negative as signed
    const wrapped = (U64_MAX + 1n - v) & U64_MAX;
    if (wrapped >= 1n << 63n) return null;
    return wrapped;
  }
  return v;
}

/**
 * memcached 1.6.18's safe_strtol(): strtol() into a 64-bit long (white space, a sign, digits,
 * then the end or white space; ERANGE refused), stored into an int32 by truncation, so
 * `4294967297` reads as 1 and `2147483648` as a negative number, as on the real server.
 * Null when refused.
 */
export function parseInt32(buf: Uint8Array, off: number, len: number): number | null {
  if (!scanDecimal(buf, off, len)) return null;
  if (scanEnd - scanDigits <= 9) return scanNeg ? -scanSmall : scanSmall; // fits an int32: the common case
  let v = scannedBig(buf);
  if (scanNeg) v = -v;
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
