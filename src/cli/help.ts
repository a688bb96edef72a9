// --help text, rendered from the option table so that it lists exactly the options we parse.
import {
  EXTENDED_OPTIONS,
  OPTIONS,
  REFUSED_EXTENDED_PREFIXES,
  optionNames,
  type OptionSpec,
} from '../config/options.js';

const WIDTH = 80;
const INDENT = 28;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** "-p, --port=NUM" as printed in --help. */
export function helpLabel(o: OptionSpec): string {
  return optionNames(o).join(', ') + (o.arg ? `=${o.arg}` : '');
}

function entry(label: string, description: string): string {
  const body = wrap(description, WIDTH - INDENT);
  const out: string[] = [];
  const first = body.shift() ?? '';
  if (label.length + 2 <= INDENT) {
    out.push(`  ${label.padEnd(INDENT - 2)}${first}`);
  } else {
    out.push(`  ${label}`);
    out.push(`${' '.repeat(INDENT)}${first}`);
  }
  for (const l of body) out.push(`${' '.repeat(INDENT)}${l}`);
  return out.join('\n');
}

function describe(o: OptionSpec): string {
  return o.defaultText !== undefined ? `${o.description} (default: ${o.defaultText})` : o.description;
}

export function renderHelp(): string {
  const supported = OPTIONS.filter((o) => o.support === 'yes' || o.support === 'action');
  const compat = OPTIONS.filter((o) => o.support === 'ignored' || o.support === 'refused');
  const parts = [
    'Usage: memcached-ts [options]',
    '',
    'A memcached-compatible cache daemon. Options have memcached 1.6 meanings.',
    '',
    'Options:',
    ...supported.map((o) => entry(helpLabel(o), describe(o))),
    '',
    'memcached options that cannot be honoured here:',
    ...compat.map((o) => entry(helpLabel(o), o.description)),
    '',
    'Extended options (-o name[=value],...):',
    ...EXTENDED_OPTIONS.filter((x) => x.support === 'yes').map((x) =>
      entry(x.value === 'none' ? x.name : `${x.name}=${x.value.toUpperCase()}`, x.description),
    ),
    entry(
      'ignored with a warning',
      EXTENDED_OPTIONS.filter((x) => x.support === 'ignored').map((x) => x.name).join(', '),
    ),
    entry('refused', REFUSED_EXTENDED_PREFIXES.map(([p]) => `${p}*`).join(', ')),
    '',
    ...wrap('Exit status: 0 after a clean shutdown, 64 for a bad command line, 71 if the daemon cannot start.', WIDTH),
  ];
  return parts.join('\n') + '\n';
}
