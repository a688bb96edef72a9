// The command line: every option of the table parses, bad input is one line and exit 64,
// and --help, the man page and stats settings agree with the table.
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultConfig, MB, type Config } from '../src/config/config.js';
import { EXTENDED_OPTIONS, OPTIONS, REFUSED_EXTENDED_PREFIXES } from '../src/config/options.js';
import { settingsStats } from '../src/config/settings-stats.js';
import { helpLabel, renderHelp, wrap } from '../src/cli/help.js';
import { renderManPage } from '../src/cli/man-page.js';
import { parseArgs, type ParseResult } from '../src/cli/parse-args.js';
import type { CliIo } from '../src/cli/main.js';
import { PACKAGE_VERSION, VERSION } from '../src/version.js';

const startDaemon = vi.fn();
vi.mock('../src/daemon.js', () => ({ startDaemon: (...a: unknown[]) => startDaemon(...a) }));
const { main: cliMain } = await import('../src/cli/main.js');

function run(argv: readonly string[]): { config: Config; warnings: string[] } {
  const r = parseArgs(argv);
  if (r.kind !== 'run') throw new Error(`expected run for ${argv.join(' ')}, got ${JSON.stringify(r)}`);
  return r;
}

/** A usage error: exit 64, exactly one line on stderr, no stack trace. */
function usageError(argv: string[]): string {
  const r: ParseResult = parseArgs(argv);
  expect(r, argv.join(' ')).toMatchObject({ kind: 'exit', code: 64 });
  const err = r.kind === 'exit' ? (r.stderr ?? '') : '';
  expect(err.endsWith('\n')).toBe(true);
  expect(err.trimEnd().split('\n')).toHaveLength(1);
  expect(err).toMatch(/^memcached-ts: /);
  expect(err).not.toMatch(/\n\s+at /);
  return err;
}

function stats(config: Config): Map<string, string> {
  return new Map(settingsStats(config));
}

// What each option must do to Config. Every option of the table needs an entry here.
const EFFECT: Record<string, [argv: string[], check: (c: Config) => void]> = {
  port: [['-p', '11311'], (c) => expect(c.port).toBe(11311)],
  'udp-port': [['-U', '0'], (c) => expect(c.udpPort).toBe(0)],
  'unix-socket': [['-s', '/tmp/x.sock'], (c) => expect(c.unixSocket).toBe('/tmp/x.sock')],
  'unix-mask': [['-a', '770'], (c) => expect(c.unixMask).toBe(0o770)],
  'enable-shutdown': [['-A'], (c) => expect(c.shutdownEnabled).toBe(true)],
  listen: [['-l', '10.0.0.1,::1', '-l', '[fe80::1]'], (c) => expect(c.listen).toEqual(['10.0.0.1', '::1', 'fe80::1'])],
  'memory-limit': [['-m', '128'], (c) => expect(c.memoryLimit).toBe(128 * MB)],
  'disable-evictions': [['-M'], (c) => expect(c.noEvict).toBe(true)],
  'conn-limit': [['-c', '50'], (c) => expect(c.maxConnections).toBe(50)],
  verbose: [['-vv'], (c) => expect(c.verbosity).toBe(2)],
  threads: [['-t', '8'], (c) => expect(c.threads).toBe(8)],
  'max-reqs-per-event': [['-R', '5'], (c) => expect(c.reqsPerEvent).toBe(5)],
  'slab-growth-factor': [['-f', '1.5'], (c) => expect(c.growthFactor).toBe(1.5)],
  'slab-min-size': [['-n', '64'], (c) => expect(c.chunkSize).toBe(64)],
  'max-item-size': [['-I', '2m'], (c) => expect(c.itemSizeMax).toBe(2 * MB)],
  'disable-cas': [['-C'], (c) => expect(c.useCas).toBe(false)],
  'listen-backlog': [['-b', '64'], (c) => expect(c.backlog).toBe(64)],
  protocol: [['-B', 'binary'], (c) => expect(c.bindingProtocol).toBe('binary')],
  'prefix-delimiter': [['-D', '#'], (c) => expect(c.prefixDelimiter).toBe('#')],
  'disable-flush-all': [['-F'], (c) => expect(c.flushEnabled).toBe(false)],
  'disable-dumping': [['-X'], (c) => expect(c.dumpDisabled).toBe(true)],
  'disable-watch': [['-W'], (c) => expect(c.watchDisabled).toBe(true)],
  'auth-file': [['-Y', '/etc/auth'], (c) => {
    expect(c.authFile).toBe('/etc/auth');
    expect(c.bindingProtocol).toBe('ascii');
  }],
  'enable-sasl': [['-S', '-Y', '/etc/auth'], (c) => {
    expect(c.sasl).toBe(true);
    expect(c.bindingProtocol).toBe('binary');
  }],
  'enable-ssl': [['-Z', '-o', 'ssl_chain_cert=/c.pem,ssl_key=/k.pem'], (c) => {
    expect(c.tls).toBe(true);
    expect([c.tlsCertFile, c.tlsKeyFile, c.tlsCaFile]).toEqual(['/c.pem', '/k.pem', null]);
  }],
  extended: [['-o', 'idle_timeout=30,track_sizes', '-o', 'slab_chunk_max=262144'], (c) => {
    expect(c.idleTimeout).toBe(30);
    expect(c.trackSizes).toBe(true);
    expect(c.slabChunkMax).toBe(262144);
  }],
  'snapshot-file': [['--snapshot-file', '/var/tmp/s'], (c) => expect(c.snapshotFile).toBe('/var/tmp/s')],
  'snapshot-interval': [['--snapshot-interval', '60', '-e', '/s'], (c) => expect(c.snapshotInterval).toBe(60)],
  'journal-file': [['--journal-file', '/var/tmp/j'], (c) => expect(c.journalFile).toBe('/var/tmp/j')],
  'journal-fsync': [['--journal-fsync', 'always', '--journal-file', '/j'], (c) => expect(c.journalFsync).toBe('always')],
  'json-port': [['--json-port', '-1'], (c) => expect(c.jsonPort).toBe(-1)],
  'http-port': [['--http-port', '8080'], (c) => expect(c.httpPort).toBe(8080)],
  pidfile: [['-P', '/run/x.pid'], (c) => expect(c.pidFile).toBe('/run/x.pid')],
  user: [['-u', 'memcache', '-u', 'nobody'], (c) => expect(c.user).toBe('nobody')],
  daemon: [['-d'], (c) => expect(c.daemonize).toBe(true)],
  'enable-coredumps': [['-r'], () => {}],
  'lock-memory': [['-k'], () => {}],
  'enable-largepages': [['-L'], () => {}],
  'napi-ids': [['-N', '2'], () => {}],
};

