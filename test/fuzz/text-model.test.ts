// Property: a random stream of text commands gives the same replies from memcached-ts as
// from a small model of memcached 1.6.18's semantics, however the stream is cut into reads.
// In-process over test/helpers/text-harness.ts with a ManualClock: expiry without sleeping.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { textHarness } from '../helpers/text-harness.js';

interface ModelItem {
  value: string;
  flags: number;
  /** Unix second from which the item is gone; 0 = never. */
  expiresAt: number;
  /** The CAS a client saw with gets, while the item is unchanged since; else null. */
  seenCas: number | null;
}

type Cmd =
  | { op: 'set' | 'add' | 'replace' | 'append' | 'prepend'; key: string; flags: number; ttl: number; value: string; noreply: boolean }
  | { op: 'cas'; key: string; value: string; fresh: boolean }
  | { op: 'get' | 'gets'; keys: string[] }
  | { op: 'delete'; key: string }
  | { op: 'incr' | 'decr'; key: string; delta: string }
  | { op: 'touch'; key: string; ttl: number }
  | { op: 'flush_all' }
  | { op: 'advance'; seconds: number }
  | { op: 'junk'; line: string }
  | { op: 'toolarge'; key: string };

const KEYS = ['a', 'b', 'n', 'k:1', 'x\u0001y'];
const key = fc.constantFrom(...KEYS);
const value = fc.oneof(
  fc.string({ unit: fc.constantFrom('0', '1', '9', 'z', ' ', '\r', '\n', '\u00ff'), maxLength: 12 }),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(String),
  fc.nat(30).map(String),
);
const ttl = fc.constantFrom(0, 0, 1, 2, 5, -1);

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({
    op: fc.constantFrom('set', 'set', 'add', 'replace', 'append', 'prepend') as fc.Arbitrary<'set'>,
    key, flags: fc.oneof(fc.nat(10), fc.constant(4294967295)), ttl, value, noreply: fc.boolean(),
  }),
  fc.record({ op: fc.constant('cas' as const), key, value, fresh: fc.boolean() }),
  fc.record({ op: fc.constantFrom('get', 'gets') as fc.Arbitrary<'get'>, keys: fc.array(key, { minLength: 1, maxLength: 4 }) }),
  fc.record({ op: fc.constant('delete' as const), key }),
  fc.record({
    op: fc.constantFrom('incr', 'decr') as fc.Arbitrary<'incr'>,
    key, delta: fc.oneof(fc.nat(20).map(String), fc.constant('18446744073709551615'), fc.constant('18446744073709551616'), fc.constant('-1'), fc.constant('x')),
  }),
  fc.record({ op: fc.constant('touch' as const), key, ttl }),
  fc.constant({ op: 'flush_all' as const }),
  fc.record({ op: fc.constant('advance' as const), seconds: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constant('junk' as const), line: fc.constantFrom('GET a', 'bogus', '', 'set a 0 0', 'incr a', `get ${'k'.repeat(251)}`, 'set a -1 0 1', 'touch a x') }),
  fc.record({ op: fc.constant('toolarge' as const), key }),
);

const U64 = (1n << 64n) - 1n;

/** memcached's safe_strtoull on a stored value: leading whitespace, digits, then the end or whitespace. */
function numeric(v: string): bigint | null {
  const m = /^[ \t\n\v\f\r]*(\d+)(?:[ \t\n\v\f\r][\s\S]*)?$/.exec(v);
  if (!m || BigInt(m[1]!) > U64) return null;
  return BigInt(m[1]!);
}

class Model {
  readonly items = new Map<string, ModelItem>();
  lastCas = new Map<string, number>();
  constructor(public now: number) {}

  live(k: string): ModelItem | undefined {
    const it = this.items.get(k);
    if (it && it.expiresAt !== 0 && it.expiresAt <= this.now) {
      this.items.delete(k);
      return undefined;
    }
    return it;
  }

  expiry(ttl: number): number {
    if (ttl === 0) return 0;
    if (ttl < 0) return this.now - 1;
    return this.now + ttl;
  }

