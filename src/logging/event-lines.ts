// The text of each log line a watcher receives, byte for byte as memcached 1.6.18's logger.c
// renders them (_logger_parse_ige, _ise, _ee, _cne, _cce and the text entries), without the
// `ts=... gid=...` head that EventLog puts in front.

/** Characters memcached's uriencode() leaves as they are: alphanumerics and `-._~`. */
const PLAIN = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  PLAIN[c] = /[A-Za-z0-9\-._~]/.test(ch) ? 1 : 0;
}
const HEX = '0123456789ABCDEF';

/** A key as memcached's uriencode() writes it: every other byte as %XX (upper-case hex). */
export function uriEncode(key: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = off; i < off + len; i++) {
    const c = key[i]!;
    s += PLAIN[c] === 1 ? String.fromCharCode(c) : `%${HEX[c >> 4]}${HEX[c & 15]}`;
  }
  return s;
}

/** item_get's status words, by memcached's was_found value. */
export const GetStatus = { NotFound: 0, Found: 1, Flushed: 2, Expired: 3 } as const;
export type GetStatus = (typeof GetStatus)[keyof typeof GetStatus];
const GET_STATUS = ['not_found', 'found', 'flushed', 'expired'];

/** item_store's status words, by memcached's enum store_item_type. */
export const StoreStatus = { NotStored: 0, Stored: 1, Exists: 2, NotFound: 3, TooLarge: 4, NoMemory: 5 } as const;
export type StoreStatus = (typeof StoreStatus)[keyof typeof StoreStatus];
const STORE_STATUS = ['not_stored', 'stored', 'exists', 'not_found', 'too_large', 'no_memory'];

/** item_store's command words, by memcached's NREAD_* numbers (1 add ... 6 cas). */
const STORE_CMD = ['null', 'add', 'set', 'replace', 'append', 'prepend', 'cas'];

export function itemGetLine(status: GetStatus, key: string, clsid: number, cfd: number, size: number): string {
  return `type=item_get key=${key} status=${GET_STATUS[status]} clsid=${clsid} cfd=${cfd} size=${size}\n`;
}

/** `cmd` is memcached's NREAD_* number (1 add, 2 set, 3 replace, 4 append, 5 prepend, 6 cas). */
export function itemStoreLine(status: StoreStatus, cmd: number, key: string, ttl: number, clsid: number, cfd: number, size: number): string {
  // ttl is printed as an unsigned 32-bit number (%u)
  return `type=item_store key=${key} status=${STORE_STATUS[status]} cmd=${STORE_CMD[cmd] ?? 'na'} ttl=${ttl >>> 0} clsid=${clsid} cfd=${cfd} size=${size}\n`;
}

/** `ttl` is the seconds left, or -1 for an item that never expires; `la` seconds since last access. */
export function evictionLine(key: string, fetched: boolean, ttl: number, la: number, clsid: number, size: number): string {
  return `type=eviction key=${key} fetch=${fetched ? 'yes' : 'no'} ttl=${ttl} la=${la} clsid=${clsid} size=${size}\n`;
}

/** Where a connection came from, as the conn_new and conn_close lines show it. */
export interface Peer {
  /** The remote address, or 'unix' (with port 0) on a unix socket. */
  readonly ip: string;
  readonly port: number;
  readonly transport: 'tcp' | 'local';
}

export const CloseReason = { Error: 0, Normal: 1, IdleTimeout: 2, Shutdown: 3 } as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];
const CLOSE_REASON = ['error', 'normal', 'idle_timeout', 'shutdown'];

export function connNewLine(peer: Peer, cfd: number): string {
  return `type=conn_new rip=${peer.ip} rport=${peer.port} transport=${peer.transport} cfd=${cfd}\n`;
}

export function connCloseLine(peer: Peer, reason: CloseReason, cfd: number): string {
  return `type=conn_close rip=${peer.ip} rport=${peer.port} transport=${peer.transport} reason=${CLOSE_REASON[reason]} cfd=${cfd}\n`;
}

export function slabMoveLine(src: number, dst: number): string {
  return `type=slab_move src=${src} dst=${dst}\n`;
}
