// The shape of a text command handler: it gets the tokenized line and the offset after the
// line's newline, and returns the offset after everything it consumed, NEED_MORE, or CLOSE
// (both in ../types.ts). Also the session state handlers work on (TextSession implements it,
// so handlers need not import the session that imports them) and the limits every text
// command line shares.
import type { Output } from '../output.js';
import type { SessionContext } from '../types.js';
import type { Tokens } from './tokens.js';
import type { EventLog } from '../../logging/event-log.js';

/** What a text command handler sees of its session (session.ts's TextSession). */
export interface TextState {
  readonly ctx: SessionContext;
  readonly out: Output;
  /** Total bytes the request at the head of the unconsumed input needs, when known. */
  wantBytes: number;
  /** The current command asked for noreply. */
  noreply: boolean;
  /** Bytes of a rejected value still to be discarded (memcached's conn_swallow). */
  swallow: number;
  /** After `watch`, input is ignored (memcached's conn_watch). */
  watching: boolean;
  /** A get that yielded goes on from this offset past its line's first token (0: none). */
  resumeAt: number;
  /** A metadump or cachedump sent in slices (dump.ts): its handler is called again until done. */
  dump: DumpInProgress | null;
  /** Where fetch and mutation events go (`watch`): test `events.flags` before reporting. */
  readonly events: EventLog;
  /** The connection's number in -vv lines and events. */
  readonly fd: number;
  /** memcached's set_noreply_maybe(): the last token is `noreply`. */
  checkNoreply(buf: Buffer): boolean;
  /** Send a fixed reply unless the command asked for noreply. */
  reply(line: Buffer): void;
  /** Send a reply line built at run time (no CRLF in `s`) unless noreply. */
  replyText(s: string): void;
}

export type Handler = (s: TextState, buf: Buffer, t: Tokens, next: number) => number;

/**
 * Enough replies are pending: stop here and call the handler again on the same line once
 * they are written (a multi-key get that yields between keys).
 */
export const YIELD = -3;

/** memcached closes a connection with no newline in this many bytes (unless it is a get). */
export const LINE_LIMIT = 2048;

/** C's INT_MAX: memcached parses a value length into an int. */
export const INT_MAX = 2147483647;

/** A dump in progress, as the session holds it (dump.ts's TextDump implements it). */
export interface DumpInProgress {
  /** Send the next slice; true when the dump is done. */
  slice(s: TextState): boolean;
}
