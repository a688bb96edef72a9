// Layout of an item inside a slab chunk. An item id is (page << 17) | (byteOffset >> 3),
// so a field is read as pages32[id >>> 17][((id & 0x1ffff) << 1) + FIELD] with no lookup.
// The 48-byte header matches memcached's item size so slab class sizes come out the same.

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
export const F_FLAGS = 5; // client flags
export const F_NBYTES = 6; // value length
export const F_META = 7; // keylen | clsid << 8 | iflags << 16
export const F_CAS_LO = 8;
export const F_CAS_HI = 9;
export const F_HASH = 10; // full 32-bit hash of the key
export const F_NCHUNKS = 11; // continuation chunks of a chained item (0 = not chained)

export const HEADER_BYTES = 48;

// iflags
export const IF_LINKED = 1;
export const IF_FETCHED = 2;
// a chained item is one whose F_NCHUNKS is not 0 (4 was CHAINED once)
export const IF_WARM = 4; // on its class's WARM list (lru-segment.ts); neither bit: COLD
export const IF_STALE = 8; // meta: invalidated item
export const IF_WIN_SENT = 16; // meta: a client already got the recache token
export const IF_ACTIVE = 32; // fetched twice or more
export const IF_KEY_BINARY = 64; // meta: the key was sent base64-encoded (`b`), replies re-encode it
export const IF_HOT = 128; // on its class's HOT list (lru-segment.ts)

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
