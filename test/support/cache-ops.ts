// Calling the cache API from tests with plain arguments: one store helper instead of a
// request object filled by hand in every file.
import { OpStatus, StoreMode, StoreRequest, type Outcome } from '../../src/cache/api.js';
import type { Cache } from '../../src/cache/cache.js';

/** The status of the last storeValue() call (its new CAS). */
export const lastStatus = new OpStatus();

/** cache.store() of `value` under `key` (strings are latin1); returns the outcome. */
export function storeValue(
  c: Cache,
  key: Buffer | string,
  value: Buffer | string,
  opts: { mode?: StoreMode; flags?: number; exptime?: number; cas?: number; vLen?: number } = {},
): Outcome {
  const k = typeof key === 'string' ? Buffer.from(key, 'latin1') : key;
  const v = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  const r = new StoreRequest();
  r.mode = opts.mode ?? StoreMode.Set;
  r.key = k;
  r.kLen = k.length;
  r.flags = opts.flags ?? 0;
  r.exptime = opts.exptime ?? 0;
  r.value = v;
  r.vLen = opts.vLen ?? v.length;
  r.cas = opts.cas ?? 0;
  return c.store(r, lastStatus);
}
