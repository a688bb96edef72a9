// The command line is parsed by yargs in a short-lived child process, so that yargs and the
// modules it loads (cliui, string-width with its Intl.Segmenter, y18n and its locales) never
// enter the daemon: a module, once imported, stays in the process for good, and these held
// ~5.5 MiB of the daemon's RSS (bench/RESULTS-memory.md). The child runs the same parseArgs()
// and hands back its result whole; the cost is one short node start (tens of ms) at startup.
// When the child cannot run (no permission to spawn, a missing file, any failure), the
// command line is parsed here instead, with the same result.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import type { ParseResult } from './parse-args.js';

const CHILD = fileURLToPath(new URL('./parse-child.js', import.meta.url));
/** A parse takes well under a second; a child stuck longer is killed and the parse done here. */
const CHILD_TIMEOUT_MS = 30_000;

function isParseResult(x: unknown): x is ParseResult {
  if (typeof x !== 'object' || x === null) return false;
  const kind = (x as { kind?: unknown }).kind;
  return kind === 'run' || kind === 'exit';
}

/** The result from a child process, or null when it gives none. */
export function parseInChild(argv: readonly string[], child: string): ParseResult | null {
  try {
    const r = spawnSync(process.execPath, [child, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: CHILD_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
      windowsHide: true,
    });
    if (r.error !== undefined || r.status !== 0 || r.stdout.length === 0) return null;
    const result: unknown = v8.deserialize(r.stdout);
    return isParseResult(result) ? result : null;
  } catch {
    return null;
  }
}

/** parseArgs(argv), run in a child process when possible (`child` is for tests). */
export async function parseCommandLine(argv: readonly string[], child: string = CHILD): Promise<ParseResult> {
  const result = parseInChild(argv, child);
  if (result !== null) return result;
  const { parseArgs } = await import('./parse-args.js');
  return parseArgs(argv);
}
