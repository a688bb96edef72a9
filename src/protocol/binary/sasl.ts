// SASL PLAIN for the binary protocol (-S), checked against the -Y credentials file of
// `user:password` lines. memcached delegates to Cyrus SASL; its built-in password database
// uses the same line format, and, like it, the file is read at each attempt so edits apply
// without a restart.
import { checkCredentials, credentialsMatch } from '../auth-file.js';

export { credentialsMatch };

/** memcached's MAX_SASL_MECH_LEN: a longer mechanism name is Invalid arguments. */
export const MAX_SASL_MECH_LEN = 32;

/** The mechanisms listed by SASL list mechs. */
export const SASL_MECHS = Buffer.from('PLAIN', 'latin1');

const PLAIN = Buffer.from('PLAIN', 'latin1');

export function isPlain(buf: Uint8Array, off: number, len: number): boolean {
  if (len !== PLAIN.length) return false;
  for (let i = 0; i < len; i++) if (buf[off + i] !== PLAIN[i]) return false;
  return true;
}

/**
 * A PLAIN message (RFC 4616: authzid NUL authcid NUL password) checked against the
 * credentials file. An authzid, when given, must name the same user.
 */
export function checkPlain(authFile: string | null, msg: Uint8Array, off: number, len: number): boolean {
  if (authFile === null) return false;
  const m = Buffer.from(msg.buffer, msg.byteOffset + off, len);
  const a = m.indexOf(0);
  const b = a < 0 ? -1 : m.indexOf(0, a + 1);
  if (a < 0 || b < 0 || m.indexOf(0, b + 1) >= 0) return false;
  const authz = m.subarray(0, a);
  const user = m.subarray(a + 1, b);
  const pass = m.subarray(b + 1);
  if (user.length === 0) return false;
  if (authz.length > 0 && !authz.equals(user)) return false;
  return checkCredentials(authFile, user, pass);
}
