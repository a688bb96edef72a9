// The corpus of the text-protocol differential test: named byte sequences, each checked against
// real memcached 1.6.18 first (the comment on a case says what memcached replies when it is surprising).
import type { ExpectedDifference } from './differences.js';

/** Server flags per group; each group gets its own pair of servers, started once. */
export const GROUPS = {
  default: [],
  flush: [],
  'no-flush': ['-F'],
  'no-cas': ['-C'],
  'item-512k': ['-I', '512k'],
  'no-evict': ['-m', '8', '-M'],
  stats: [],
  detail: [],
  memlimit: [],
  maint: [],
  dump: [],
  reassign: [],
} as const satisfies Record<string, readonly string[]>;

export type GroupId = keyof typeof GROUPS;

/** Every key a case uses goes through this, so each run of each case has its own keys. */
export type KeyFn = (name: string) => string;

/** Length of the prefix KeyFn adds (the 250/251-byte key cases depend on it). */
export const KEY_PREFIX_LENGTH = 6;

/** One round trip on the case's connection; `previous` is everything received so far (latin1). */
export type Step = (k: KeyFn, previous: string) => string | Buffer;

export interface TextCase {
  readonly name: string;
  readonly group: GroupId;
  /** Sent in order on one connection; each step is followed by the sentinel and its reply. */
  readonly steps: readonly Step[];
  /** Replace STAT values (stats cases). */
  readonly statValues?: boolean;
  /** Collapse runs of identical lines (capacity cases, difference `memory-capacity`). */
  readonly collapseRepeats?: boolean;
  /** VERSION lines the case's own bytes provoke. */
  readonly versionLines?: number;
  /** An intended difference from differences.ts: memcached-ts must send this instead. */
  readonly difference?: ExpectedDifference;
  readonly timeoutMs?: number;
  /** Pause before the sentinel (see SendOptions.sentinelDelayMs). */
  readonly sentinelDelayMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Helpers to write cases

const CRLF = '\r\n';

/** A storage command plus its data block. */
function store(verb: string, key: string, value: string, flags: number | string = 0, exptime: number | string = 0, tail = ''): string {
  return `${verb} ${key} ${flags} ${exptime} ${Buffer.byteLength(value, 'latin1')}${tail}${CRLF}${value}${CRLF}`;
}
const set = (key: string, value: string, flags: number | string = 0, exptime: number | string = 0, tail = ''): string =>
  store('set', key, value, flags, exptime, tail);

/** The CAS of the last `VALUE <key> …` line with a CAS in `reply`. */
export function lastCas(reply: string, key: string): string {
  const re = new RegExp(`VALUE ${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\d+ \\d+ (\\d+)\\r\\n`, 'g');
  let cas: string | undefined;
  for (const m of reply.matchAll(re)) cas = m[1];
  if (cas === undefined) throw new Error(`no CAS for ${key} in reply`);
  return cas;
}

const cases: TextCase[] = [];

function add(name: string, group: GroupId, send: string | Step | readonly Step[], extra: Partial<TextCase> = {}): void {
  const steps: readonly Step[] =
    typeof send === 'string' ? [() => send] : typeof send === 'function' ? [send] : send;
  cases.push({ name, group, steps, ...extra });
}

/** A case in the default group from one step. */
function def(name: string, send: Step, extra: Partial<TextCase> = {}): void {
  add(name, 'default', send, extra);
}

// ---------------------------------------------------------------------------------------------
// Storage commands

def('set then get', (k) => set(k('a'), 'hello') + `get ${k('a')}${CRLF}`);
def('set noreply then get', (k) => set(k('a'), 'x', 0, 0, ' noreply') + `get ${k('a')}${CRLF}`);
def('set a zero-length value', (k) => set(k('a'), '') + `get ${k('a')}${CRLF}gets ${k('a')}${CRLF}`);
def('value containing CRLF and protocol words', (k) =>
  set(k('a'), `a\r\nEND\r\nVALUE x 0 1\r\nSTORED\r\n`) + `get ${k('a')}${CRLF}`,
);
def('value with every byte 0..255', (k) =>
  Buffer.concat([
    Buffer.from(`set ${k('a')} 0 0 256${CRLF}`),
    Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    Buffer.from(`${CRLF}get ${k('a')}${CRLF}`),
  ]),
);
def('overwrite keeps the latest value and flags', (k) => set(k('a'), 'one', 1) + set(k('a'), 'two', 2) + `get ${k('a')}${CRLF}`);
def('flags 0, 4294967295 and 4294967296 (stored as 0)', (k) =>
  set(k('a'), 'x', 0) + set(k('b'), 'x', 4294967295) + set(k('c'), 'x', 4294967296) + `get ${k('a')} ${k('b')} ${k('c')}${CRLF}`,
);
// A malformed storage line is answered CLIENT_ERROR and its data line is then read as a command (ERROR).
def('flags -1', (k) => set(k('a'), 'x', -1) + `get ${k('a')}${CRLF}`);
def('flags not a number', (k) => set(k('a'), 'x', 'abc') + `get ${k('a')}${CRLF}`);
def('exptime negative: stored, then a miss', (k) => set(k('a'), 'x', 0, -1) + `get ${k('a')}${CRLF}`);
def('exptime relative 1000: a hit', (k) => set(k('a'), 'x', 0, 1000) + `get ${k('a')}${CRLF}`);
def('exptime 2592001 is absolute and in the past', (k) => set(k('a'), 'x', 0, 2592001) + `get ${k('a')}${CRLF}`);
def('exptime absolute past (2001)', (k) => set(k('a'), 'x', 0, 1000000000) + `get ${k('a')}${CRLF}`);
def('exptime absolute one day ahead', (k) =>
  set(k('a'), 'x', 0, Math.floor(Date.now() / 1000) + 86400) + `get ${k('a')}${CRLF}`,
);
def('exptime not a number', (k) => set(k('a'), 'x', 0, 'abc') + `get ${k('a')}${CRLF}`);
def('bytes not a number', (k) => `set ${k('a')} 0 0 abc${CRLF}x${CRLF}`);
def('bytes negative', (k) => `set ${k('a')} 0 0 -1${CRLF}x${CRLF}`);
def('bytes above INT_MAX-2', (k) => `set ${k('a')} 0 0 2147483646${CRLF}x${CRLF}`);
def('set with too few tokens', (k) => `set ${k('a')} 0 0${CRLF}x${CRLF}`);
def('set with too many tokens', (k) => `set ${k('a')} 0 0 1 noreply extra${CRLF}x${CRLF}`);
def('a non-noreply token in the noreply slot is ignored', (k) => set(k('a'), 'x', 0, 0, ' garbage') + `get ${k('a')}${CRLF}`);
// Bad data chunk: memcached swallows <bytes>+2 and reports; what follows is parsed as commands.
def('bad data chunk: data too long', (k) => `set ${k('a')} 0 0 3${CRLF}abcde${CRLF}get ${k('a')}${CRLF}`);
def('bad data chunk: one byte too long', (k) => `set ${k('a')} 0 0 3${CRLF}abcd${CRLF}get ${k('a')}${CRLF}`);
def('bad data chunk: data ends in a bare LF', (k) => `set ${k('a')} 0 0 1${CRLF}z\nget ${k('a')}${CRLF}`);
def('bad data chunk keeps the old value', (k) => set(k('a'), 'old') + `set ${k('a')} 0 0 1${CRLF}zz${CRLF}get ${k('a')}${CRLF}`);
def('bare LF line endings', (k) => `set ${k('a')} 0 0 1\nz\r\nget ${k('a')}\nget ${k('a')}\r\n`);
def('key of 250 bytes', (k) => {
  const key = k('k'.repeat(250 - KEY_PREFIX_LENGTH));
  return set(key, 'x') + `get ${key}${CRLF}`;
});
// memcached 1.6.18 drops replies queued before a get's key-too-long CLIENT_ERROR (and sometimes that
// error too) when they were produced from the same read: a too-long get goes first in its own step.
const key251 = (k: KeyFn): string => k('k'.repeat(251 - KEY_PREFIX_LENGTH));
add('key of 251 bytes', 'default', [
  (k) => set(key251(k), 'x') + `delete ${key251(k)}${CRLF}incr ${key251(k)} 1${CRLF}touch ${key251(k)} 0${CRLF}`,
  (k) => `get ${key251(k)}${CRLF}get ${k('a')}${CRLF}`,
]);
// the too-long key among the first 23 tokens and after them; gat touches the keys before it
add('multi-get with a 251-byte key', 'default', [
  (k) => set(k('a'), 'x') + set(k('b'), 'y') + set(k('m26'), 'z'),
  (k) => `get ${k('a')} ${k('b')} ${key251(k)} ${k('b')}${CRLF}`,
  (k) => `get ${Array.from({ length: 27 }, (_, i) => k(`m${i}`)).join(' ')} ${key251(k)} ${k('a')}${CRLF}`,
  (k) => `gets ${Array.from({ length: 22 }, (_, i) => k(`m${i}`)).join(' ')} ${key251(k)}${CRLF}`,
  (k) => `gat -1 ${k('a')} ${key251(k)} ${k('b')}${CRLF}`,
  (k) => `get ${k('a')} ${k('b')}${CRLF}`,
]);
def('key with a control character (0x01)', (k) => set(k('a\x01b'), 'x') + `get ${k('a\x01b')}${CRLF}`);

def('add', (k) =>
  set(k('a'), 'x') + store('add', k('a'), 'y') + store('add', k('b'), 'z') + store('add', k('b'), 'w', 0, 0, ' noreply') +
    `get ${k('a')} ${k('b')}${CRLF}`,
);
def('replace', (k) =>
  store('replace', k('a'), 'x') + set(k('b'), 'x', 3) + store('replace', k('b'), 'y', 4) +
    store('replace', k('b'), 'z', 5, 0, ' noreply') + store('replace', k('c'), 'z', 5, 0, ' noreply') +
    `get ${k('a')} ${k('b')} ${k('c')}${CRLF}`,
);
// append/prepend ignore the flags and exptime they are given and keep the item's own.
def('append and prepend', (k) =>
  store('append', k('a'), 'x') + store('prepend', k('a'), 'x') + set(k('b'), 'b', 3) + `gets ${k('b')}${CRLF}` +
    store('append', k('b'), 'c', 9, -1) + store('prepend', k('b'), 'a', 9, -1) + `gets ${k('b')}${CRLF}` +
    store('append', k('b'), 'd', 0, 0, ' noreply') + `get ${k('b')}${CRLF}`,
);
def('append to a zero-length value and of zero bytes', (k) =>
  set(k('a'), '') + store('append', k('a'), '') + store('append', k('a'), 'x') + store('prepend', k('a'), '') + `get ${k('a')}${CRLF}`,
);

// cas: the unique is read from the previous step's gets reply.
add('cas: success, then EXISTS with the old unique', 'default', [
  (k) => set(k('a'), 'x', 5) + `gets ${k('a')}${CRLF}`,
  (k, prev) => {
    const cas = lastCas(prev, k('a'));
    return store('cas', k('a'), 'y', 6, 0, ` ${cas}`) + `gets ${k('a')}${CRLF}` + store('cas', k('a'), 'z', 7, 0, ` ${cas}`) + `gets ${k('a')}${CRLF}`;
  },
]);
add('cas noreply success', 'default', [
  (k) => set(k('a'), 'x') + `gets ${k('a')}${CRLF}`,
  (k, prev) => store('cas', k('a'), 'y', 0, 0, ` ${lastCas(prev, k('a'))} noreply`) + `gets ${k('a')}${CRLF}`,
]);
def('cas: NOT_FOUND, bad unique, missing unique', (k) =>
  set(k('a'), 'x') + store('cas', k('b'), 'y', 0, 0, ' 1') + store('cas', k('a'), 'y', 0, 0, ' abc') +
    store('cas', k('a'), 'y', 0, 0, ' -1') + store('cas', k('a'), 'y') + store('cas', k('a'), 'y', 0, 0, ' 0 noreply') +
    `get ${k('a')}${CRLF}`,
);
add('touch and gat do not change the CAS; append does', 'default', [
  (k) => set(k('a'), 'x') + `gets ${k('a')}${CRLF}touch ${k('a')} 1000${CRLF}gats 1000 ${k('a')}${CRLF}gets ${k('a')}${CRLF}` +
    store('append', k('a'), 'y') + `gets ${k('a')}${CRLF}`,
]);

// ---------------------------------------------------------------------------------------------
// Retrieval

def('get: hits, misses and duplicates', (k) =>
  set(k('a'), '1') + set(k('b'), '22') + `get ${k('a')} ${k('b')} ${k('a')} ${k('zz')} ${k('b')}${CRLF}` +
    `gets ${k('b')} ${k('a')} ${k('b')}${CRLF}get ${k('zz')}${CRLF}`,
);
def('get 30 keys (beyond the 24-token tokenizer)', (k) => {
  let s = '';
  for (let i = 0; i < 30; i += 3) s += set(k(`m${i}`), `v${i}`, i);
  return s + `get ${Array.from({ length: 30 }, (_, i) => k(`m${i}`)).join(' ')}${CRLF}` +
    `gets ${Array.from({ length: 30 }, (_, i) => k(`m${29 - i}`)).join(' ')}${CRLF}`;
});
def('get 100 keys', (k) => {
  let s = '';
  for (let i = 0; i < 100; i += 7) s += set(k(`m${i}`), `v${i}`);
  return s + `get ${Array.from({ length: 100 }, (_, i) => k(`m${i}`)).join(' ')}${CRLF}`;
});
def('get 400 keys (a line longer than 2048 bytes)', (k) =>
  set(k('m399'), 'last') + `get ${Array.from({ length: 400 }, (_, i) => k(`m${i}`)).join(' ')}${CRLF}`,
);
def('get and gets with no key', () => `get${CRLF}gets${CRLF}get ${CRLF}`);
add('get with a 2100-byte key', 'default', [() => `get ${'x'.repeat(2100)}${CRLF}`, () => `gets ${'y'.repeat(2100)}${CRLF}`]);
def('get: a NUL past the 23rd token ends the line', (k) =>
  set(k('a'), 'x') + `get ${Array.from({ length: 23 }, (_, i) => k(`n${i}`)).join(' ')} ${k('z')}\0b ${k('a')}${CRLF}get ${k('a')}${CRLF}`,
);
def('get with extra spaces between keys', (k) => set(k('a'), 'x') + `get  ${k('a')}   ${k('a')} ${CRLF}`);
add('gat and gats', 'default', [
  (k) => set(k('a'), 'x', 7) + set(k('b'), 'yy') + `gat 0 ${k('a')} ${k('zz')} ${k('b')}${CRLF}gats 1000 ${k('b')} ${k('a')}${CRLF}` +
    `gat 10${CRLF}gat${CRLF}gats${CRLF}`,
  (k) => `gat abc ${k('a')}${CRLF}gats -x ${k('a')}${CRLF}`,
]);
def('gat -1 expires the item', (k) => set(k('a'), 'x') + `gat -1 ${k('a')}${CRLF}get ${k('a')}${CRLF}`);
def('gat 30 keys', (k) => {
  let s = '';
  for (let i = 0; i < 30; i += 2) s += set(k(`m${i}`), `v${i}`);
  return s + `gat 100 ${Array.from({ length: 30 }, (_, i) => k(`m${i}`)).join(' ')}${CRLF}`;
});

// ---------------------------------------------------------------------------------------------
// delete, touch, incr/decr

def('delete', (k) =>
  set(k('a'), 'x') + `delete ${k('a')}${CRLF}delete ${k('a')}${CRLF}get ${k('a')}${CRLF}` + set(k('b'), 'x') +
    `delete ${k('b')} 0${CRLF}` + set(k('c'), 'x') + `delete ${k('c')} 5${CRLF}delete ${k('c')} noreply${CRLF}` +
    `delete ${k('c')} 0 noreply${CRLF}delete ${k('c')} 0 noreply${CRLF}delete${CRLF}get ${k('c')}${CRLF}`,
);
def('touch', (k) =>
  set(k('a'), 'x') + `touch ${k('a')} 100${CRLF}touch ${k('zz')} 100${CRLF}touch ${k('a')}${CRLF}touch ${k('a')} abc${CRLF}` +
    `touch ${k('a')} 10 noreply${CRLF}touch ${k('zz')} 10 noreply${CRLF}get ${k('a')}${CRLF}touch ${k('a')} -1${CRLF}get ${k('a')}${CRLF}`,
);
def('incr and decr', (k) =>
  set(k('n'), '5', 9) + `incr ${k('n')} 1${CRLF}decr ${k('n')} 2${CRLF}incr ${k('n')} 0${CRLF}get ${k('n')}${CRLF}` +
    `incr ${k('zz')} 1${CRLF}decr ${k('zz')} 1${CRLF}incr ${k('n')} 1 noreply${CRLF}decr ${k('n')} 3 noreply${CRLF}get ${k('n')}${CRLF}`,
);
// decr rewrites a shorter number in place, padded with spaces to the old length.
def('decr pads a shorter number with spaces', (k) =>
  set(k('n'), '10') + `decr ${k('n')} 1${CRLF}get ${k('n')}${CRLF}incr ${k('n')} 100${CRLF}get ${k('n')}${CRLF}` +
    set(k('m'), '1000') + `decr ${k('m')} 999${CRLF}gets ${k('m')}${CRLF}`,
);
def('incr grows the value', (k) => set(k('n'), '9') + `incr ${k('n')} 1${CRLF}get ${k('n')}${CRLF}`);
def('incr wraps at 2^64', (k) =>
  set(k('n'), '18446744073709551615') + `incr ${k('n')} 1${CRLF}get ${k('n')}${CRLF}` +
    set(k('m'), '18446744073709551610') + `incr ${k('m')} 18446744073709551615${CRLF}`,
);
def('decr floors at 0', (k) => set(k('n'), '5') + `decr ${k('n')} 10${CRLF}decr ${k('n')} 1${CRLF}get ${k('n')}${CRLF}`);
def('incr on non-numeric values', (k) =>
  set(k('a'), 'abc') + `incr ${k('a')} 1${CRLF}` + set(k('b'), '12a') + `incr ${k('b')} 1${CRLF}` + set(k('c'), '-1') +
    `decr ${k('c')} 1${CRLF}` + set(k('d'), '184467440737095516150') + `incr ${k('d')} 1${CRLF}` + set(k('e'), '') +
    `incr ${k('e')} 1${CRLF}` + set(k('f'), '1 2') + `incr ${k('f')} 1${CRLF}`,
);
def('incr with leading and trailing spaces in the value', (k) =>
  set(k('a'), ' 1') + `incr ${k('a')} 1${CRLF}get ${k('a')}${CRLF}` + set(k('b'), '1 ') + `incr ${k('b')} 1${CRLF}get ${k('b')}${CRLF}`,
);
def('incr with a bad delta', (k) =>
  set(k('n'), '5') + `incr ${k('n')} -1${CRLF}incr ${k('n')} abc${CRLF}incr ${k('n')} 18446744073709551616${CRLF}` +
    `incr ${k('n')}${CRLF}decr ${k('n')} 1x${CRLF}incr ${k('n')} abc noreply${CRLF}incr ${k('n')}  2${CRLF}`,
);
add('incr and decr change the CAS and keep the flags', 'default', [
  (k) => set(k('n'), '5', 42) + `gets ${k('n')}${CRLF}incr ${k('n')} 1${CRLF}gets ${k('n')}${CRLF}decr ${k('n')} 1${CRLF}gets ${k('n')}${CRLF}`,
]);

// ---------------------------------------------------------------------------------------------
// Other commands and error paths

def('version', () => `version${CRLF}version extra tokens${CRLF}`, { versionLines: 2 });
def('verbosity', () => `verbosity${CRLF}verbosity 1${CRLF}verbosity 1 noreply${CRLF}verbosity abc${CRLF}verbosity 0${CRLF}verbosity 1 2 3${CRLF}`);
def('quit', (k) => set(k('a'), 'x') + `quit${CRLF}get ${k('a')}${CRLF}`);
def('quit with extra tokens', () => `quit now${CRLF}`);
def('shutdown without -A', () => `shutdown${CRLF}shutdown graceful${CRLF}shutdown bogus${CRLF}`);
def('unknown commands', () => `foo${CRLF}foo bar baz${CRLF}x${CRLF}bget${CRLF}debugtime 1${CRLF}misbehave${CRLF}`);
def('upper-case commands', (k) => set(k('a'), 'x') + `GET ${k('a')}${CRLF}SET ${k('b')} 0 0 1${CRLF}y${CRLF}Version${CRLF}`);
def('empty and blank lines', () => `${CRLF}\n  ${CRLF}\t${CRLF}`);
// Only if one read leaves more than 2048 bytes and no newline: the sentinel must come later.
def('a line of 2100 bytes with no newline closes the connection', () => `set ${'x'.repeat(2100)}`, {
  sentinelDelayMs: 100,
});
def('GET / HTTP/1.1 closes the connection', () => `GET / HTTP/1.1${CRLF}Host: localhost${CRLF}${CRLF}`);
def('an unknown command ending in HTTP/ closes', () => `foo bar HTTP/1.0${CRLF}`);
def('stats subcommand errors', () => `stats detail${CRLF}stats detail foo${CRLF}stats foo${CRLF}stats sizes${CRLF}`);
def('pipeline of many commands in one packet', (k) => {
  let s = '';
  for (let i = 0; i < 20; i++) s += set(k(`p${i}`), `${i}`, i);
  for (let i = 0; i < 20; i += 2) s += `incr ${k(`p${i}`)} ${i}${CRLF}`;
  for (let i = 1; i < 20; i += 4) s += `delete ${k(`p${i}`)}${CRLF}`;
  s += store('append', k('p3'), '!') + `touch ${k('p5')} 100${CRLF}bogus${CRLF}`;
  return s + `get ${Array.from({ length: 20 }, (_, i) => k(`p${i}`)).join(' ')}${CRLF}`;
});
def('value of 1048000 bytes is stored', (k) => set(k('big'), 'v'.repeat(1048000)) + `get ${k('big')}${CRLF}`);
// A too-large set is swallowed and deletes the old value; add/replace/append/cas keep it.
def('value of 1048577 bytes is too large, and a too-large set deletes the old item', (k) =>
  set(k('a'), 'old') + set(k('a'), 'v'.repeat(1048577)) + `get ${k('a')}${CRLF}` +
    set(k('b'), 'old') + store('append', k('b'), 'v'.repeat(1048577)) + `get ${k('b')}${CRLF}`,
);
def('multiget line over 1 MiB', (k) => `get ${Array.from({ length: 100_000 }, (_, i) => k(`g${i}`)).join(' ')}${CRLF}`, {
  difference: { id: 'multiget-line-bound', oursReply: '', oursCloses: true },
  timeoutMs: 20_000,
});

// ---------------------------------------------------------------------------------------------
// Server flags and server-wide commands (each group has its own servers)

add('flush_all variants', 'flush', () =>
  `flush_all${CRLF}flush_all 0${CRLF}flush_all noreply${CRLF}flush_all -1${CRLF}flush_all abc${CRLF}` +
    `flush_all 0 noreply${CRLF}flush_all 1 2 3${CRLF}flush_all 0 foo${CRLF}`,
);
add('flush_all hides older items only', 'flush', (k) =>
  set(k('a'), 'x') + `flush_all${CRLF}get ${k('a')}${CRLF}` + set(k('b'), 'y') + `get ${k('b')}${CRLF}`,
);
// Delayed: items stay visible until the (far) flush point; a later plain flush_all replaces it.
add('flush_all with a delay', 'flush', (k) =>
  set(k('a'), 'x') + `flush_all 100000${CRLF}get ${k('a')}${CRLF}flush_all 100000 noreply${CRLF}get ${k('a')}${CRLF}flush_all${CRLF}get ${k('a')}${CRLF}`,
);
add('flush_all with -F', 'no-flush', (k) =>
  set(k('a'), 'x') + `flush_all${CRLF}flush_all noreply${CRLF}flush_all 10${CRLF}flush_all abc${CRLF}get ${k('a')}${CRLF}`,
);
add('-C: gets shows CAS 0 and cas never matches', 'no-cas', (k) =>
  set(k('a'), 'x') + `gets ${k('a')}${CRLF}` + store('cas', k('a'), 'y', 0, 0, ' 0') + store('cas', k('a'), 'y', 0, 0, ' 1') +
    store('cas', k('zz'), 'y', 0, 0, ' 0') + `gets ${k('a')}${CRLF}incr ${k('a')} 1${CRLF}`,
);
add('-C: stats settings says cas_enabled no', 'no-cas', () => `stats settings${CRLF}`, { statValues: true });
add('-I 512k: 524000 bytes fit, 524289 do not', 'item-512k', (k) =>
  set(k('a'), 'v'.repeat(524000)) + set(k('b'), 'old') + set(k('b'), 'v'.repeat(524289)) + `get ${k('b')}${CRLF}` +
    set(k('c'), 'v'.repeat(524289), 0, 0, ' noreply') + `get ${k('a')}${CRLF}`,
);
add('-I 512k: too-large add/replace/prepend keep the old item', 'item-512k', (k) =>
  set(k('a'), 'old') + store('add', k('a'), 'v'.repeat(600000)) + store('replace', k('a'), 'v'.repeat(600000)) +
    store('prepend', k('a'), 'v'.repeat(600000)) + `get ${k('a')}${CRLF}`,
);
add('-m 8 -M: out of memory instead of eviction', 'no-evict', (k) => {
  let s = '';
  for (let i = 0; i < 24; i++) s += set(k(`m${i}`), 'v'.repeat(500000));
  return s + `get ${k('m0')}${CRLF}`;
}, { collapseRepeats: true, timeoutMs: 20_000 });
add('-m 8 -M: a set that runs out of memory drops the old value', 'no-evict', (k) => {
  let s = '';
  for (let i = 0; i < 24; i++) s += set(k(`m${i}`), 'v'.repeat(500000));
  return s + set(k('m0'), 'w'.repeat(500000)) + set(k('m1'), 'w'.repeat(400000)) + `get ${k('m0')} ${k('m1')} ${k('m2')}${CRLF}`;
}, { collapseRepeats: true, timeoutMs: 20_000 });
add('-m 8 -M: a class with no page yet gets its first one past the budget', 'no-evict', (k) => {
  let s = '';
  for (let i = 0; i < 24; i++) s += set(k(`f${i}`), 'v'.repeat(500000));
  // memcached's do_slabs_newslab(): the limit stops a class only once it has a page
  return s + set(k('small'), 's'.repeat(1000)) + set(k('tiny'), 't') + `get ${k('small')} ${k('tiny')}${CRLF}`;
}, { collapseRepeats: true, timeoutMs: 20_000 });
add('slabs reassign -1 1 moves a page of the one class that has several', 'reassign', (k) => {
  let s = '';
  for (let i = 0; i < 20; i++) s += set(k(`r${i}`), 'v'.repeat(200000));
  // one reassign per run: a second one right after may find memcached's mover still busy
  return s + `slabs reassign -1 1${CRLF}`;
}, { collapseRepeats: true, timeoutMs: 20_000 });
add('cache_memlimit', 'memlimit', () =>
  `cache_memlimit${CRLF}cache_memlimit abc${CRLF}cache_memlimit 100${CRLF}cache_memlimit 100 noreply${CRLF}` +
    `cache_memlimit 0${CRLF}cache_memlimit 7${CRLF}cache_memlimit 8${CRLF}cache_memlimit 64${CRLF}`,
);

// stats: compare names and order, not values.
add('stats', 'stats', (k) => set(k('a'), 'x') + `get ${k('a')}${CRLF}stats${CRLF}`, { statValues: true });
add('stats settings', 'stats', () => `stats settings${CRLF}`, { statValues: true });
add('stats items and slabs after some sets', 'stats', (k) =>
  set(k('a'), 'small') + set(k('b'), 'v'.repeat(1000)) + set(k('c'), 'v'.repeat(100000)) + `stats items${CRLF}stats slabs${CRLF}`,
  { statValues: true },
);
add('stats reset', 'stats', () => `stats reset${CRLF}stats reset extra${CRLF}stats sizes${CRLF}`);
add('stats detail on, dump, off', 'detail', (k) =>
  `stats reset${CRLF}stats detail on${CRLF}` + set(`${k('pfx')}:a`, 'x') + `get ${k('pfx')}:a ${k('pfx')}:b${CRLF}` +
    `delete ${k('pfx')}:a${CRLF}stats detail dump${CRLF}stats detail off${CRLF}stats detail dump${CRLF}`,
);

// Tuning and introspection commands: replies must match even where the effect differs
// (see differences.md).
add('slabs, lru and lru_crawler settings', 'maint', () =>
  `slabs automove 1${CRLF}slabs automove 3${CRLF}slabs automove x${CRLF}slabs reassign 1 1${CRLF}slabs reassign 1 99${CRLF}` +
    `slabs reassign a b${CRLF}slabs bogus${CRLF}lru tune 10 10 0.1 2${CRLF}lru tune 50 50 1 1${CRLF}lru tune 10 10 0 1${CRLF}` +
    `lru mode flat${CRLF}lru mode segmented${CRLF}lru mode x${CRLF}lru temp_ttl 10${CRLF}lru temp_ttl x${CRLF}lru bogus${CRLF}lru${CRLF}` +
    `lru_crawler sleep 100${CRLF}lru_crawler sleep 2000000${CRLF}lru_crawler tocrawl 5${CRLF}lru_crawler tocrawl x${CRLF}` +
    `lru_crawler crawl 99${CRLF}lru_crawler bogus${CRLF}lru_crawler${CRLF}`,
);
// Which items memcached's cachedump shows depends on its LRU maintainer moving them out of
// the hot LRU (it often shows none), so only the argument checks are compared.
add('stats cachedump argument checks', 'dump', () =>
  `stats cachedump 99 0${CRLF}stats cachedump x 0${CRLF}stats cachedump 1${CRLF}stats cachedump${CRLF}`,
);

// memcached 1.6.18 stores strtol()'s long into an int32: larger numbers wrap instead of failing
def('numbers past int32 wrap as in memcached', (k) =>
  `set ${k('a')} 0 0 4294967297${CRLF}x${CRLF}get ${k('a')}${CRLF}` + set(k('b'), 'y', 0, '2147483648') + `get ${k('b')}${CRLF}` +
    `touch ${k('a')} 4294967296${CRLF}get ${k('a')}${CRLF}set ${k('c')} 0 0 99999999999999999999${CRLF}`,
);

export const TEXT_CASES: readonly TextCase[] = cases;
