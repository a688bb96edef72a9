// The -Y credentials file shared by binary SASL PLAIN and text-protocol authentication:
// lines of `user:password` (memcached's authfile.c format). Read at each attempt, so edits
// apply without a restart.
import fs from 'node:fs';

/**
 * node:crypto's timingSafeEqual, loaded at the first login rather than at startup: a daemon
 * without -Y never needs node:crypto, which costs 0.5-1.3 MiB of RSS once loaded.
 */
let safeEqual: ((a: Uint8Array, b: Uint8Array) => boolean) | null = null;
function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  safeEqual ??= process.getBuiltinModule('node:crypto').timingSafeEqual;
  return safeEqual(a, b);
}

/**
 * Failed logins a connection may make: the failure that reaches this number is answered and
 * the connection closed, so guessing passwords costs a new connection every few tries
 * (memcached never closes; its auth_cmds/auth_errors count the same as ours).
 */
export const AUTH_FAILURE_LIMIT = 3;

/** Whether `user`/`pass` appear in the credentials file; an unreadable file matches nobody. */
export function checkCredentials(authFile: string, user: Uint8Array, pass: Uint8Array): boolean {
  let text: Buffer;
  try {
    text = fs.readFileSync(authFile);
  } catch {
    return false;
  }
  return credentialsMatch(text, Buffer.from(user), Buffer.from(pass));
}

/** Whether any `user:password` line of the file matches (trailing CR ignored). */
export function credentialsMatch(file: Buffer, user: Buffer, pass: Buffer): boolean {
  let ok = false;
  let start = 0;
  while (start < file.length) {
    let end = file.indexOf(10, start);
    if (end < 0) end = file.length;
    let lineEnd = end;
    if (lineEnd > start && file[lineEnd - 1] === 13) lineEnd--;
    const colon = file.indexOf(0x3a, start);
    if (colon >= 0 && colon < lineEnd && colon - start === user.length && file.subarray(start, colon).equals(user)) {
      const p = file.subarray(colon + 1, lineEnd);
      // compare every candidate in constant time for its length
      if (p.length === pass.length && timingSafeEqual(p, pass)) ok = true;
    }
    start = end + 1;
  }
  return ok;
}
