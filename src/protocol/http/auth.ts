// HTTP Basic auth with the -Y credentials file (the same user:password lines text and binary
// clients use); every request needs it when -Y or -S is given.
import type { IncomingMessage } from 'node:http';
import { checkCredentials } from '../auth-file.js';

export const CHALLENGE = 'Basic realm="memcached-ts", charset="UTF-8"';

/** Whether the request carries credentials the file lists. */
export function authorized(authFile: string, req: IncomingMessage): boolean {
  const m = /^\s*Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
  if (m === null) return false;
  const decoded = Buffer.from(m[1]!, 'base64');
  const colon = decoded.indexOf(0x3a);
  if (colon < 0) return false;
  return checkCredentials(authFile, decoded.subarray(0, colon), decoded.subarray(colon + 1));
}
