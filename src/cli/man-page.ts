// man/memcached-ts.1, rendered from the option table. `npm run man` rewrites the file and a
// test checks that the committed page equals this output.
import {
  EXTENDED_OPTIONS,
  OPTIONS,
  REFUSED_EXTENDED_PREFIXES,
  refusedExtendedLabel,
  optionNames,
  type OptionSpec,
} from '../config/options.js';
import { PACKAGE_VERSION } from '../version.js';

/** Escapes text for roff: backslashes, and a leading dot or quote that would be a request. */
function esc(text: string): string {
  return text.replace(/\\/g, '\\e').replace(/^([.'])/gm, '\\&$1');
}

/** Option names use \- so that they render as a minus that can be searched and pasted. */
function dash(name: string): string {
  return name.replace(/-/g, '\\-');
}

function optionHead(o: OptionSpec): string {
  const bold = optionNames(o).map((n) => `\\fB${dash(n)}\\fR`).join(', ');
  return o.arg ? `${bold} \\fI${o.arg}\\fR` : bold;
}

function optionEntry(o: OptionSpec): string[] {
  const text = o.defaultText !== undefined ? `${o.description} Default: ${o.defaultText}.` : o.description;
  return ['.TP', optionHead(o), esc(text)];
}

export function renderManPage(): string {
  const supported = OPTIONS.filter((o) => o.support === 'yes' || o.support === 'action');
  const compat = OPTIONS.filter((o) => o.support === 'ignored' || o.support === 'refused');
  const lines: string[] = [
    '.\\" Generated from src/config/options.ts by `npm run man`; do not edit.',
    `.TH MEMCACHED-TS 1 "" "memcached-ts ${PACKAGE_VERSION}" "User Commands"`,
    '.SH NAME',
    'memcached-ts \\- a memcached-compatible cache daemon written in TypeScript',
    '.SH SYNOPSIS',
    '.B memcached-ts',
    '[\\fIoptions\\fR]',
    '.SH DESCRIPTION',
    esc(
      'memcached-ts is an in-memory key-value cache that speaks the memcached text, meta and ' +
        'binary protocols. It takes memcached 1.6 command-line options with the same meanings, ' +
        'and reports the same names in stats settings, so existing clients, scripts and ' +
        'monitoring keep working. It runs on one Node.js event loop.',
    ),
    '.SH OPTIONS',
    ...supported.flatMap(optionEntry),
    '.SS memcached options that cannot be honoured',
    esc(
      'These are memcached options that memcached-ts cannot honour. "Refused" ones stop ' +
        'startup with exit status 64, because running without them would silently do ' +
        'something else than asked; "ignored" ones print a one-line warning and start anyway.',
    ),
    ...compat.flatMap(optionEntry),
    '.SH EXTENDED OPTIONS',
    esc(
      'The -o option takes a comma-separated list of name or name=value items, as in memcached. ' +
        'It may be given more than once. These items have an effect:',
    ),
    ...EXTENDED_OPTIONS.filter((x) => x.support === 'yes').flatMap((x) => [
      '.TP',
      x.value === 'none' ? `\\fB${x.name}\\fR` : `\\fB${x.name}\\fR=\\fI${x.value}\\fR`,
      esc(x.description),
    ]),
    '.PP',
    esc(
      "These tune internals of memcached that memcached-ts does not have (its threads, LRU " +
        'maintenance and hash table). They are accepted, their values are checked, and each ' +
        'prints a one-line warning:',
    ),
    '.PP',
    EXTENDED_OPTIONS.filter((x) => x.support === 'ignored').map((x) => `\\fB${x.name}\\fR`).join(', '),
    '.PP',
    esc('These are refused, and so is any name not listed here:'),
    ...REFUSED_EXTENDED_PREFIXES.flatMap(([prefix, reason]) => ['.TP', `\\fB${esc(refusedExtendedLabel(prefix))}\\fR`, esc(`${reason}.`)]),
    '.SH SECURITY',
    esc(
      'memcached-ts has no UDP listener, and -U accepts only 0. In February and March 2018, ' +
        'memcached servers with UDP open to the Internet were used to amplify distributed ' +
        'denial-of-service attacks: a small spoofed UDP request made the server send a much ' +
        'larger reply to the victim, reaching more than a terabit per second. memcached itself ' +
        'turned UDP off by default in 1.5.6.',
    ),
    '.PP',
    esc(
      'memcached-ts binds 127.0.0.1 by default, where memcached binds every interface. Use ' +
        '-l to listen elsewhere, and keep the port behind a firewall: the protocol has no ' +
        'access control beyond the optional -Y or -S authentication.',
    ),
    '.SH SNAPSHOTS',
    esc(
      'With --snapshot-file FILE (or memcached\'s warm-restart flag -e/--memory-file FILE) ' +
        'the cache is written to FILE when the daemon stops and loaded from it at startup. ' +
        '--snapshot-interval SECONDS also writes it periodically; 0, the default, writes it ' +
        'only at shutdown.',
    ),
    '.SH ENVIRONMENT',
    '.TP',
    '.B MEMCACHED_PORT_FILENAME',
    esc(
      'If set, the daemon writes the TCP port it listens on to this file as a line ' +
        '"TCP INET: <port>", as memcached does. Useful with -p -1, which picks a free port.',
    ),
    '.TP',
    '.B MALLOC_MMAP_THRESHOLD_',
    esc(
      'On Linux with glibc and a Node that has process.execve (22.15+, 24), the daemon ' +
        're-executes itself once at startup with this set to 65536, keeping its process id, so ' +
        'that buffers of 64 KiB and more are unmapped when freed and memory goes back to the ' +
        'system after a burst of connections. If this or GLIBC_TUNABLES is already set (even ' +
        'empty), the environment is left as it is.',
    ),
    '.SH NOTES',
    esc(
      'On Node 24 the daemon turns off V8\'s Maglev compiler at startup: its hot code is ' +
        'compiled by TurboFan either way, and without Maglev a full cache takes several MiB less ' +
        'memory. Naming a Maglev flag on node\'s command line (node --maglev ' +
        'bin/memcached-ts.js) keeps what it says. Node 20 and 22 are built without Maglev.',
    ),
    '.SH EXIT STATUS',
    '.TP',
    '.B 0',
    esc('Clean shutdown, or -h, -V or -i.'),
    '.TP',
    '.B 64',
    esc('Bad command line: unknown option, invalid value, or a refused option (one line on stderr).'),
    '.TP',
    '.B 71',
    esc('The daemon could not start, for example because the port is in use.'),
    '.SH SEE ALSO',
    '.BR memcached (1)',
  ];
  return lines.join('\n') + '\n';
}
