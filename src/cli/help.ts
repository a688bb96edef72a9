// --help text, rendered from the option table so that it lists exactly the options we parse.
import {
  EXTENDED_OPTIONS,
  OPTIONS,
  REFUSED_EXTENDED_PREFIXES,
  optionNames,
  refusedExtendedLabel,
  type OptionSpec,
} from '../config/options.js';

const WIDTH = 80;
/** Column where descriptions start. */
const INDENT = 28;
/** Least space between a label and its description on the same line. */
const GAP = 2;

/** Words of text in lines of at most `width` characters; a longer word is cut. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  const words = text.split(/\s+/).filter((w) => w !== '');
  for (let word of words) {
    while (word.length > width) {
      if (line !== '') lines.push(line);
      lines.push(word.slice(0, width));
      word = word.slice(width);
      line = '';
    }
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
  // a label that leaves less than GAP spaces before the description gets a line of its own
  if (2 + label.length + GAP <= INDENT) {
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
    entry('refused', REFUSED_EXTENDED_PREFIXES.map(([p]) => refusedExtendedLabel(p)).join(', ')),
    '',
    ...wrap('Exit status: 0 after a clean shutdown, 64 for a bad command line, 71 if the daemon cannot start.', WIDTH),
  ];
  return parts.join('\n') + '\n';
}
