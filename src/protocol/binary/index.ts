// The binary protocol's entry point for the server: a session factory.
import type { Session, SessionContext } from '../types.js';
import { BinarySession } from './session.js';

export { BinarySession } from './session.js';

export function createBinarySession(ctx: SessionContext): Session {
  return new BinarySession(ctx);
}
