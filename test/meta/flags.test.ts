// The meta flag parser, base64 key decoding and safe_strtol truncation on their own.
import { describe, expect, it } from 'vitest';
import { Tokens } from '../../src/protocol/text/tokens.js';
import { base64Decode, base64Encode } from '../../src/protocol/text/meta/base64.js';
import {
  CAS_UNMATCHABLE,
  ERR_BAD_TOKEN,
  ERR_DECODE_KEY,
  ERR_DELTA,
  ERR_DUPLICATE,
  ERR_FORMAT,
  ERR_INITIAL,
  ERR_INVALID,
  ERR_M_LENGTH,
  MetaFlags,
  parseLongTrunc32,
  parseMetaFlags,
} from '../../src/protocol/text/meta/flags.js';

function parse(line: string, first = 2): { f: MetaFlags; err: string | null; key: string } {
  const buf = Buffer.from(line, 'latin1');
  const t = new Tokens();
  t.tokenize(buf, 0, buf.length);
  const f = new MetaFlags();
  f.reset(buf, t.start[1]!, t.len[1]!);
  const err = parseMetaFlags(buf, t, first, f);
  return { f, err, key: f.key.toString('latin1', f.keyOff, f.keyOff + f.keyLen) };
}

describe('parseMetaFlags', () => {
  it('records what each flag asks for', () => {
    const { f, err } = parse('mg k v q u k s t c f O123 P L');
    expect(err).toBeNull();
    expect(f).toMatchObject({ value: true, noReply: true, noUpdate: true, locked: false, vivify: false });
  });

  it('h, l, N, T and R take the item lock; N vivifies', () => {
    for (const flag of ['h', 'l', 'N5', 'T5', 'R5']) expect(parse(`mg k ${flag}`).f.locked).toBe(true);
    const { f } = parse('mg k N30 T-1 R7');
    expect(f).toMatchObject({ vivify: true, vivifyTtl: 30, newTtl: true, ttl: -1, recacheTtl: 7 });
  });

  it('numbers: F is uint32 (strtoul truncated), C/D/J are u64, M one character', () => {
    expect(parse('ms k 1 F4294967295', 3).f.clientFlags).toBe(4294967295);
    expect(parse('ms k 1 F4294967296', 3).f.clientFlags).toBe(0);
    expect(parse('ms k 1 C123 MA', 3).f).toMatchObject({ hasCas: true, cas: 123, mode: 0x41 });
    expect(parse('ms k 1 C18446744073709551615', 3).f.cas).toBe(CAS_UNMATCHABLE);
    expect(parse('ma k D18446744073709551615 J7').f).toMatchObject({ delta: 18446744073709551615n, initial: 7n });
    expect(parse('ma k').f).toMatchObject({ delta: 1n, initial: 0n, hasCas: false });
  });

  it('a repeated or unknown flag fails at once, whatever came before', () => {
    expect(parse('mg k v v').err).toBe(ERR_DUPLICATE);
    expect(parse('mg k O1 Oabc').err).toBe(ERR_DUPLICATE);
    expect(parse('mg k Tx zz').err).toBe(ERR_INVALID);
    expect(parse('mg k 5').err).toBe(ERR_INVALID);
    expect(parse('mg k E1').err).toBe(ERR_INVALID); // E is not in 1.6.18
    expect(parse('mg k x').err).toBe(ERR_INVALID);
    expect(parse('mg k \x80').err).toBe(ERR_DUPLICATE); // memcached: o >= 127
    expect(parse('mg k \x7f').err).toBe(ERR_DUPLICATE);
  });

  it('bad arguments: the last one decides the message', () => {
    expect(parse('mg k T').err).toBe(ERR_BAD_TOKEN);
    expect(parse('mg k Tabc').err).toBe(ERR_BAD_TOKEN);
    expect(parse('mg k N1x').err).toBe(ERR_BAD_TOKEN);
    expect(parse('mg k C-1').err).toBe(ERR_BAD_TOKEN);
    expect(parse('ma k Dx').err).toBe(ERR_DELTA);
    expect(parse('ma k J-5').err).toBe(ERR_INITIAL);
    expect(parse('ms k 1 MSS', 3).err).toBe(ERR_M_LENGTH);
    expect(parse('ms k 1 Fx', 3).err).toBe(ERR_FORMAT);
    expect(parse('ms k 1 Tx Fx', 3).err).toBe(ERR_BAD_TOKEN);
    expect(parse('ms k 1 Fx Tx', 3).err).toBe(ERR_BAD_TOKEN);
    expect(parse('mg Zm9 b Tx').err).toBe(ERR_BAD_TOKEN);
    expect(parse('mg Zm9 Tx b').err).toBe(ERR_DECODE_KEY);
  });

  it('b decodes the key into scratch and leaves the request bytes alone', () => {
    const r = parse('mg Zm9vYmFy b k');
    expect(r.err).toBeNull();
    expect(r.key).toBe('foobar');
    expect(r.f.keyBinary).toBe(true);
    expect(parse('mg Zm9 b').err).toBe(ERR_DECODE_KEY);
  });
});

describe('base64 as memcached decodes it', () => {
  const dec = (s: string): string | null => {
    const out = Buffer.alloc(300);
    const n = base64Decode(Buffer.from(s, 'latin1'), 0, s.length, out);
    return n === 0 ? null : out.toString('latin1', 0, n);
  };
  it('standard input', () => {
    expect(dec('Zm9vYmFy')).toBe('foobar');
    expect(dec('Zm9vYg==')).toBe('foob');
    expect(dec('Zm9vYmE=')).toBe('fooba');
    expect(dec('AAEC')).toBe('\x00\x01\x02');
  });
  it('skips bytes outside the alphabet and stops after padding', () => {
    expect(dec('Zm9v!')).toBe('foo');
    expect(dec('Z.m9v')).toBe('foo');
    expect(dec('Zm9vYg==Zm9v')).toBe('foob');
  });
  it('refuses what memcached refuses', () => {
    expect(dec('')).toBeNull();
    expect(dec('!!!!')).toBeNull();
    expect(dec('Zm9')).toBeNull();
    expect(dec('Zm9vY')).toBeNull();
    expect(dec('Z===')).toBeNull();
  });
  it('encodes with padding', () => {
    expect(base64Encode(Buffer.from('foob'), 0, 4)).toBe('Zm9vYg==');
  });
});

describe('parseLongTrunc32 (safe_strtol into int32_t)', () => {
  const p = (s: string): number | null => parseLongTrunc32(Buffer.from(s, 'latin1'), 0, s.length);
  it('parses and truncates like a 64-bit long stored in 32 bits', () => {
    expect(p('0')).toBe(0);
    expect(p('-1')).toBe(-1);
    expect(p('+7')).toBe(7);
    expect(p(' 12')).toBe(12);
    expect(p('12\t')).toBe(12);
    expect(p('4294967296')).toBe(0);
    expect(p('4294967298')).toBe(2);
    expect(p('2147483648')).toBe(-2147483648);
    expect(p('9223372036854775807')).toBe(-1);
  });
  it('refuses', () => {
    for (const s of ['', '-', 'x', '1x', '9223372036854775808', '-9223372036854775809']) expect(p(s), s).toBeNull();
  });
});