const INVALID: Record<string, string[][]> = {
  port: [['-p', 'abc'], ['-p', '65536'], ['-p', '-2'], ['-p', '1.5'], ['-p']],
  'udp-port': [['-U', '11211'], ['-U', 'abc']],
  'unix-socket': [['-s', '']],
  'unix-mask': [['-a', '800'], ['-a', 'abc'], ['-a', '1777']],
  listen: [['-l', '127.0.0.1:11211'], ['-l', 'notls:127.0.0.1'], ['-l', 'a,,b'], ['-l', '[::1]:5']],
  'memory-limit': [['-m', '0'], ['-m', '1g'], ['-m', '-5']],
  'conn-limit': [['-c', '0'], ['-c', 'x']],
  threads: [['-t', '0']],
  'max-reqs-per-event': [['-R', '0']],
  'slab-growth-factor': [['-f', '1'], ['-f', '1.0'], ['-f', 'abc'], ['-f', '-2']],
  'slab-min-size': [['-n', '0']],
  'max-item-size': [['-I', '1023'], ['-I', '1025m', '-m', '4096'], ['-I', '1.5m'], ['-I', '2g'], ['-I', 'abc'], ['-I', '']],
  'listen-backlog': [['-b', '-1']],
  protocol: [['-B', 'http'], ['-B', 'ASCII']],
  'prefix-delimiter': [['-D', 'ab'], ['-D', '']],
  'auth-file': [['-Y', '/f', '-B', 'binary']],
  'enable-sasl': [['-S'], ['-S', '-Y', '/f', '-B', 'ascii']],
  extended: [['-o', 'bogus'], ['-o', 'idle_timeout'], ['-o', 'idle_timeout=x'], ['-o', 'track_sizes=1'], ['-o', 'track_sizes,,modern'], ['-o', 'ext_path=/x:1G'], ['-o', 'ssl_key=/k'], ['-o', 'hashpower=abc']],
  'enable-ssl': [['-Z'], ['-Z', '-o', 'ssl_key=/k'], ['-Z', '-o', 'ssl_chain_cert=/c,ssl_key=/k,ssl_ciphers=x']],
  'snapshot-file': [['-e', '']],
  'snapshot-interval': [['--snapshot-interval', '-1', '-e', '/s'], ['--snapshot-interval', '60']],
  'journal-file': [['--journal-file', ''], ['--journal-file', '/x', '-e', '/x']],
  'journal-fsync': [['--journal-fsync', 'sometimes', '--journal-file', '/j']],
  'json-port': [['--json-port', '-2'], ['--json-port', '65536'], ['--json-port', 'x']],
  'http-port': [['--http-port', 'abc'], ['--http-port', '65536'], ['--http-port', '-2'], ['--http-port']],
  'napi-ids': [['-N', 'x']],
  user: [['-u', ''], ['-u']],
  pidfile: [['-P', ''], ['-P']],
  daemon: [['-d=1'], ['--daemon=yes']],
};

