// Text protocol cases run whole, byte by byte and at random cuts through the real read path.
import { describe, expect, it } from 'vitest';
import { settingsStats } from '../../src/config/settings-stats.js';
import { cutPlans, textHarness } from '../helpers/text-harness.js';

interface Case {
  name: string;
  input: string;
  expect: string;
  config?: Parameters<typeof textHarness>[0];
}

const v250 = 'k'.repeat(250);
const v251 = 'k'.repeat(251);

const cases: Case[] = [
  { name: 'set then get', input: 'set a 5 0 3\r\nabc\r\nget a\r\n', expect: 'STORED\r\nVALUE a 5 3\r\nabc\r\nEND\r\n' },
  { name: 'value holding CRLF and NUL', input: 'set a 0 0 5\r\na\r\n\0b\r\nget a\r\n', expect: 'STORED\r\nVALUE a 0 5\r\na\r\n\0b\r\nEND\r\n' },
  { name: 'zero-length value', input: 'set e 0 0 0\r\n\r\nget e\r\n', expect: 'STORED\r\nVALUE e 0 0\r\n\r\nEND\r\n' },
  { name: 'multi-get with misses and duplicates', input: 'set a 0 0 1\r\n1\r\nget x a y a\r\n', expect: 'STORED\r\nVALUE a 0 1\r\n1\r\nVALUE a 0 1\r\n1\r\nEND\r\n' },
  { name: 'gets shows cas', input: 'set a 0 0 1\r\n1\r\ngets a\r\n', expect: 'STORED\r\nVALUE a 0 1 1\r\n1\r\nEND\r\n' },
  { name: 'bare LF endings', input: 'set a 0 0 1\n1\r\nget a\n', expect: 'STORED\r\nVALUE a 0 1\r\n1\r\nEND\r\n' },
  { name: 'add on existing', input: 'set a 0 0 1\r\n1\r\nadd a 0 0 1\r\n2\r\n', expect: 'STORED\r\nNOT_STORED\r\n' },
  { name: 'replace on missing', input: 'replace a 0 0 1\r\n2\r\n', expect: 'NOT_STORED\r\n' },
  {
    name: 'append and prepend keep flags',
    input: 'set a 7 0 1\r\nb\r\nappend a 9 0 1\r\nc\r\nprepend a 9 0 1\r\na\r\nget a\r\n',
    expect: 'STORED\r\nSTORED\r\nSTORED\r\nVALUE a 7 3\r\nabc\r\nEND\r\n',
  },
  { name: 'append on missing', input: 'append a 0 0 1\r\nc\r\n', expect: 'NOT_STORED\r\n' },
  {
    name: 'cas hit, bad value, miss',
    input: 'set a 0 0 1\r\n1\r\ncas a 0 0 1 1\r\n2\r\ncas a 0 0 1 1\r\n3\r\ncas b 0 0 1 1\r\n3\r\n',
    expect: 'STORED\r\nSTORED\r\nEXISTS\r\nNOT_FOUND\r\n',
  },
  { name: 'noreply storage', input: 'set a 0 0 1 noreply\r\n1\r\nget a\r\n', expect: 'VALUE a 0 1\r\n1\r\nEND\r\n' },
  { name: 'garbage in noreply slot is ignored', input: 'set a 0 0 1 garbage\r\n1\r\n', expect: 'STORED\r\n' },
  { name: 'bad data chunk', input: 'set a 0 0 1\r\n12\r\n', expect: 'CLIENT_ERROR bad data chunk\r\nERROR\r\n' },
  { name: 'negative flags', input: 'set a -1 0 1\r\n1\r\n', expect: 'CLIENT_ERROR bad command line format\r\nERROR\r\n' },
  { name: 'flags wrap at 2^32', input: 'set a 4294967296 0 1\r\n1\r\nget a\r\n', expect: 'STORED\r\nVALUE a 0 1\r\n1\r\nEND\r\n' },
  { name: 'largest flags', input: 'set a 4294967295 0 1\r\n1\r\nget a\r\n', expect: 'STORED\r\nVALUE a 4294967295 1\r\n1\r\nEND\r\n' },
  { name: 'negative exptime expires at once', input: 'set a 0 -1 1\r\n1\r\nget a\r\n', expect: 'STORED\r\nEND\r\n' },
  { name: '250-byte key', input: `set ${v250} 0 0 1\r\n1\r\nget ${v250}\r\n`, expect: `STORED\r\nVALUE ${v250} 0 1\r\n1\r\nEND\r\n` },
  { name: '251-byte key', input: `set ${v251} 0 0 1\r\n1\r\n`, expect: 'CLIENT_ERROR bad command line format\r\nERROR\r\n' },
  { name: 'get of a 251-byte key', input: `get a ${v251}\r\n`, expect: 'CLIENT_ERROR bad command line format\r\n' },
  { name: 'wrong token count', input: 'set a 0 0\r\nget\r\ntouch a\r\nverbosity\r\n', expect: 'ERROR\r\nERROR\r\nERROR\r\nERROR\r\n' },
  { name: 'unknown, upper case, empty, one letter', input: 'bogus\r\nGET a\r\n\r\nx\r\n', expect: 'ERROR\r\nERROR\r\nERROR\r\nERROR\r\n' },
  { name: 'delete forms', input: 'set a 0 0 1\r\n1\r\ndelete a 0\r\ndelete a\r\ndelete a 5\r\ndelete a noreply\r\n', expect: 'STORED\r\nDELETED\r\nNOT_FOUND\r\nCLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n' },
  { name: 'incr and decr', input: 'set n 0 0 2\r\n10\r\nincr n 5\r\ndecr n 100\r\nget n\r\n', expect: 'STORED\r\n15\r\n0\r\nVALUE n 0 2\r\n0 \r\nEND\r\n' },
  { name: 'incr wraps at 2^64', input: 'set n 0 0 20\r\n18446744073709551615\r\nincr n 1\r\n', expect: 'STORED\r\n0\r\n' },
  { name: 'incr grows the value', input: 'set n 0 0 1\r\n9\r\nincr n 1\r\nget n\r\n', expect: 'STORED\r\n10\r\nVALUE n 0 2\r\n10\r\nEND\r\n' },
  { name: 'incr leading space', input: 'set n 0 0 2\r\n 1\r\nincr n 1\r\n', expect: 'STORED\r\n2\r\n' },
  { name: 'incr non-numeric and empty', input: 'set n 0 0 1\r\nx\r\nincr n 1\r\nset e 0 0 0\r\n\r\nincr e 1\r\n', expect: 'STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\nSTORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n' },
  { name: 'incr bad delta', input: 'incr n -1\r\nincr n abc\r\nincr n 18446744073709551616\r\n', expect: 'CLIENT_ERROR invalid numeric delta argument\r\n'.repeat(3) },
  { name: 'incr missing', input: 'incr n 1\r\n', expect: 'NOT_FOUND\r\n' },
  { name: 'touch', input: 'set a 0 0 1\r\n1\r\ntouch a 10\r\ntouch b 10\r\ntouch a x\r\n', expect: 'STORED\r\nTOUCHED\r\nNOT_FOUND\r\nCLIENT_ERROR invalid exptime argument\r\n' },
  { name: 'gat forms', input: 'set a 0 0 1\r\n1\r\ngat 10\r\ngat 10 a\r\ngat x a\r\ngat\r\n', expect: 'STORED\r\nEND\r\nVALUE a 0 1\r\n1\r\nEND\r\nCLIENT_ERROR invalid exptime argument\r\nERROR\r\n' },
  { name: 'flush_all forms', input: 'flush_all\r\nflush_all 0\r\nflush_all noreply\r\nflush_all -1\r\nflush_all x\r\n', expect: 'OK\r\nOK\r\nOK\r\nCLIENT_ERROR invalid exptime argument\r\n' },
  { name: 'flush_all disabled', input: 'flush_all\r\n', expect: 'CLIENT_ERROR flush_all not allowed\r\n', config: { flushEnabled: false } },
  { name: 'verbosity', input: 'verbosity 1\r\nverbosity 1 noreply\r\nverbosity x\r\n', expect: 'OK\r\nCLIENT_ERROR bad command line format\r\n' },
  { name: 'shutdown disabled', input: 'shutdown\r\n', expect: 'ERROR: shutdown not enabled\r\n' },
  { name: 'cache_memlimit', input: 'cache_memlimit 4\r\ncache_memlimit 100\r\ncache_memlimit x\r\n', expect: 'MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\nOK\r\nERROR\r\n' },
  { name: 'too large value is swallowed and drops the old one', input: `set a 0 0 1\r\n1\r\nset a 0 0 2000\r\n${'x'.repeat(2000)}\r\nget a\r\n`, expect: 'STORED\r\nSERVER_ERROR object too large for cache\r\nEND\r\n', config: { itemSizeMax: 1024, slabChunkMax: 512 } },
  { name: 'pipeline of many', input: 'set a 0 0 1\r\n1\r\n'.repeat(50) + 'get a\r\n', expect: 'STORED\r\n'.repeat(50) + 'VALUE a 0 1\r\n1\r\nEND\r\n' },
  { name: 'stats unknown group', input: 'stats bogus\r\n', expect: 'ERROR\r\n' },
  { name: 'stats detail usage', input: 'stats detail\r\n', expect: 'CLIENT_ERROR usage: stats detail on|off|dump\r\n' },
];

