// 32-bit hash of key bytes (MurmurHash3 x86_32, seed 0), computed straight from the request
// buffer four bytes at a time through a DataView, so a lookup never builds a string. Items
// keep only 5 bits of their hash (M_HASH_TAG): the index computes it from an item's key when
// it needs it.
import { keyViewOf } from './bytes.js';

export function hashKey(buf: Uint8Array, off: number, len: number): number {
  return hashView(keyViewOf(buf), off, len);
}

/** hashKey of bytes read through a DataView (an item's key in its slab page). */
export function hashView(v: DataView, off: number, len: number): number {
  let p = off;
  const end4 = p + (len & ~3);
  let h = 0;
  let k: number;
  for (; p < end4; p += 4) {
    k = Math.imul(v.getUint32(p, true), 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = len & 3;
  if (rest !== 0) {
    k = v.getUint8(p);
    if (rest > 1) k |= v.getUint8(p + 1) << 8;
    if (rest > 2) k |= v.getUint8(p + 2) << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
