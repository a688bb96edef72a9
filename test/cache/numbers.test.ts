// memcached's number rules (safe_strtoull / safe_strtol of 1.6.18) on bytes.
import { describe, expect, it } from 'vitest';
import { parseInt32, parseU64 } from '../../src/cache/numbers.js';

const u64 = (s: string): bigint | null => parseU64(Buffer.from(s, 'latin1'), 0, s.length);
const i32 = (s: string): number | null => parseInt32(Buffer.from(s, 'latin1'), 0, s.length);

describe('parseU64 (safe_strtoull)', () => {
  it('accepts what strtoull accepts with memcached end checks', () => {
    expect(u64('0')).toBe(0n);
    expect(u64('18446744073709551615')).toBe(18446744073709551615n);
    expect(u64(' 12')).toBe(12n);
    expect(u64('12 ')).toBe(12n);
    expect(u64('+5')).toBe(5n);
    expect(u64('-0')).toBe(0n);
    expect(u64('123456789012345678')).toBe(123456789012345678n);
  });
  it('refuses overflow, junk, no digits and negatives that wrap', () => {
    expect(u64('18446744073709551616')).toBeNull();
    expect(u64('12a')).toBeNull();
    expect(u64('')).toBeNull();
    expect(u64(' ')).toBeNull();
    expect(u64('-1')).toBeNull();
  });
});

describe('parseInt32 (safe_strtol into int32)', () => {
  it('reads small numbers and truncates past int32 as memcached 1.6.18 does', () => {
    expect(i32('-1')).toBe(-1);
    expect(i32('2147483647')).toBe(2147483647);
    expect(i32('2147483648')).toBe(-2147483648);
    expect(i32('4294967297')).toBe(1);
    expect(i32('0000000000005')).toBe(5);
  });
  it('refuses long overflow and junk', () => {
    expect(i32('9223372036854775808')).toBeNull();
    expect(i32('abc')).toBeNull();
    expect(i32('1x')).toBeNull();
    expect(i32('')).toBeNull();
  });
});
