// Base64 for meta keys (`b` flag), decoded the lenient way memcached 1.6.18's base64.c does:
// bytes outside the alphabet are skipped, decoding stops after the first padded block.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const SKIP = 0x80;

/** Byte -> 6-bit value; '=' counts as 0 (padding), SKIP for everything else. */
const DECODE = (() => {
  const t = new Uint8Array(256).fill(SKIP);
  for (let i = 0; i < ALPHABET.length; i++) t[ALPHABET.charCodeAt(i)] = i;
  t[0x3d] = 0;
  return t;
})();

/**
 * Decode src[off, off+len) into dst at 0. Returns the decoded length, or 0 when memcached
 * would refuse the input (no alphabet bytes, a count not a multiple of 4, more than two '=').
 */
export function base64Decode(src: Uint8Array, off: number, len: number, dst: Uint8Array): number {
  const end = off + len;
  let count = 0;
  for (let i = off; i < end; i++) if (DECODE[src[i]!] !== SKIP) count++;
  if (count === 0 || count % 4 !== 0) return 0;
  let pos = 0;
  let n = 0;
  let pad = 0;
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  for (let i = off; i < end; i++) {
    const c = src[i]!;
    const v = DECODE[c]!;
    if (v === SKIP) continue;
    if (c === 0x3d) pad++;
    if (n === 0) b0 = v;
    else if (n === 1) b1 = v;
    else if (n === 2) b2 = v;
    n++;
    if (n < 4) continue;
    dst[pos++] = ((b0 << 2) | (b1 >> 4)) & 0xff;
    dst[pos++] = ((b1 << 4) | (b2 >> 2)) & 0xff;
    dst[pos++] = ((b2 << 6) | v) & 0xff;
    n = 0;
    if (pad > 0) {
      if (pad > 2) return 0;
      pos -= pad;
      break;
    }
  }
  return pos;
}

/** Standard base64 with '=' padding, as memcached encodes keys in replies. */
export function base64Encode(src: Buffer, off: number, len: number): string {
  return src.toString('base64', off, off + len);
}
