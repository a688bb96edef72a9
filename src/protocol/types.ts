// What every protocol encoding shares: the session contract the server drives, the protocol
// descriptors the daemon hands the server, the view of the server a protocol may read (for
// stats) or act on (shutdown, verbosity), and the primitives every encoding uses.
import type { CacheApi } from '../cache/api.js';
import type { Config } from '../config/config.js';
import type { Output } from './output.js';
import type { EventLog } from '../logging/event-log.js';

/** consume() and handler results below zero: close once pending output is written. */
export const CLOSE = -1;

/** A handler's result when the request (a value block, a binary body) is not all here yet. */
export const NEED_MORE = -2;

/** memcached's KEY_MAX_LENGTH, for every protocol (the binary header would allow 64 KiB). */
export const KEY_MAX_LENGTH = 250;

/**
 * The longest request head a protocol lets grow before it closes the connection: memcached
 * lets a get/gets line grow without bound, we stop at this size (listed in
 * test/diff/differences.md). The server sizes read buffers from it.
 */
export const MULTIGET_LINE_LIMIT = 1024 * 1024;

/**
 * What every front tells a client whose change is refused while the journal cannot write
 * (`reason` is the cache's writeRefusal); each wraps it in its own error form.
 */
export function refusalMessage(reason: string): string {
  return `${reason}; writes are refused until it works again`;
}

export interface Session {
  /**
   * Handle every complete request in buf[start, buf.length) and return the offset up to
   * which bytes were consumed (requests not yet whole are left for the next call), or
   * CLOSE to close the connection once pending output is written.
   */
  consume(buf: Buffer, start: number): number;
  /** Total bytes the request at the head of the unconsumed input needs, when known. */
  readonly wantBytes: number;
  /** The connection has closed (state it held, such as an open transaction, is dropped). */
  closed?(): void;
}

/**
 * One wire protocol as the server sees it: the daemon hands the server a list of these
 * (protocol/registry.ts builds it from -B), so the server names no protocol itself.
 */
export interface Protocol {
  /** The protocol's name as -B spells it ('ascii', 'binary'). */
  readonly name: string;
  /** A connection whose first byte is `first` speaks this protocol (memcached's -B auto). */
  claims(first: number): boolean;
  /** The session for a new connection that speaks this protocol. */
  createSession(ctx: SessionContext): Session;
  /** What a connection over -c hears before it is closed, when not memcached's ERROR line. */
  readonly tooManyConnections?: Buffer;
}

/**
 * The protocol a new connection speaks, from the first byte it sent: the first listed that
 * claims the byte, or the first listed when none does (so a list of one protocol takes every
 * connection, as -B ascii and -B binary do). Called once per connection.
 */
export function chooseProtocol(protocols: readonly Protocol[], first: number): Protocol {
  for (const p of protocols) if (p.claims(first)) return p;
  return protocols[0]!;
}

/** buf[off, off+len) begins with the ASCII string `word` (memcached's strncmp on a token). */
export function bytesStartWith(buf: Uint8Array, off: number, len: number, word: string): boolean {
  if (len < word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[off + i] !== word.charCodeAt(i)) return false;
  return true;
}

/** buf[off, off+len) is the ASCII string `word`. */
export function bytesEqual(buf: Uint8Array, off: number, len: number, word: string): boolean {
  return len === word.length && bytesStartWith(buf, off, len, word);
}

export interface ConnInfo {
  readonly id: number;
  readonly address: string;
  readonly state: string;
  readonly secondsSinceLastCommand: number;
}

/** What a protocol can see and do of the server around it. */
export interface ServerInfo {
  readonly pid: number;
  readonly startedAt: number;
  readonly currConnections: number;
  readonly totalConnections: number;
  readonly rejectedConnections: number;
  readonly connectionStructures: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly listenDisabledNum: number;
  readonly connYields: number;
  readonly idleKicks: number;
  readonly acceptingConns: boolean;
  connections(): ConnInfo[];
  /** Stop the daemon (`shutdown`); graceful = SIGUSR1 semantics. */
  shutdown(graceful: boolean): void;
  /** Extra `stats` lines from other parts of the daemon (e.g. snapshots). */
  extraStats(): Array<[string, string]>;
  /** `stats settings` lines. */
  settingsStats(): Array<[string, string]>;
  resetStats(): void;
  /** Start a crawl for expired items now (`lru_crawler crawl`); empty = every class. */
  crawl?(classes: number[]): void;
  /** The events `watch` clients receive (absent: a server with nothing to watch). */
  readonly events?: EventLog;
  /**
   * Make the connection of `ctx` a watcher of the `flags` events (logging/event-flags.ts)
   * once its pending replies are out: 'ok', or 'too_many' at memcached's watcher limit.
   */
  watch?(ctx: SessionContext, flags: number): 'ok' | 'too_many' | 'failed';
}

/** Per-connection state a protocol session works with. */
export interface SessionContext {
  /** The connection's number: `stats conns`, -vv lines and watch events name it (0: none). */
  readonly id?: number;
  readonly cache: CacheApi;
  readonly config: Config;
  readonly server: ServerInfo;
  readonly out: Output;
  /** Set by the session when the connection must close after the pending output. */
  closeAfterWrite: boolean;
  /** Counted by sessions for `stats conns`/idle handling. */
  lastCommandAt: number;
  /**
   * Requests the session may still handle before it stops and lets other connections run
   * (memcached's -R, reqs_per_event): the server sets it before each batch of input, the
   * session counts it down.
   */
  requestBudget: number;
}