describe('text protocol session', () => {
  for (const c of cases) {
    it(c.name, () => {
      for (const cuts of cutPlans(c.input.length)) {
        const h = textHarness(c.config);
        expect(h.send(c.input, cuts), `cuts ${JSON.stringify(cuts)}`).toBe(c.expect);
      }
    });
  }

  it('closes on a long line without newline', () => {
    const h = textHarness();
    expect(h.send(`set ${'x'.repeat(2100)}`)).toBe('');
    expect(h.closed).toBe(true);
  });

  it('keeps reading a long get line', () => {
    const h = textHarness();
    h.send('set k 0 0 1\r\n1\r\n');
    const keys = Array.from({ length: 400 }, () => 'k').join(' ');
    expect(h.send(`get ${keys}\r\n`, [1000, 2100])).toBe('VALUE k 0 1\r\n1\r\n'.repeat(400) + 'END\r\n');
    expect(h.closed).toBe(false);
  });

  it('stats says one thread serves, whatever -t says (stats settings keeps -t: test/cli.test.ts)', () => {
    const h = textHarness({ threads: 8 });
    expect(h.send('stats\r\n')).toContain('STAT threads 1\r\n');
  });

  it('closes on an HTTP request line', () => {
    const h = textHarness();
    expect(h.send('GET / HTTP/1.1\r\n')).toBe('');
    expect(h.closed).toBe(true);
  });

  it('quit closes after earlier replies', () => {
    const h = textHarness();
    expect(h.send('set a 0 0 1\r\n1\r\nquit\r\nget a\r\n')).toBe('STORED\r\n');
    expect(h.closed).toBe(true);
  });

  it('shutdown with -A asks the server to stop', () => {
    const h = textHarness({ shutdownEnabled: true });
    h.send('shutdown graceful\r\n');
    expect(h.shutdowns).toEqual([true]);
    expect(h.closed).toBe(true);
  });

  it('TTLs follow the clock: relative, absolute and expiry', () => {
    const h = textHarness();
    const now = h.clock.now();
    h.send(`set r 0 10 1\r\n1\r\nset abs 0 ${now + 100} 1\r\n2\r\nset past 0 ${now - 5} 1\r\n3\r\n`);
    expect(h.send('get r abs past\r\n')).toBe('VALUE r 0 1\r\n1\r\nVALUE abs 0 1\r\n2\r\nEND\r\n');
    h.clock.advance(10);
    expect(h.send('get r abs\r\n')).toBe('VALUE abs 0 1\r\n2\r\nEND\r\n');
    h.clock.advance(90);
    expect(h.send('get abs\r\n')).toBe('END\r\n');
    expect(h.cache.stats.get_expired).toBe(3); // past, r, abs
  });

  it('touch and gat move the expiry without changing the CAS', () => {
    const h = textHarness();
    h.send('set a 0 5 1\r\n1\r\n');
    const before = h.send('gets a\r\n');
    h.send('touch a 100\r\n');
    h.clock.advance(50);
    expect(h.send('gets a\r\n')).toBe(before);
    expect(h.send('gats 0 a\r\n')).toBe(before);
    h.clock.advance(1000);
    expect(h.send('get a\r\n')).toBe('VALUE a 0 1\r\n1\r\nEND\r\n');
  });

  it('flush_all hides older items, keeps newer ones, honours a delay', () => {
    const h = textHarness();
    h.send('set a 0 0 1\r\n1\r\n');
    h.send('flush_all\r\n');
    h.send('set b 0 0 1\r\n2\r\n');
    expect(h.send('get a b\r\n')).toBe('VALUE b 0 1\r\n2\r\nEND\r\n');
    h.clock.advance(5);
    h.send('flush_all 10\r\n');
    expect(h.send('get b\r\n')).toBe('VALUE b 0 1\r\n2\r\nEND\r\n');
    h.clock.advance(10);
    expect(h.send('get b\r\n')).toBe('END\r\n');
  });

  it('random garbage never throws', () => {
    let x = 12345;
    const rand = (n: number): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x % n;
    };
    const alphabet = ['get ', 'set ', 'gat ', 'incr ', ' ', '\r', '\n', '0', '1', '-', 'a', 'noreply', '\0', '\xff', 'cas ', 'delete '];
    for (let round = 0; round < 300; round++) {
      const h = textHarness();
      let s = '';
      for (let i = 0; i < 60; i++) s += alphabet[rand(alphabet.length)];
      expect(() => h.send(s, [rand(s.length), rand(s.length)])).not.toThrow();
    }
  });
});

