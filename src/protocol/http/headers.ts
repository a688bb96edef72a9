// The request headers the blob store reads: client flags and TTL, ETags (the item's CAS) for
// conditional requests, and byte ranges. Each parser returns a value or a reason for a 400.
import type { IncomingHttpHeaders } from 'node:http';

/** memcached's exptime rule: a number above 30 days is an absolute unix time. */
const RELATIVE_MAX = 60 * 60 * 24 * 30;

export type Parsed<T> = { value: T; error: null } | { value: null; error: string };

const ok = <T>(value: T): Parsed<T> => ({ value, error: null });
const bad = <T>(error: string): Parsed<T> => ({ value: null, error });

function one(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** X-Memcached-Flags: the 32-bit client flags, decimal (default 0). */
export function parseFlags(h: IncomingHttpHeaders): Parsed<number> {
  const v = one(h, 'x-memcached-flags');
  if (v === undefined) return ok(0);
  if (!/^\d{1,10}$/.test(v.trim()) || Number(v) > 0xffffffff) return bad('X-Memcached-Flags must be a decimal number from 0 to 4294967295');
  return ok(Number(v));
}

/**
 * The exptime to store, as memcached takes it on the wire: X-Memcached-TTL (seconds from
 * now; 0 = never expires) or else Cache-Control: max-age=N; neither = never expires. A TTL
 * longer than memcached's 30-day relative limit is sent as an absolute time.
 */
export function parseTtl(h: IncomingHttpHeaders, now: number): Parsed<number> {
  let seconds: number;
  const v = one(h, 'x-memcached-ttl');
  if (v !== undefined) {
    if (!/^\d{1,10}$/.test(v.trim())) return bad('X-Memcached-TTL must be a number of seconds (0 = never expires)');
    seconds = Number(v);
  } else {
    const m = /(?:^|,)\s*max-age\s*=\s*"?(\d{1,10})"?\s*(?:,|$)/i.exec(one(h, 'cache-control') ?? '');
    if (m === null) return ok(0);
    seconds = Number(m[1]);
  }
  if (seconds === 0) return ok(0);
  return ok(seconds <= RELATIVE_MAX ? seconds : now + seconds);
}

/** An If-Match / If-None-Match value: `*`, or the CASes of its strong ETags (`"123"`). */
export type EtagCondition = { any: true; cases: readonly number[] } | { any: false; cases: readonly number[] };

export function parseEtags(h: IncomingHttpHeaders, name: 'if-match' | 'if-none-match'): Parsed<EtagCondition | null> {
  const v = one(h, name);
  if (v === undefined) return ok(null);
  if (v.trim() === '*') return ok({ any: true, cases: [] });
  const cases: number[] = [];
  for (const part of v.split(',')) {
    // weak ETags (W/"..") compare equal to strong ones for If-None-Match (RFC 9110 13.1.2)
    const m = /^\s*(?:W\/)?"(\d{1,20})"\s*$/.exec(part);
    if (m === null) return bad(`${name} must be * or a list of ETags this server sent ("<number>")`);
    cases.push(Number(m[1]));
  }
  return ok({ any: false, cases });
}

export function etagOf(cas: number): string {
  return `"${cas}"`;
}

/** The byte range asked for, `null` to send everything, or `'unsatisfiable'` (416). */
export function parseRange(h: IncomingHttpHeaders, size: number, etag: string | null): { start: number; end: number } | null | 'unsatisfiable' {
  const v = one(h, 'range');
  if (v === undefined) return null;
  // If-Range with another validator: the client's copy changed, send it whole
  const ifRange = one(h, 'if-range');
  if (ifRange !== undefined && ifRange.trim() !== etag) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(v);
  // several ranges or another unit: RFC 9110 lets a server ignore Range and send 200
  if (m === null) return null;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return null;
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (start >= size) return 'unsatisfiable';
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (end < start) return null;
  return { start, end };
}
