// The shape of a text command handler: it gets the tokenized line and the offset after the
// line's newline, and returns the offset after everything it consumed, NEED_MORE, or CLOSE
// (both in ../types.ts). Also the limits every text command line shares.
import type { TextSession } from './session.js';
import type { Tokens } from './tokens.js';

export type Handler = (s: TextSession, buf: Buffer, t: Tokens, next: number) => number;

/**
 * Enough replies are pending: stop here and call the handler again on the same line once
 * they are written (a multi-key get that yields between keys).
 */
export const YIELD = -3;

/** memcached closes a connection with no newline in this many bytes (unless it is a get). */
export const LINE_LIMIT = 2048;

/** C's INT_MAX: memcached parses a value length into an int. */
export const INT_MAX = 2147483647;