describe('maintenance commands', () => {
  it('lru_crawler metadump lists live items as memcached formats them', () => {
    const h = textHarness();
    const now = h.clock.now();
    h.send('set a:b 0 100 1\r\nx\r\n');
    expect(h.send('lru_crawler metadump all\r\n')).toBe(
      `key=a%3Ab exp=${now + 100} la=${now} cas=1 fetch=no cls=1 size=63\nEND\r\n`,
    );
    expect(h.send('set c 0 0 1\r\nx\r\nlru_crawler metadump all\r\n')).toBe('STORED\r\nERROR cannot pipeline other commands before metadump\r\n');
  });

  it('lru and lru_crawler settings are validated', () => {
    const h = textHarness();
    expect(h.send('lru tune 10 10 0.1 2\r\nlru tune 50 50 1 1\r\nlru mode flat\r\nlru mode x\r\nlru_crawler sleep 2000000\r\nlru_crawler enable\r\nlru_crawler crawl 99\r\n')).toBe(
      'OK\r\nERROR hot and warm pcts must not exceed 80\r\nOK\r\nERROR\r\nCLIENT_ERROR sleep must be one second or less\r\nOK\r\nBADCLASS invalid class id\r\n',
    );
  });

  it('watch checks its arguments before it asks the server for a stream (test/logging has the stream)', () => {
    const h = textHarness();
    // the in-process harness has no server to stream from: memcached's failure line
    expect(h.send('watch bogus\r\n')).toBe('ERROR\r\n');
    // noreply is read as a kind, and its ERROR is then held back, as memcached does
    expect(h.send('watch fetchers noreply\r\n')).toBe('');
    expect(h.send('watch fetchers mutations\r\n')).toBe('WATCHER_FAILED failed to add log watcher\r\n');
    expect(textHarness({ watchDisabled: true }).send('watch\r\n')).toBe('CLIENT_ERROR watch commands not allowed\r\n');
    expect(h.send('version\r\nwatch\r\n')).toMatch(/^VERSION .*\r\nERROR cannot pipeline other commands before watch\r\n$/);
  });
});