describe('parseArgs: every option of the table', () => {
  it('has an effect test for every option that is not refused or an action', () => {
    const names = OPTIONS.filter((o) => o.support === 'yes' || o.support === 'ignored').map((o) => o.long);
    expect(Object.keys(EFFECT).sort()).toEqual(names.sort());
  });

  it('has nothing but defaults with no arguments', () => {
    expect(parseArgs([])).toEqual({ kind: 'run', config: defaultConfig(), warnings: [] });
  });

  for (const [name, [argv, check]] of Object.entries(EFFECT)) {
    it(`--${name}: ${argv.join(' ')}`, () => check(run(argv).config));
  }

  it('parses each table example', () => {
    for (const o of OPTIONS) {
      const r = parseArgs(o.example);
      if (o.support === 'refused') expect(r).toMatchObject({ kind: 'exit', code: 64 });
      else if (o.support === 'action') expect(r).toMatchObject({ kind: 'exit', code: 0 });
      else expect(r.kind, o.long).toBe('run');
    }
  });

  for (const [name, cases] of Object.entries(INVALID)) {
    for (const argv of cases) {
      it(`--${name} rejects ${JSON.stringify(argv)}`, () => {
        usageError(argv);
      });
    }
  }

  it('accepts long names, --name=value, attached short values and groups (getopt rules)', () => {
    expect(run(['--port', '11311']).config.port).toBe(11311);
    expect(run(['--port=11311']).config.port).toBe(11311);
    expect(run(['-p11311']).config.port).toBe(11311);
    expect(run(['-I2m']).config.itemSizeMax).toBe(2 * MB);
    expect(run(['--max-item-size=4k']).config.itemSizeMax).toBe(4096);
    const g = run(['-AFvv']).config;
    expect([g.shutdownEnabled, g.flushEnabled, g.verbosity]).toEqual([true, false, 2]);
    expect(run(['-D', '-']).config.prefixDelimiter).toBe('-');
    expect(run(['--memory-file', '/m']).config.snapshotFile).toBe('/m');
    expect(run(['-e', '/m']).config.snapshotFile).toBe('/m');
    expect(run(['--disable-cas']).config.useCas).toBe(false);
  });

  it('-p -1 asks for a random port and -p 0 turns TCP off', () => {
    expect(run(['-p', '-1']).config.port).toBe(-1);
    expect(run(['--port=-1']).config.port).toBe(-1);
    expect(run(['-p', '0']).config.port).toBe(0);
  });

  it('counts -v, -vv, -vvv and caps at 3', () => {
    expect(run(['-v']).config.verbosity).toBe(1);
    expect(run(['-v', '-v']).config.verbosity).toBe(2);
    expect(run(['-vvv']).config.verbosity).toBe(3);
    expect(run(['-vvvv', '-v']).config.verbosity).toBe(3);
  });

  it('last value wins for a repeated single-value option', () => {
    expect(run(['-p', '1', '-p', '2']).config.port).toBe(2);
  });
});

