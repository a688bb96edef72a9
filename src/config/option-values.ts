// What every option table shares: the usage error, the option specs' types, and the strict
// value parsers (a typo is an error instead of memcached's atoi() zero).
import { MB, type Config } from './config.js';

/** A bad command line. The message is one line; the CLI exits with 64 (EX_USAGE). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** How an option behaves here compared with memcached. */
export type Support =
  | 'yes' // fills Config
  | 'ignored' // accepted for compatibility, prints a one-line warning
  | 'refused' // a startup error: it cannot be honoured and pretending would mislead
  | 'action'; // prints something and exits (help, version, license)

export type OptionKind = 'flag' | 'count' | 'value';

/** State shared by the apply() calls of one parse. */
export interface ApplyContext {
  warn(message: string): void;
  /** -B was given, so -S / -Y must agree with it instead of choosing the protocol. */
  protocolGiven: boolean;
  /** -o slab_chunk_max was given, so -I must not adjust it. */
  slabChunkMaxGiven: boolean;
  /** -l was given at least once, so the next -l appends instead of replacing the default. */
  listenGiven: boolean;
}

export interface OptionSpec {
  /** Long name without dashes (memcached's where it has one). */
  readonly long: string;
  /** One-letter aliases (memcached's), and extra long aliases. */
  readonly short: readonly string[];
  readonly longAliases?: readonly string[];
  readonly kind: OptionKind;
  /** Placeholder for the value in help and man page. */
  readonly arg?: string;
  /** Default as shown to users; absent when there is none worth showing. */
  readonly defaultText?: string;
  readonly description: string;
  readonly support: Support;
  /** The `stats settings` names this option changes. */
  readonly statsKeys: readonly string[];
  /** A valid use, for the tests and as a check that the option really parses. */
  readonly example: readonly string[];
  /** Called once per occurrence, in command-line order for the same option. */
  readonly apply?: (config: Config, value: string | number | boolean, ctx: ApplyContext) => void;
}

export interface ExtendedOptionSpec {
  readonly name: string;
  /** 'none': a bare word; the others need `name=value`. */
  readonly value: 'none' | 'integer' | 'number' | 'size' | 'text';
  readonly description: string;
  readonly support: Exclude<Support, 'action'>;
  readonly statsKeys: readonly string[];
  readonly apply?: (config: Config, value: string | undefined, ctx: ApplyContext) => void;
}

// ---- value parsers: strict, so a typo is an error instead of memcached's atoi() zero ----

export function parseInteger(text: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(text)) throw new UsageError(`"${text}" is not an integer`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${text} is out of range (${min}..${max})`);
  }
  return n;
}

/** Bytes with an optional k/m suffix (powers of 1024), as memcached's -I takes them. */
export function parseSize(text: string): number {
  const m = /^(\d+)([kKmM]?)$/.exec(text);
  if (!m) throw new UsageError(`"${text}" is not a size (a number of bytes, optionally with a k or m suffix)`);
  const unit = m[2]?.toLowerCase();
  const n = Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? MB : 1);
  if (!Number.isSafeInteger(n)) throw new UsageError(`${text} is too large`);
  return n;
}

export function parseDecimal(text: string): number {
  if (!/^\d+(\.\d+)?$/.test(text)) throw new UsageError(`"${text}" is not a number`);
  return Number(text);
}

export function str(value: string | number | boolean): string {
  return String(value);
}
