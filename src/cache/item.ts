// Layout of an item inside a slab chunk. An item id is (page << 17) | (byteOffset >> 3),
// so a field is read as pages32[id >>> 17][((id & 0x1ffff) << 1) + FIELD] with no lookup.
// A chunk holds a 36-byte header (the nine u32 fields below), the key, the client flags only
// when they are not 0 (2 bytes when they fit, else 4: M_FLAGS16/M_FLAGS32), then the value; a chained item has its continuation chunk
// ids between the flags and the value. Like memcached's item, the header keeps no hash (it is
// recomputed from the key where needed; 5 of its bits sit in spare META bits to speed chain
// walks) and no chunk count (it follows from the sizes). Slab
// class sizes stay memcached's (slabs.ts), but an item takes the class its own bytes need:
// with no NUL after the key, no CRLF after the value and a smaller header, that is often a
// class below memcached's (issue #19: 16 B keys, 100 B values use 152-byte chunks, not 192).

export type ItemId = number;
export const NONE: ItemId = 0xffffffff;

export const PAGE_SHIFT = 17;
export const OFF_MASK = 0x1ffff;
/** Most pages the id scheme can address (32 GiB of 1 MiB pages, one id reserved as NONE). */
export const MAX_PAGES = 32767;

// u32 field indexes within the header
export const F_HNEXT = 0; // next item in the hash bucket chain (or free-list link)
export const F_PREV = 1; // LRU towards head
export const F_NEXT = 2; // LRU towards tail
export const F_TIME = 3; // unix seconds of the last access/update
export const F_EXPTIME = 4; // absolute unix seconds, 0 = never
export const F_NBYTES = 5; // value length
export const F_META = 6; // keylen | clsid << 8 | iflags << 16 | M_* layout bits | hash tag
export const F_CAS_LO = 7;
export const F_CAS_HI = 8;

export const HEADER_BYTES = 36;

// iflags (META bits 16-23)
export const IF_LINKED = 1;
export const IF_FETCHED = 2;
export const IF_WARM = 4; // on its class's WARM list (lru-segment.ts); neither bit: COLD
export const IF_STALE = 8; // meta: invalidated item
export const IF_WIN_SENT = 16; // meta: a client already got the recache token
export const IF_ACTIVE = 32; // fetched twice or more
export const IF_KEY_BINARY = 64; // meta: the key was sent base64-encoded (`b`), replies re-encode it
export const IF_HOT = 128; // on its class's HOT list (lru-segment.ts)

// layout bits (META bits 24-31), set when the chunks are allocated (or an item is rewritten in place)
/** 2 bytes of client flags (little-endian) follow the key: flags 1-0xffff. */
export const M_FLAGS16 = 1 << 24;
/** 4 bytes of client flags (little-endian) follow the key: flags over 0xffff. */
export const M_FLAGS32 = 1 << 25;
/** Either: the flags are not 0. Without both bits the flags are 0 and take no bytes. */
export const M_FLAGS = M_FLAGS16 | M_FLAGS32;
/** The value spans continuation chunks (their ids follow the key and flags in the head chunk). */
export const M_CHAINED = 1 << 26;
/**
 * META bits 27-31: the top 5 bits of the key's hash, set when the index links the item, so a
 * chain walk passes over 31 in 32 other keys without reading their bytes.
 */
export const M_HASH_TAG = 0xf8000000;
/** META bits that an item keeps when its item flags are rewritten: keylen, class, layout. */
export const META_KEPT = 0xff00ffff;

/** Bytes of client flags stored after the key: 0, 2 (M_FLAGS16) or 4 (M_FLAGS32), no branch. */
export const flagBytes = (meta: number): number => (meta >>> 23) & 6;

/** The layout bit for client flags `flags` (a u32): none for 0, 2 bytes up to 0xffff, else 4. */
export const flagLayout = (flags: number): number => (flags === 0 ? 0 : flags <= 0xffff ? M_FLAGS16 : M_FLAGS32);

/** Client flags into the bytes after the key, in the width the layout bits of `meta` give. */
export function writeFlags(view: DataView, at: number, meta: number, flags: number): void {
  if ((meta & M_FLAGS16) !== 0) view.setUint16(at, flags, true);
  else if ((meta & M_FLAGS32) !== 0) view.setUint32(at, flags >>> 0, true);
}

export const pageOf = (id: ItemId): number => id >>> PAGE_SHIFT;
export const off32Of = (id: ItemId): number => (id & OFF_MASK) << 1;
export const byteOffOf = (id: ItemId): number => (id & OFF_MASK) << 3;
export const makeId = (page: number, byteOff: number): ItemId => ((page << PAGE_SHIFT) | (byteOff >>> 3)) >>> 0;

/**
 * The size memcached charges an item: its header, the key plus NUL, the value plus "\r\n",
 * 4 bytes of client flags when they are not 0, and 8 bytes of CAS when CAS is on. The -I
 * limit and the `bytes` stat use this figure so limits match memcached to the byte.
 */
export function memcachedItemSize(keyLen: number, valueLen: number, useCas: boolean, flags = 0): number {
  return 48 + keyLen + 1 + valueLen + 2 + (useCas ? 8 : 0) + (flags !== 0 ? 4 : 0);
}

/** Bytes an item needs in one chunk: header, key, client flags (0, 2 or 4 bytes), value. */
export function chunkBytes(keyLen: number, valueLen: number, flags: number): number {
  return HEADER_BYTES + keyLen + flagBytes(flagLayout(flags >>> 0)) + valueLen;
}

/**
 * Continuation chunks (each chunkMax bytes of value, and a 4-byte id in the head chunk) of an
 * item needing `bytes` (chunkBytes) when chunks hold chunkMax bytes: 0 when it fits one chunk.
 * The count follows from the item's sizes, so no header field stores it.
 */
export function continuationChunks(bytes: number, chunkMax: number): number {
  return bytes <= chunkMax ? 0 : Math.ceil((bytes - chunkMax) / (chunkMax - 4));
}