describe('-I sizes', () => {
  it('takes k and m suffixes in either case', () => {
    expect(run(['-I', '1k']).config.itemSizeMax).toBe(1024);
    expect(run(['-I', '64K']).config.itemSizeMax).toBe(64 * 1024);
    expect(run(['-I', '2M']).config.itemSizeMax).toBe(2 * MB);
    expect(run(['-I', '1048576']).config.itemSizeMax).toBe(MB);
  });

  it('reaches 1024m when -m allows it, and must stay within half of -m', () => {
    expect(run(['-I', '1024m', '-m', '2048']).config.itemSizeMax).toBe(1024 * MB);
    expect(usageError(['-I', '1024m'])).toMatch(/half of -m/);
    expect(usageError(['-I', '33m'])).toMatch(/half of -m/);
    expect(run(['-I', '32m']).config.itemSizeMax).toBe(32 * MB);
  });

  it('keeps slab_chunk_max consistent with -I', () => {
    expect(run(['-I', '2m']).config.slabChunkMax).toBe(MB / 2);
    expect(run(['-I', '1k']).config.slabChunkMax).toBe(1024);
    const small = run(['-I', '100k']).config;
    expect(small.itemSizeMax % small.slabChunkMax).toBe(0);
    expect(small.slabPageSize % small.slabChunkMax).toBe(0);
    expect(usageError(['-I', '1m', '-o', 'slab_chunk_max=600'])).toMatch(/multiple of slab_chunk_max/);
    expect(usageError(['-I', '256k', '-o', 'slab_chunk_max=512k'])).toMatch(/larger than -I/);
  });
});

describe('-o extended options', () => {
  it('fills Config from the ones that mean something here', () => {
    const c = run(['-o', 'idle_timeout=10,slab_chunk_max=16384,track_sizes,maxconns_fast']);
    expect(c.warnings).toEqual([]);
    expect([c.config.idleTimeout, c.config.slabChunkMax, c.config.trackSizes]).toEqual([10, 16384, true]);
  });

  it('sets the slab page mover up as memcached: automove level, ratio, window; no_slab_reassign turns both off', () => {
    const c = run(['-o', 'slab_automove=2,slab_automove_ratio=0.5,slab_automove_window=10']);
    expect(c.warnings).toEqual([]);
    expect([c.config.slabAutomove, c.config.slabAutomoveRatio, c.config.slabAutomoveWindow, c.config.slabReassign]).toEqual([2, 0.5, 10, true]);
    const off = run(['-o', 'no_slab_reassign']);
    expect([off.config.slabReassign, off.config.slabAutomove]).toEqual([false, 0]);
    expect(usageError(['-o', 'slab_automove=3'])).toBeTruthy();
    expect(usageError(['-o', 'slab_automove_ratio=2'])).toBeTruthy();
  });

  it('makes the LRU flat with no_lru_maintainer, segmented (the default) with lru_maintainer', () => {
    const flat = run(['-o', 'no_lru_maintainer']);
    expect(flat.warnings).toEqual([]);
    expect([flat.config.lru.maintainer, flat.config.lru.segmented]).toEqual([false, false]);
    const seg = run(['-o', 'no_lru_maintainer,lru_maintainer']);
    expect([seg.config.lru.maintainer, seg.config.lru.segmented]).toEqual([true, true]);
  });

  it('tunes the segmented LRU as memcached: shares 1-79 and at most 80 together, age factors above 0', () => {
    const c = run(['-o', 'hot_lru_pct=30,warm_lru_pct=50,hot_max_factor=0.5,warm_max_factor=3']);
    expect(c.warnings).toEqual([]);
    expect(c.config.lru).toMatchObject({ hotPct: 30, warmPct: 50, hotMaxFactor: 0.5, warmMaxFactor: 3 });
    expect(usageError(['-o', 'hot_lru_pct=0'])).toBeTruthy();
    expect(usageError(['-o', 'warm_lru_pct=80'])).toBeTruthy();
    expect(usageError(['-o', 'hot_lru_pct=41,warm_lru_pct=40'])).toMatch(/80%/);
    expect(usageError(['-o', 'warm_lru_pct=61'])).toMatch(/80%/);
    expect(usageError(['-o', 'hot_max_factor=0'])).toMatch(/> 0/);
    expect(usageError(['-o', 'warm_max_factor=x'])).toBeTruthy();
  });

  it('warns once per memcached-internal option and still runs', () => {
    const r = run(['-o', 'modern,hashpower=20,no_hashexpand,slab_automove_freeratio=0.5', '-o', 'no_modern']);
    expect(r.warnings).toHaveLength(5);
    expect(r.warnings[0]).toMatch(/^-o modern ignored/);
    expect(r.warnings[1]).toMatch(/^-o hashpower ignored/);
    for (const w of r.warnings) expect(w).not.toContain('\n');
    expect(r.config).toEqual(defaultConfig());
  });

  it('warns for every ignored name in the table', () => {
    for (const x of EXTENDED_OPTIONS.filter((e) => e.support === 'ignored')) {
      const item = x.value === 'none' ? x.name : `${x.name}=${x.value === 'number' ? '0.5' : '1'}`;
      expect(run(['-o', item]).warnings, item).toHaveLength(1);
    }
  });

  it('refuses unknown names and names of features we lack', () => {
    expect(usageError(['-o', 'idle_timeout=1,frobnicate'])).toMatch(/unknown extended option "frobnicate"/);
    expect(usageError(['-o', 'ext_path=/x:1G'])).toMatch(/extstore/);
    expect(usageError(['-o', 'proxy_config=/x'])).toMatch(/proxy/);
    expect(usageError(['-o', 'relaxed_privileges'])).toMatch(/unknown/);
  });
});

