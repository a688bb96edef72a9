// The text protocol (classic and meta commands) as the server receives it: a descriptor.
import type { Protocol, SessionContext, Session } from '../types.js';
import { TextSession } from './session.js';

export { TextSession } from './session.js';

/**
 * memcached's ascii protocol. It claims any first byte: with -B auto it is listed after
 * binary, which claims only its magic byte (memcached's auto-negotiate).
 */
export const textProtocol: Protocol = {
  name: 'ascii',
  claims: () => true,
  createSession: (ctx: SessionContext): Session => new TextSession(ctx),
};
