// The shape of a text command handler: it gets the tokenized line and the offset after the
// line's newline, and returns the offset after everything it consumed, NEED_MORE, or CLOSE.
import type { TextSession } from './session.js';
import type { Tokens } from './tokens.js';

export type Handler = (s: TextSession, buf: Buffer, t: Tokens, next: number) => number;

/** The request (e.g. a value block) is not all here yet. */
export const NEED_MORE = -2;

/**
 * Enough replies are pending: stop here and call the handler again on the same line once
 * they are written (a multi-key get that yields between keys).
 */
export const YIELD = -3;

/** memcached's KEY_MAX_LENGTH. */
export const KEY_MAX_LENGTH = 250;
