// The memcached key of a /store/<location> or /set, /get key: the percent-decoded bytes, as
// they are, when memcached could hold them as a key; otherwise a reason for a 400. No
// mapping (hashing, escaping): a key seen over HTTP is the same key on the text port.
import { KEY_MAX_LENGTH } from '../types.js';

export type KeyResult = { key: Buffer; error: null } | { key: null; error: string };

/** Decode a percent-encoded path part (`+` stays a plus, as in a URL path). */
export function pathKey(encoded: string): KeyResult {
  let decoded: string;
  try {
    decoded = decodeURIComponent(encoded);
  } catch {
    return { key: null, error: 'the location is not valid percent-encoded UTF-8' };
  }
  return checkKey(Buffer.from(decoded, 'utf8'));
}

/**
 * memcached's key rule (doc/protocol.txt, Keys): 1 to 250 bytes, no space and no control
 * character (bytes 0..32 and 127), since the text protocol splits its lines on them.
 */
export function checkKey(key: Buffer): KeyResult {
  if (key.length === 0) return { key: null, error: 'empty key' };
  if (key.length > KEY_MAX_LENGTH) return { key: null, error: `key of ${key.length} bytes; memcached keys are at most ${KEY_MAX_LENGTH} bytes` };
  for (let i = 0; i < key.length; i++) {
    const b = key[i]!;
    if (b <= 32 || b === 127) return { key: null, error: 'keys may not contain spaces or control characters' };
  }
  return { key, error: null };
}