describe('slabs commands', () => {
  it('slabs automove sets the level and ratio that stats settings reports and the automover reads', () => {
    const h = textHarness();
    expect(h.send('slabs automove 0\r\nslabs automove ratio 0.5\r\n')).toBe('OK\r\nOK\r\n');
    expect(h.config.slabAutomove).toBe(0);
    const settings = new Map(settingsStats(h.config, { detailEnabled: false, oldest: 0 }));
    expect([settings.get('slab_automove'), settings.get('slab_automove_ratio')]).toEqual(['0', '0.50']);
    expect(h.send('slabs automove 2\r\n')).toBe('OK\r\n');
    expect(h.config.slabAutomove).toBe(2);
  });

  it('slabs reassign moves a page and counts it in stats; refused with -o no_slab_reassign', () => {
    const h = textHarness();
    for (let i = 0; i < 30; i++) h.send(`set k${String(i).padStart(2, '0')} 0 0 200000 noreply\r\n${'v'.repeat(200000)}\r\n`);
    expect(h.send('slabs reassign -1 1\r\n')).toBe('OK\r\n');
    const stats = h.send('stats\r\n');
    expect(stats).toContain('STAT slabs_moved 1\r\n');
    expect(stats).toMatch(/STAT slab_reassign_evictions_nomem [1-9]/);
    expect(h.send('slabs reassign 1 2\r\n')).toBe('NOSPARE source class has no spare pages\r\n');
    const off = textHarness({ slabReassign: false });
    expect(off.send('slabs reassign -1 1\r\n')).toBe('CLIENT_ERROR slab reassignment disabled\r\n');
  });
});
