// What a binary command (commands.ts, stats.ts) sees of its session: session.ts's
// BinarySession implements it, so the commands need not import the session that runs them.
import type { CacheApi } from '../../cache/api.js';
import type { Output } from '../output.js';
import type { SessionContext } from '../types.js';
import type { Header } from './header.js';
import type { Status } from './opcodes.js';
import type { EventLog } from '../../logging/event-log.js';

export interface BinaryState {
  readonly ctx: SessionContext;
  readonly out: Output;
  readonly cache: CacheApi;
  /** The header of the request being handled. */
  readonly req: Header;
  /** Total bytes the request at the head of the unconsumed input needs, when known. */
  wantBytes: number;
  /** The loud command of the request being handled (GetQ is handled as Get, quietly). */
  cmd: number;
  /** The request is a quiet variant. */
  quiet: boolean;
  /** SASL: authenticated on this connection (only consulted with -S). */
  authenticated: boolean;
  /** SASL: a PLAIN exchange was started without an initial response and awaits a step. */
  saslAwaitingStep: boolean;
  /** SASL exchanges that failed on this connection (AUTH_FAILURE_LIMIT of them close it). */
  authFailures: number;
  /** Where fetch and mutation events go (`watch`): test `events.flags` before reporting. */
  readonly events: EventLog;
  /** The connection's number in -vv lines and events. */
  readonly fd: number;
  /** Discard the next n bytes of input (a refused body). */
  swallow(n: number): void;
  /** Start a reply: the response header for the current request, with room for the body. */
  head(status: number, extLen: number, keyLen: number, bodyLen: number, cas: number, room?: number): Buffer;
  /** A success reply with an optional value body, unless the command is quiet. */
  success(cas: number, value?: Uint8Array): void;
  /** An error reply (sent even for quiet commands), with memcached's text for the status. */
  error(status: Status, text?: Uint8Array): void;
  /** memcached's handle_binary_protocol_error(): Invalid arguments, then close. */
  protocolError(): number;
}