  /** The request bytes and the expected reply for one command. */
  run(c: Cmd, serverCas: (k: string) => number): { req: string; want: string | ((got: string) => boolean) } {
    switch (c.op) {
      case 'set': case 'add': case 'replace': case 'append': case 'prepend': {
        const req = `${c.op} ${c.key} ${c.flags} ${c.ttl} ${c.value.length}${c.noreply ? ' noreply' : ''}\r\n${c.value}\r\n`;
        const it = this.live(c.key);
        let stored = true;
        if (c.op === 'set' || (c.op === 'add' && !it) || (c.op === 'replace' && it)) {
          this.items.set(c.key, { value: c.value, flags: c.flags, expiresAt: this.expiry(c.ttl), seenCas: null });
        } else if ((c.op === 'append' || c.op === 'prepend') && it) {
          it.value = c.op === 'append' ? it.value + c.value : c.value + it.value;
          it.seenCas = null;
        } else stored = false;
        return { req, want: c.noreply ? '' : stored ? 'STORED\r\n' : 'NOT_STORED\r\n' };
      }
      case 'cas': {
        const it = this.live(c.key);
        const seen = this.lastCas.get(c.key);
        const unique = c.fresh && it?.seenCas != null ? it.seenCas : (seen ?? 1) + 1_000_000;
        const req = `cas ${c.key} 7 0 ${c.value.length} ${unique}\r\n${c.value}\r\n`;
        if (!it) return { req, want: 'NOT_FOUND\r\n' };
        if (it.seenCas !== null && it.seenCas === unique) {
          this.items.set(c.key, { value: c.value, flags: 7, expiresAt: 0, seenCas: null });
          return { req, want: 'STORED\r\n' };
        }
        return { req, want: 'EXISTS\r\n' };
      }
      case 'get': case 'gets': {
        const req = `${c.op} ${c.keys.join(' ')}\r\n`;
        let want = '';
        for (const k of c.keys) {
          const it = this.live(k);
          if (!it) continue;
          if (c.op === 'gets') {
            it.seenCas ??= serverCas(k);
            this.lastCas.set(k, it.seenCas);
          }
          want += `VALUE ${k} ${it.flags} ${Buffer.byteLength(it.value, 'latin1')}${c.op === 'gets' ? ` ${it.seenCas}` : ''}\r\n${it.value}\r\n`;
        }
        return { req, want: `${want}END\r\n` };
      }
      case 'delete': {
        const it = this.live(c.key);
        this.items.delete(c.key);
        return { req: `delete ${c.key}\r\n`, want: it ? 'DELETED\r\n' : 'NOT_FOUND\r\n' };
      }
      case 'incr': case 'decr': {
        const req = `${c.op} ${c.key} ${c.delta}\r\n`;
        const delta = /^\d+$/.test(c.delta) && BigInt(c.delta) <= U64 ? BigInt(c.delta) : null;
        if (delta === null) return { req, want: 'CLIENT_ERROR invalid numeric delta argument\r\n' };
        const it = this.live(c.key);
        if (!it) return { req, want: 'NOT_FOUND\r\n' };
        const n = numeric(it.value);
        if (n === null) return { req, want: 'CLIENT_ERROR cannot increment or decrement non-numeric value\r\n' };
        const r = c.op === 'incr' ? (n + delta) & U64 : n > delta ? n - delta : 0n;
        const s = String(r);
        // memcached rewrites a shorter number in place, padded with spaces
        it.value = s.length < it.value.length ? s.padEnd(it.value.length, ' ') : s;
        it.seenCas = null;
        return { req, want: `${s}\r\n` };
      }
      case 'touch': {
        const it = this.live(c.key);
        if (it) it.expiresAt = this.expiry(c.ttl);
        return { req: `touch ${c.key} ${c.ttl}\r\n`, want: it ? 'TOUCHED\r\n' : 'NOT_FOUND\r\n' };
      }
      case 'flush_all':
        this.items.clear();
        return { req: 'flush_all\r\n', want: 'OK\r\n' };
      case 'junk': {
        const want = c.line.startsWith('get ') || c.line.startsWith('set a -1') || c.line.startsWith('touch a x')
          ? (c.line.startsWith('touch') ? 'CLIENT_ERROR invalid exptime argument\r\n' : 'CLIENT_ERROR bad command line format\r\n')
          : 'ERROR\r\n';
        // 1.6.18 does not swallow the value after a bad set line: none is sent here
        return { req: `${c.line}\r\n`, want: c.line.startsWith('touch') ? (got: string) => got === 'ERROR\r\n' || got === want : want };
      }
      case 'toolarge': {
        // the data is swallowed and, for set, the old value is gone
        this.items.delete(c.key);
        const n = 2 * 1024 * 1024;
        return { req: `set ${c.key} 0 0 ${n}\r\n${'v'.repeat(n)}\r\n`, want: 'SERVER_ERROR object too large for cache\r\n' };
      }
      case 'advance':
        return { req: '', want: '' };
    }
  }
}

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

describe('text protocol against a model of memcached', () => {
  it('random command streams agree, one command at a time', () => {
    fc.assert(
      fc.property(fc.array(cmd, { minLength: 1, maxLength: 40 }), (cmds) => {
        const h = textHarness();
        const model = new Model(h.clock.now());
        const casOf = (k: string): number => {
          // the CAS the server holds: read it the way a client would
          const r = h.send(`gets ${k}\r\n`);
          return Number(/^VALUE \S+ \d+ \d+ (\d+)\r\n/.exec(r)?.[1] ?? -1);
        };
        for (const c of cmds) {
          if (c.op === 'advance') {
            h.clock.advance(c.seconds);
            model.now = h.clock.now();
            continue;
          }
          const { req, want } = model.run(c, casOf);
          const got = h.send(req);
          if (typeof want === 'function') expect(want(got), `${JSON.stringify(req)} -> ${JSON.stringify(got)}`).toBe(true);
          else expect(got, JSON.stringify(req)).toBe(want);
        }
        expect(h.closed).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('a whole stream sent at once, cut at random points, gives the same bytes', () => {
    fc.assert(
      fc.property(
        fc.array(cmd.filter((c) => c.op !== 'advance' && c.op !== 'cas' && c.op !== 'toolarge' && !(c.op === 'gets')), { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (cmds, cutSeeds) => {
          const h = textHarness();
          const model = new Model(h.clock.now());
          let req = '';
          const wants: Array<string | ((s: string) => boolean)> = [];
          for (const c of cmds) {
            const r = model.run(c, () => 0);
            req += r.req;
            wants.push(r.want);
          }
          if (wants.some((w) => typeof w === 'function')) return;
          const cuts = cutSeeds.map((s) => 1 + (s % Math.max(1, req.length - 1)));
          expect(h.send(req, cuts)).toBe(wants.join(''));
        },
      ),
      { numRuns: RUNS },
    );
  });
});
