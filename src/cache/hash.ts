// 32-bit hash of key bytes (FNV-1a with a final avalanche), computed straight from the
// request buffer so a lookup never builds a string.

export function hashKey(buf: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5;
  const end = off + len;
  for (let i = off; i < end; i++) {
    h = Math.imul(h ^ buf[i]!, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
