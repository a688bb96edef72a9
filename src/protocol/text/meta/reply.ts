// Pieces of meta replies shared by mg/ms/md/ma/me: return flags (opaque, key), error lines,
// and the limits memcached 1.6.18 puts on meta request lines (proto_text.c).
import type { Output } from '../../output.js';
import type { TextState } from '../handler.js';
import type { Tokens } from '../tokens.js';
import { KEY_MAX_LENGTH } from '../../types.js';
import { R } from '../replies.js';
import { base64Encode } from './base64.js';
import { ERR_FORMAT } from './flags.js';

/** MFLAG_MAX_OPAQUE_LENGTH: an O token (the 'O' included) may be this long. */
export const MAX_OPAQUE = 32;
/** MFLAG_MAX_OPT_LENGTH: more tokens than this (command, key and terminal counted) fail. */
export const MAX_META_TOKENS = 20;

export const ERR_OPAQUE = 'CLIENT_ERROR opaque token too long';
export const ERR_TOO_MANY = 'CLIENT_ERROR options flags too long';
/** mg words it differently from the other meta commands. */
export const ERR_TOO_MANY_MG = 'CLIENT_ERROR options flags are too long';
/** md and ma report any flag parse failure with this one message. */
export const ERR_FLAG = 'CLIENT_ERROR invalid or duplicate flag';

export const CRLF = R.CRLF;
const SPACE = 0x20;

/** memcached's WANT_TOKENS_MIN(ntokens, 3) reply. */
export const ERROR_LINE = R.ERROR;

/**
 * Send an error line, dropping whatever part of the reply was already written since `mark`
 * (from Output.mark()). Errors ignore q (memcached's out_errstring()).
 */
export function fail(s: TextState, mark: number, message: string): void {
  s.out.rewind(mark);
  s.out.ascii(message);
  s.out.raw(CRLF);
}

/** Send an error line; nothing of this reply has been written yet. */
export function error(s: TextState, message: string): void {
  s.out.ascii(message);
  s.out.raw(CRLF);
}

/** True when an O token among the flags is longer than memcached allows. */
export function opaqueTooLong(buf: Buffer, t: Tokens, first: number): boolean {
  for (let i = first; i < t.ntokens - 1; i++) {
    if (buf[t.start[i]!] === 0x4f && t.len[i]! > MAX_OPAQUE) return true;
  }
  return false;
}

/** " O<opaque>": the token copied back as sent. */
export function putOpaque(out: Output, buf: Buffer, t: Tokens, i: number): void {
  const b = out.ensure(1 + t.len[i]!);
  b[out.pos++] = SPACE;
  out.bytes(buf, t.start[i]!, t.len[i]!);
}

/** " k<key>", or " k<base64> b" for a key that travels in base64 (META_KEY). */
export function putKey(out: Output, key: Buffer, off: number, len: number, binary: boolean): void {
  out.ascii(' k');
  if (binary) {
    out.ascii(base64Encode(key, off, len));
    out.ascii(' b');
  } else {
    out.bytes(key, off, len);
  }
}

/** " <c><n>" for a numeric return flag. */
export function putNumber(out: Output, c: string, n: number): void {
  out.ascii(' ');
  out.ascii(c);
  out.decimal(n);
}

/**
 * Echo the O and k flags of a reply that has no item to describe (misses, EX, NF, and md).
 * Returns false when an opaque is too long; the caller then sends ERR_OPAQUE.
 */
export function putOpaqueAndKey(
  out: Output,
  buf: Buffer,
  t: Tokens,
  first: number,
  key: Buffer,
  keyOff: number,
  keyLen: number,
  binary: boolean,
): boolean {
  for (let i = first; i < t.ntokens - 1; i++) {
    const c = buf[t.start[i]!];
    if (c === 0x4f) {
      if (t.len[i]! > MAX_OPAQUE) return false;
      putOpaque(out, buf, t, i);
    } else if (c === 0x6b) {
      putKey(out, key, keyOff, keyLen, binary);
    }
  }
  return true;
}

/**
 * The checks mg, md and ma make before their flags, in memcached's order: too few tokens,
 * key too long, too many tokens. Returns false when it has answered with an error.
 */
export function metaLineOk(s: TextState, t: Tokens, tooMany: string): boolean {
  if (t.ntokens < 3) {
    s.out.raw(ERROR_LINE);
    return false;
  }
  if (t.len[1]! > KEY_MAX_LENGTH) {
    error(s, ERR_FORMAT);
    return false;
  }
  if (t.ntokens > MAX_META_TOKENS) {
    error(s, tooMany);
    return false;
  }
  return true;
}