describe('refusals and warnings for memcached options we cannot honour', () => {
  it('refuses -U other than 0, explaining UDP amplification', () => {
    const err = usageError(['-U', '11211']);
    expect(err).toMatch(/UDP is not supported/);
    expect(err).toMatch(/2018/);
    expect(err).toMatch(/amplification/);
  });

  it('refuses -Z without its certificate options', () => {
    expect(usageError(['-Z'])).toMatch(/TLS/);
  });

  it('accepts -d, -u and -P silently', () => {
    const r = run(['-d', '-u', 'nobody', '-P', '/p']);
    expect(r.warnings).toEqual([]);
    expect(r.config).toEqual({ ...defaultConfig(), daemonize: true, user: 'nobody', pidFile: '/p' });
  });

  it('warns for -r, -k, -L, -N', () => {
    const r = run(['-r', '-k', '-L', '-N', '2']);
    expect(r.warnings).toHaveLength(4);
    expect(r.config).toEqual(defaultConfig());
  });
});

describe('bad command lines', () => {
  for (const argv of [['-Q'], ['--nope'], ['--nope=1'], ['-vQ'], ['stray'], ['-p', '1', '--', 'x'], ['-A=1'], ['--enable-shutdown=false']]) {
    it(`${JSON.stringify(argv)} is one line and exit 64`, () => {
      usageError(argv);
    });
  }

  it('names the unknown option as typed', () => {
    expect(usageError(['-Q'])).toBe('memcached-ts: unknown option -Q (see --help)\n');
    expect(usageError(['--frob'])).toMatch(/unknown option --frob/);
  });
});

