// The meta flag parser shared by mg/ms/md/ma, after memcached 1.6.18's _meta_flag_preparse():
// one pass over the flag tokens that records what each flag asks for, rejects a repeated or
// unknown flag at once, and for a bad argument notes the error but keeps going, so the last
// bad argument decides the message (protocol.txt, "Meta Commands").
import { parseInt32, parseU64 } from '../../../cache/numbers.js';
import { parseFlags } from '../storage.js';
import type { Tokens } from '../tokens.js';
import { base64Decode } from './base64.js';

export const ERR_DUPLICATE = 'CLIENT_ERROR duplicate flag';
export const ERR_INVALID = 'CLIENT_ERROR invalid flag';
export const ERR_BAD_TOKEN = 'CLIENT_ERROR bad token in command line format';
export const ERR_DECODE_KEY = 'CLIENT_ERROR error decoding key';
export const ERR_M_LENGTH = 'CLIENT_ERROR incorrect length for M token';
export const ERR_INITIAL = 'CLIENT_ERROR invalid numeric initial value';
export const ERR_DELTA = 'CLIENT_ERROR invalid numeric delta value';
/** The message a command starts with; a bad F token leaves it in place. */
export const ERR_FORMAT = 'CLIENT_ERROR bad command line format';

/** A C token above every CAS this daemon can issue (2^53): it matches nothing. */
export const CAS_UNMATCHABLE = Number.POSITIVE_INFINITY;

/** What the flags of one meta request asked for. Reused across requests (see parseMetaFlags). */
export class MetaFlags {
  /** The key to use: the request's bytes, or the base64-decoded copy in `keyScratch`. */
  key: Buffer = Buffer.alloc(0);
  keyOff = 0;
  keyLen = 0;
  /** `b`: the key arrived base64-encoded. */
  keyBinary = false;
  /** `q` */
  noReply = false;
  /** `u` */
  noUpdate = false;
  /** h, l, N, T or R: memcached fetches under the item lock and bumps after the reply. */
  locked = false;
  /** `N` */
  vivify = false;
  /** `v` */
  value = false;
  /** `I` */
  invalidate = false;
  /** `C` was given; `cas` is its value (CAS_UNMATCHABLE above 2^53). */
  hasCas = false;
  cas = 0;
  /** `T` was given; `ttl` is its exptime as sent (int32, may be negative). */
  newTtl = false;
  ttl = 0;
  /** `N` exptime as sent. */
  vivifyTtl = 0;
  /** `R` exptime as sent. */
  recacheTtl = 0;
  /** `F` client flags. */
  clientFlags = 0;
  /** `M` mode character code, 0 when none. */
  mode = 0;
  /** `D` (ma), default 1. */
  delta = 1n;
  /** `J` (ma), default 0. */
  initial = 0n;
  readonly #seen = new Uint8Array(128);
  readonly keyScratch = Buffer.allocUnsafe(256);

  reset(buf: Buffer, keyOff: number, keyLen: number): void {
    this.key = buf;
    this.keyOff = keyOff;
    this.keyLen = keyLen;
    this.keyBinary = false;
    this.noReply = false;
    this.noUpdate = false;
    this.locked = false;
    this.vivify = false;
    this.value = false;
    this.invalidate = false;
    this.hasCas = false;
    this.cas = 0;
    this.newTtl = false;
    this.ttl = 0;
    this.vivifyTtl = 0;
    this.recacheTtl = 0;
    this.clientFlags = 0;
    this.mode = 0;
    this.delta = 1n;
    this.initial = 0n;
    this.#seen.fill(0);
  }

  /** Mark flag character c seen; false when it was seen before (or is not ASCII). */
  see(c: number): boolean {
    if (c >= 127 || this.#seen[c] !== 0) return false;
    this.#seen[c] = 1;
    return true;
  }
}

/** memcached's safe_strtol() with its int32 truncation (one implementation, in the cache). */
export const parseLongTrunc32 = parseInt32;


/**
 * Parse the flag tokens t[first .. ntokens-2] of a meta command into f (which must have been
 * reset with the request key). Returns null, or the error message memcached would pick.
 * The `b` flag decodes the key into f.keyScratch; the request buffer is never written, so a
 * request parsed again after more bytes arrive sees the same input.
 */
export function parseMetaFlags(buf: Buffer, t: Tokens, first: number, f: MetaFlags): string | null {
  let err: string | null = null;
  const last = t.ntokens - 1;
  for (let i = first; i < last; i++) {
    const st = t.start[i]!;
    const len = t.len[i]!;
    const c = buf[st]!;
    if (!f.see(c)) return ERR_DUPLICATE;
    const argOff = st + 1;
    const argLen = len - 1;
    switch (c) {
      case 0x62: {
        // b
        const n = base64Decode(buf, f.keyOff, f.keyLen, f.keyScratch);
        if (n === 0) err = ERR_DECODE_KEY;
        f.key = f.keyScratch;
        f.keyOff = 0;
        f.keyLen = n;
        f.keyBinary = true;
        break;
      }
      case 0x4e: {
        // N
        f.locked = true;
        f.vivify = true;
        const v = parseLongTrunc32(buf, argOff, argLen);
        if (v === null) err = ERR_BAD_TOKEN;
        else f.vivifyTtl = v;
        break;
      }
      case 0x54: {
        // T
        f.locked = true;
        const v = parseLongTrunc32(buf, argOff, argLen);
        if (v === null) err = ERR_BAD_TOKEN;
        else {
          f.ttl = v;
          f.newTtl = true;
        }
        break;
      }
      case 0x52: {
        // R
        f.locked = true;
        const v = parseLongTrunc32(buf, argOff, argLen);
        if (v === null) err = ERR_BAD_TOKEN;
        else f.recacheTtl = v;
        break;
      }
      case 0x6c: // l
      case 0x68: // h
        f.locked = true;
        break;
      case 0x4f: // O
      case 0x50: // P
      case 0x4c: // L
      case 0x6b: // k
      case 0x73: // s
      case 0x74: // t
      case 0x63: // c
      case 0x66: // f
        break;
      case 0x76: // v
        f.value = true;
        break;
      case 0x75: // u
        f.noUpdate = true;
        break;
      case 0x71: // q
        f.noReply = true;
        break;
      case 0x46: {
        // F: a bad value fails the request with the command's default message
        const v = parseFlags(buf, argOff, argLen);
        if (v < 0) err ??= ERR_FORMAT;
        else f.clientFlags = v;
        break;
      }
      case 0x43: {
        // C
        const v = parseU64(buf, argOff, argLen);
        if (v === null) err = ERR_BAD_TOKEN;
        else {
          f.hasCas = true;
          f.cas = v > 0x1fffffffffffffn ? CAS_UNMATCHABLE : Number(v);
        }
        break;
      }
      case 0x4d: // M
        if (len !== 2) err = ERR_M_LENGTH;
        else f.mode = buf[argOff]!;
        break;
      case 0x4a: {
        // J
        const v = parseU64(buf, argOff, argLen);
        if (v === null) err = ERR_INITIAL;
        else f.initial = v;
        break;
      }
      case 0x44: {
        // D
        const v = parseU64(buf, argOff, argLen);
        if (v === null) err = ERR_DELTA;
        else f.delta = v;
        break;
      }
      case 0x49: // I
        f.invalidate = true;
        break;
      default:
        return ERR_INVALID;
    }
  }
  return err;
}
