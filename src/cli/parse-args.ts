// Command line -> Config, with no side effects: the result says what main() should do.
// getopt rules (as memcached uses them) are applied first, then yargs parses.
import yargs from 'yargs';
import { defaultConfig, type Config } from '../config/config.js';
import { OPTIONS, UsageError, validateConfig, type ApplyContext, type OptionSpec } from '../config/options.js';
import { PACKAGE_VERSION, VERSION } from '../version.js';
import { renderHelp } from './help.js';
import { EXIT_USAGE } from './exit-codes.js';

export type ParseResult =
  | { kind: 'run'; config: Config; warnings: string[] }
  | { kind: 'exit'; code: number; stdout?: string; stderr?: string };

export { EXIT_USAGE } from './exit-codes.js';

const PROGRAM = 'memcached-ts';

const LICENSE_TEXT = `${PROGRAM} ${VERSION}
Copyright (c) the memcached-ts authors. Released under the MIT license.
memcached-ts is a separate program that speaks memcached's protocols; it contains no memcached code.
`;

const byShort = new Map<string, OptionSpec>();
const byLong = new Map<string, OptionSpec>();
for (const o of OPTIONS) {
  for (const s of o.short) byShort.set(s, o);
  byLong.set(o.long, o);
  for (const l of o.longAliases ?? []) byLong.set(l, o);
}

function label(o: OptionSpec): string {
  return [...o.short.map((s) => `-${s}`), `--${o.long}`].join('/');
}

/**
 * Rewrites argv the way getopt reads it, so yargs sees one unambiguous token per value:
 * `-I2m` and `-I 2m` become `--max-item-size=2m`, `-p -1` becomes `--port=-1` (a value
 * may start with a dash), `-vvA` becomes `-v -v -A`. Unknown options and stray words are
 * errors here so the message can name them exactly as typed.
 */
export function normalizeArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i] ?? '';
    if (tok === '--') {
      if (i + 1 < argv.length) throw new UsageError(`unexpected argument "${argv[i + 1]}"`);
      break;
    }
    if (tok.startsWith('--')) {
      const eq = tok.indexOf('=');
      const name = eq < 0 ? tok.slice(2) : tok.slice(2, eq);
      const spec = byLong.get(name);
      if (!spec) throw new UsageError(`unknown option --${name}`);
      if (spec.kind === 'value' && eq < 0) {
        if (i + 1 >= argv.length) throw new UsageError(`${label(spec)} needs a value`);
        out.push(`--${spec.long}=${argv[++i]}`);
      } else if (spec.kind !== 'value' && eq >= 0) {
        throw new UsageError(`${label(spec)} takes no value`);
      } else {
        out.push(eq < 0 ? `--${spec.long}` : `--${spec.long}${tok.slice(eq)}`);
      }
      continue;
    }
    if (tok.startsWith('-') && tok.length > 1) {
      for (let j = 1; j < tok.length; j++) {
        const ch = tok[j] ?? '';
        const spec = byShort.get(ch);
        if (!spec) throw new UsageError(`unknown option -${ch}`);
        if (spec.kind !== 'value') {
          out.push(`--${spec.long}`);
          continue;
        }
        const rest = tok.slice(j + 1);
        if (rest !== '') {
          out.push(`--${spec.long}=${rest}`);
        } else {
          if (i + 1 >= argv.length) throw new UsageError(`${label(spec)} needs a value`);
          out.push(`--${spec.long}=${argv[++i]}`);
        }
        break;
      }
      continue;
    }
    throw new UsageError(`unexpected argument "${tok}"`);
  }
  return out;
}

type Parsed = Record<string, unknown>;

function runYargs(args: string[]): Parsed {
  let y = yargs(args)
    .locale('en')
    .strict()
    .help(false)
    .version(false)
    .exitProcess(false)
    .parserConfiguration({
      'camel-case-expansion': false,
      'boolean-negation': false,
      'duplicate-arguments-array': true,
      'short-option-groups': false,
    })
    .fail((msg: string | null, err: Error | null) => {
      throw new UsageError((msg ?? err?.message ?? 'bad command line').split('\n')[0] ?? '');
    });
  for (const o of OPTIONS) {
    y = y.option(o.long, {
      alias: [...o.short, ...(o.longAliases ?? [])],
      type: o.kind === 'flag' ? 'boolean' : o.kind === 'count' ? 'count' : 'string',
      requiresArg: o.kind === 'value',
    });
  }
  return y.parseSync() as Parsed;
}

function occurrences(value: unknown): Array<string | number | boolean> {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((v): v is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof v));
}

function usage(message: string): ParseResult {
  return { kind: 'exit', code: EXIT_USAGE, stderr: `${PROGRAM}: ${message.replace(/\s*\n\s*/g, ' ')} (see --help)\n` };
}

export function parseArgs(argv: readonly string[]): ParseResult {
  let parsed: Parsed;
  try {
    parsed = runYargs(normalizeArgv(argv));
  } catch (err) {
    if (err instanceof UsageError) return usage(err.message);
    throw err;
  }
  if (parsed['help'] === true) return { kind: 'exit', code: 0, stdout: renderHelp() };
  if (parsed['version'] === true) return { kind: 'exit', code: 0, stdout: `${PROGRAM} ${PACKAGE_VERSION} (memcached ${VERSION})\n` };
  if (parsed['license'] === true) return { kind: 'exit', code: 0, stdout: LICENSE_TEXT };

  const config = defaultConfig();
  const warnings: string[] = [];
  const ctx: ApplyContext = {
    warn: (m) => warnings.push(m),
    protocolGiven: false,
    slabChunkMaxGiven: false,
    listenGiven: false,
  };
  for (const o of OPTIONS) {
    if (!o.apply) continue;
    for (const value of occurrences(parsed[o.long])) {
      if (value === false || (o.kind === 'count' && value === 0)) continue;
      try {
        o.apply(config, value, ctx);
      } catch (err) {
        if (err instanceof UsageError) return usage(`${label(o)}: ${err.message}`);
        throw err;
      }
    }
  }
  try {
    validateConfig(config, ctx);
  } catch (err) {
    if (err instanceof UsageError) return usage(err.message);
    throw err;
  }
  return { kind: 'run', config, warnings };
}