describe('-h, -V, -i', () => {
  it('-V prints the version', () => {
    expect(parseArgs(['-V'])).toEqual({ kind: 'exit', code: 0, stdout: `memcached-ts ${PACKAGE_VERSION} (memcached ${VERSION})\n` });
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(PACKAGE_VERSION).toBe(pkg.version);
    // the npm `memcached` client takes /\d+\.\d+\.\d+$/ from the VERSION line and throws without it
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    expect(parseArgs(['--version'])).toMatchObject({ kind: 'exit', code: 0 });
  });

  it('-h prints help that lists every option and extended option of the table', () => {
    const r = parseArgs(['-h']);
    expect(r).toMatchObject({ kind: 'exit', code: 0 });
    const help = r.kind === 'exit' ? (r.stdout ?? '') : '';
    expect(help).toBe(renderHelp());
    for (const o of OPTIONS) expect(help, o.long).toContain(helpLabel(o));
    for (const x of EXTENDED_OPTIONS) expect(help, x.name).toContain(x.name);
    for (const line of help.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
  });

  it('--help separates every label from its description, and wraps every line at 80', () => {
    const help = renderHelp();
    const labels = [
      ...OPTIONS.map(helpLabel),
      ...EXTENDED_OPTIONS.filter((x) => x.support === 'yes').map((x) => (x.value === 'none' ? x.name : `${x.name}=${x.value.toUpperCase()}`)),
      'ignored with a warning',
      'refused',
    ];
    const lines = help.split('\n');
    for (const label of labels) {
      const line = lines.find((l) => l.startsWith(`  ${label} `) || l === `  ${label}`);
      expect(line, label).toBeDefined();
      // either the label alone (the description below it) or two spaces or more, then the description
      expect(line!.slice(2 + label.length), label).toMatch(/^(| {2,}\S.*)$/);
    }
    // the regression: "slab_automove_ratio=NUMBERThe automover..."
    expect(help).not.toMatch(/[A-Z]{2}[A-Z][a-z]/);
    for (const line of lines) {
      expect(line.length, line).toBeLessThanOrEqual(80);
      // a description line starts at column 28, an entry at 2, a heading at 0
      expect(line, line).toMatch(/^(|\S.*|  \S.*| {28}\S.*)$/);
    }
  });

  it('wraps text at the width, cutting a word longer than a line', () => {
    expect(wrap('aa bb cc', 5)).toEqual(['aa bb', 'cc']);
    expect(wrap('x ' + 'y'.repeat(12), 5)).toEqual(['x', 'yyyyy', 'yyyyy', 'yy']);
    expect(wrap('  lead  and  trail  ', 80)).toEqual(['lead and trail']);
  });

  it('--help lists each option with the support status the parser gives it', () => {
    const help = renderHelp();
    const valueFor = (x: (typeof EXTENDED_OPTIONS)[number]): string =>
      x.value === 'none' ? x.name : `${x.name}=${{ integer: '1', number: '0.5', size: '1m', text: '/x' }[x.value]}`;
    /** One entry of the help: its first line and the description lines under it. */
    const section = (title: string): string => {
      const from = help.indexOf(`\n${title}`) + 1;
      const next = /\n(?! {28})/g;
      next.lastIndex = from;
      return help.slice(from, next.exec(help)!.index);
    };
    const refused = section('  refused ').replace(/\s+/g, ' ');
    const ignored = section('  ignored with a warning').replace(/\s+/g, ' ');
    for (const x of EXTENDED_OPTIONS) {
      const argv = x.name.startsWith('ssl_') ? ['-Z', '-o', `ssl_chain_cert=/c,ssl_key=/k,${valueFor(x)}`] : ['-o', valueFor(x)];
      const r = run(argv);
      expect(r.warnings.length > 0, x.name).toBe(x.support === 'ignored');
      expect(ignored.includes(` ${x.name},`) || ignored.endsWith(` ${x.name}`), x.name).toBe(x.support === 'ignored');
      // an accepted name under a refused prefix is listed as an exception to it
      for (const [prefix] of REFUSED_EXTENDED_PREFIXES) {
        if (x.name.startsWith(prefix)) expect(refused, x.name).toMatch(new RegExp(`${prefix}\\* \\(except [^)]*\\b${x.name}\\b`));
      }
    }
    for (const [prefix] of REFUSED_EXTENDED_PREFIXES) {
      expect(refused).toContain(`${prefix}*`);
      expect(parseArgs(['-o', `${prefix}not_an_option=1`]), prefix).toMatchObject({ kind: 'exit', code: 64 });
    }
    // the memcached options that cannot be honoured say which they are, as the parser treats them
    for (const o of OPTIONS.filter((o) => o.support === 'refused' || o.support === 'ignored')) {
      expect(o.description, o.long).toMatch(o.support === 'refused' ? /^Refused: / : /^Ignored with a warning: /);
    }
  });

  it('-i prints the license', () => {
    expect(parseArgs(['-i'])).toMatchObject({ kind: 'exit', code: 0, stdout: expect.stringMatching(/MIT/) });
  });
});

describe('man page', () => {
  const committed = readFileSync(new URL('../man/memcached-ts.1', import.meta.url), 'utf8');

  it('is the rendered one (run `npm run man` after changing the table)', () => {
    expect(committed).toBe(renderManPage());
  });

  it('has one entry per option, every extended option and the required sections', () => {
    for (const o of OPTIONS) {
      expect(committed, o.long).toContain(`\\fB\\-\\-${o.long.replace(/-/g, '\\-')}\\fR`);
      for (const s of o.short) expect(committed, s).toContain(`\\fB\\-${s}\\fR`);
    }
    for (const x of EXTENDED_OPTIONS) expect(committed, x.name).toContain(`\\fB${x.name}\\fR`);
    for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'EXTENDED OPTIONS', 'SECURITY', 'SNAPSHOTS', 'ENVIRONMENT', 'EXIT STATUS', 'SEE ALSO']) {
      expect(committed).toMatch(new RegExp(`^\\.SH ${section}$`, 'm'));
    }
    expect(committed).toContain('MEMCACHED_PORT_FILENAME');
    expect(committed).toMatch(/2018/);
  });
});

