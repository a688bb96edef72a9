// What every bench script does with its command line before any work: --help (or -h) prints
// its usage and exits 0, where node:util's parseArgs would throw on the unknown flag.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** True when argv asks for help (before a `--` that ends the flags). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}

/**
 * parseArgs for a bench script: prints `usage` and exits 0 on --help, and on a flag it does
 * not know prints the error and the usage and exits 2 (not a stack trace).
 */
export function benchArgs<const O extends NonNullable<ParseArgsConfig['options']>>(usage: string, options: O, argv: string[] = process.argv.slice(2)) {
  if (wantsHelp(argv)) {
    process.stdout.write(usage.endsWith('\n') ? usage : usage + '\n');
    process.exit(0);
  }
  try {
    return parseArgs({ args: argv, options, allowPositionals: false }).values;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${usage}\n`);
    process.exit(2);
  }
}

/**
 * Where bench/run.ts writes its report when --out is not given: bench/RESULTS.md only for
 * a full run of the whole suite against memcached; a --quick, partial (--workloads) or
 * --target run prints it to stdout only ("-").
 */
export function defaultReportFile(run: { quick: boolean; workloads?: string | undefined; target?: string | undefined }): string {
  return run.quick || run.workloads !== undefined || run.target !== undefined ? '-' : 'bench/RESULTS.md';
}
