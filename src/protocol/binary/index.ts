// The binary protocol as the server receives it: a descriptor.
import type { Protocol, Session, SessionContext } from '../types.js';
import { REQ_MAGIC } from './opcodes.js';
import { BinarySession } from './session.js';

export { BinarySession } from './session.js';

/** memcached's binary protocol: every request starts with the magic byte 0x80. */
export const binaryProtocol: Protocol = {
  name: 'binary',
  claims: (first: number): boolean => first === REQ_MAGIC,
  createSession: (ctx: SessionContext): Session => new BinarySession(ctx),
};