describe('settingsStats', () => {
  // `printf 'stats settings\r\n'` against memcached 1.6.18 (Debian), in its order.
  const MEMCACHED_1_6_18 = `maxbytes maxconns tcpport udpport inter verbosity oldest evictions domain_socket
    umask shutdown_command growth_factor chunk_size num_threads num_threads_per_udp stat_key_prefix
    detail_enabled reqs_per_event cas_enabled tcp_backlog binding_protocol auth_enabled_sasl
    auth_enabled_ascii item_size_max maxconns_fast hashpower_init slab_reassign slab_automove
    slab_automove_ratio slab_automove_window slab_chunk_max lru_crawler lru_crawler_sleep
    lru_crawler_tocrawl tail_repair_time flush_enabled dump_enabled hash_algorithm
    lru_maintainer_thread lru_segmented hot_lru_pct warm_lru_pct hot_max_factor warm_max_factor
    temp_lru temporary_ttl idle_timeout watcher_logbuf_size worker_logbuf_size read_buf_mem_limit
    track_sizes inline_ascii_response ext_item_size ext_item_age ext_low_ttl ext_recache_rate
    ext_wbuf_size ext_compact_under ext_drop_under ext_max_sleep ext_max_frag
    slab_automove_freeratio ext_drop_unread ssl_enabled ssl_chain_cert ssl_key ssl_verify_mode
    ssl_keyformat ssl_ciphers ssl_ca_cert ssl_wbuf_size ssl_session_cache ssl_kernel_tls
    ssl_min_version num_napi_ids memory_file`.split(/\s+/);

  it('has memcached 1.6.18 names in its order', () => {
    expect(settingsStats(defaultConfig()).map(([k]) => k)).toEqual(MEMCACHED_1_6_18);
  });

  it('prints the defaults the way memcached does', () => {
    const s = stats(defaultConfig());
    expect(Object.fromEntries(['maxbytes', 'maxconns', 'tcpport', 'udpport', 'evictions', 'domain_socket', 'umask', 'growth_factor', 'binding_protocol', 'cas_enabled', 'item_size_max', 'slab_chunk_max', 'memory_file', 'auth_enabled_ascii'].map((k) => [k, s.get(k)]))).toEqual({
      maxbytes: '67108864', maxconns: '1024', tcpport: '11211', udpport: '0', evictions: 'on',
      domain_socket: 'NULL', umask: '700', growth_factor: '1.25', binding_protocol: 'auto-negotiate',
      cas_enabled: 'yes', item_size_max: '1048576', slab_chunk_max: '524288', memory_file: '(null)',
      auth_enabled_ascii: 'no',
    });
    for (const [k, v] of settingsStats(defaultConfig())) {
      expect(v, k).not.toBe('');
      expect(v, k).not.toMatch(/\s/);
    }
  });

  const SHOWN_WHEN_ON = new Set(['journal_file', 'journal_fsync', 'json_port', 'http_port']);
  it('changes the keys the table names when the option is given', () => {
    const base = stats(defaultConfig());
    for (const o of OPTIONS) {
      if (o.statsKeys.length === 0 || o.long === 'udp-port') continue; // -U can only be 0
      const argv = EFFECT[o.long]?.[0] ?? o.example;
      const changed = stats(run(argv).config);
      for (const key of o.statsKeys) {
        if (SHOWN_WHEN_ON.has(key)) {
          // settings memcached does not have: listed only when their feature is on
          expect([base.has(key), changed.has(key)], key).toEqual([false, true]);
          continue;
        }
        expect(base.has(key), key).toBe(true);
        if (o.long === 'extended' && !['idle_timeout', 'slab_chunk_max', 'track_sizes'].includes(key)) continue;
        expect(changed.get(key), `${o.long} -> ${key}`).not.toBe(base.get(key));
      }
    }
    expect(stats(run(['-U', '0']).config).get('udpport')).toBe('0');
  });

  it('matches values memcached printed for the same flags', () => {
    const s = stats(run(['-p', '-1', '-l', '127.0.0.1,127.0.0.2', '-D', '#', '-B', 'ascii', '-A', '-F', '-X', '-M', '-C',
      '-o', 'track_sizes,idle_timeout=30,slab_chunk_max=256', '-I', '2m', '-e', '/dev/shm/x', '-t', '2', '-R', '5',
      '-b', '50', '-c', '99', '-f', '1.5', '-n', '64', '-m', '100', '-vv']).config);
    expect(Object.fromEntries(s)).toMatchObject({
      maxbytes: '104857600', maxconns: '99', tcpport: '-1', inter: '127.0.0.1,127.0.0.2', verbosity: '2',
      evictions: 'off', shutdown_command: 'yes', growth_factor: '1.50', chunk_size: '64', num_threads: '2',
      num_threads_per_udp: '1', stat_key_prefix: '#', reqs_per_event: '5', cas_enabled: 'no', tcp_backlog: '50',
      binding_protocol: 'ascii', item_size_max: '2097152', slab_chunk_max: '256', flush_enabled: 'no',
      dump_enabled: 'no', idle_timeout: '30', track_sizes: 'yes', memory_file: '/dev/shm/x',
    });
  });

  it('reports live state it is given', () => {
    expect(stats(defaultConfig()).get('detail_enabled')).toBe('no');
    expect(new Map(settingsStats(defaultConfig(), { detailEnabled: true })).get('detail_enabled')).toBe('yes');
  });
});

