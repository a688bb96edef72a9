// The JSON-lines front as the server receives it: a descriptor for the --json-port listener.
import type { Protocol, Session, SessionContext } from '../types.js';
import { JsonlSession } from './session.js';
import { JsonlStats } from './stats.js';

export { JsonlStats } from './stats.js';

/** JSON-lines and plain command lines; it takes every connection of its own port. */
export function jsonlProtocol(stats: JsonlStats = new JsonlStats()): Protocol {
  return {
    name: 'jsonl',
    claims: () => true,
    createSession: (ctx: SessionContext): Session => new JsonlSession(ctx, stats),
    tooManyConnections: Buffer.from('{"status": "ERROR", "message": "too many open connections (-c)"}\n'),
  };
}
