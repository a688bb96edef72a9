// Copying item bytes. V8 has no cheap memcpy for a few dozen bytes: a byte loop pays a bounds
// check per byte and Buffer#copy a native call, so hot paths copy through DataViews four
// bytes at a time (unaligned access is allowed), which measured 2-3x faster for 100 bytes.

const bufferCopy = Buffer.prototype.copy;

/** Copy between any byte arrays: a loop for a few bytes, the native copy above that. */
export function copyBytes(src: Uint8Array, sOff: number, len: number, dst: Uint8Array, dOff: number): void {
  if (len <= 8) {
    for (let i = 0; i < len; i++) dst[dOff + i] = src[sOff + i]!;
  } else {
    bufferCopy.call(src, dst, dOff, sOff, sOff + len);
  }
}

/** Copy len bytes between two DataViews, four at a time. */
export function copyByViews(src: DataView, sOff: number, dst: DataView, dOff: number, len: number): void {
  if (len > 512) {
    // long runs: the native copy wins
    const s = new Uint8Array(src.buffer, src.byteOffset + sOff, len);
    new Uint8Array(dst.buffer, dst.byteOffset + dOff, len).set(s);
    return;
  }
  let i = 0;
  // sixteen bytes per turn: four loads, then four stores (measured ~20% faster than one word
  // per turn for 100-byte values)
  for (; i + 16 <= len; i += 16) {
    const a = src.getUint32(sOff + i, true);
    const b = src.getUint32(sOff + i + 4, true);
    const c = src.getUint32(sOff + i + 8, true);
    const d = src.getUint32(sOff + i + 12, true);
    dst.setUint32(dOff + i, a, true);
    dst.setUint32(dOff + i + 4, b, true);
    dst.setUint32(dOff + i + 8, c, true);
    dst.setUint32(dOff + i + 12, d, true);
  }
  for (; i + 4 <= len; i += 4) dst.setUint32(dOff + i, src.getUint32(sOff + i, true), true);
  for (; i < len; i++) dst.setUint8(dOff + i, src.getUint8(sOff + i));
}

/** A DataView over exactly the bytes of a Buffer. */
export const viewOf = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

// A DataView over the bytes of the last key array seen: requests from one read share a
// buffer, so hashing and comparing keys four bytes at a time costs no allocation. Checked by
// identity of the array (reading .buffer is a slow getter).
let keyArray: Uint8Array | null = null;
let keyView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/**
 * Arrays whose DataView is made once, up front: the server reads every plain socket into one
 * shared buffer and hands requests over as one of a few thousand fixed views of it, which
 * alternate from one connection to the next; a new DataView each time cost ~2% of the CPU.
 */
const known = new Map<Uint8Array, DataView>();

/** Let viewFor(b) answer `v`, a DataView whose offsets are b's (it may run past b's end). */
export function registerView(b: Uint8Array, v: DataView): void {
  known.set(b, v);
}

/** A DataView over b with b's offsets: a registered one, or a new one. */
export function viewFor(b: Uint8Array): DataView {
  return known.get(b) ?? new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A DataView over exactly the bytes of b (same offsets), cached for the last array seen. */
export function keyViewOf(b: Uint8Array): DataView {
  if (b !== keyArray) {
    keyArray = b;
    keyView = viewFor(b);
  }
  return keyView;
}