describe('main', () => {
  let out = '';
  let err = '';
  const io = { stdout: (t: string) => void (out += t), stderr: (t: string) => void (err += t) };
  const users = new Map([['root', { name: 'root', uid: 0, gid: 0 }], ['memcache', { name: 'memcache', uid: 102, gid: 105 }]]);
  const host = (euid: number) => ({ euid: () => euid, lookupUser: (name: string) => users.get(name) ?? null });
  const main = (argv: string[], io: CliIo) => cliMain(argv, io, host(1000));
  beforeEach(() => {
    out = '';
    err = '';
    startDaemon.mockReset();
  });

  it('returns the daemon exit code after printing warnings', async () => {
    startDaemon.mockResolvedValue({ tcpPort: 1, stop: async () => {}, stopped: Promise.resolve(3) });
    expect(await main(['-p', '-1', '-k'], io)).toBe(3);
    expect(startDaemon).toHaveBeenCalledTimes(1);
    expect((startDaemon.mock.calls[0]?.[0] as Config).port).toBe(-1);
    expect(err).toMatch(/^memcached-ts: warning: -k ignored[^\n]*\n$/);
  });

  it('prints one line and returns 71 when the daemon cannot start', async () => {
    const e = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:11211\n    at stack'), { code: 'EADDRINUSE' });
    startDaemon.mockRejectedValue(e);
    expect(await main([], io)).toBe(71);
    expect(err).toBe('memcached-ts: cannot start: listen EADDRINUSE: address already in use 127.0.0.1:11211\n');
  });

  it('does not start on a bad command line, and prints help to stdout', async () => {
    expect(await main(['-U', '1'], io)).toBe(64);
    expect(await main(['--help'], io)).toBe(0);
    expect(startDaemon).not.toHaveBeenCalled();
    expect(out).toBe(renderHelp());
    expect(err.trimEnd().split('\n')).toHaveLength(1);
  });

  it('as root: refuses to run without -u (64) or with an unknown user (67), as memcached', async () => {
    expect(await cliMain(['-p', '-1'], io, host(0))).toBe(64);
    expect(err).toBe("memcached-ts: can't run as root without the -u switch (-u USER drops to USER once the listeners are bound; -u root stays root)\n");
    err = '';
    expect(await cliMain(['-p', '-1', '-u', 'nosuchuser'], io, host(0))).toBe(67);
    expect(err).toBe("memcached-ts: can't find the user nosuchuser to switch to\n");
    expect(startDaemon).not.toHaveBeenCalled();
  });

  it('as root: -u root stays root, -u USER checks the files as USER and drops after the bind', async () => {
    startDaemon.mockResolvedValue({ tcpPort: 1, stop: async () => {}, stopped: Promise.resolve(0) });
    expect(await cliMain(['-p', '-1', '-u', 'root'], io, host(0))).toBe(0);
    const asRoot = startDaemon.mock.calls[0]?.[1] as { checkAs?: unknown; afterBind?: unknown };
    expect(asRoot.checkAs).toBeUndefined();
    expect(await cliMain(['-p', '-1', '-u', 'memcache'], io, host(0))).toBe(0);
    const asUser = startDaemon.mock.calls[1]?.[1] as { checkAs?: unknown; afterBind?: unknown };
    expect(typeof asUser.checkAs).toBe('function');
    expect(typeof asUser.afterBind).toBe('function');
    expect(err).toBe('');
  });

  it('not as root: -u is ignored, as memcached ignores it', async () => {
    startDaemon.mockResolvedValue({ tcpPort: 1, stop: async () => {}, stopped: Promise.resolve(0) });
    expect(await main(['-p', '-1', '-u', 'memcache'], io)).toBe(0);
    expect((startDaemon.mock.calls[0]?.[1] as { checkAs?: unknown }).checkAs).toBeUndefined();
    expect(err).toBe('');
  });
});

describe('-o lru_crawler', () => {
  it('no_lru_crawler turns the crawler off, lru_crawler keeps it on, with no warning', () => {
    const off = run(['-o', 'no_lru_crawler']);
    expect(off.warnings).toEqual([]);
    expect(off.config.lruCrawler).toBe(false);
    expect(run(['-o', 'lru_crawler']).config.lruCrawler).toBe(true);
  });
});
