// The daemon's command line: parse, warn, start, and wait. Returns the exit code;
// only bin/memcached-ts.js calls process.exit.
import { startDaemon } from '../daemon.js';
import { parseCommandLine } from './isolated-parse.js';

/** sysexits.h EX_OSERR: memcached exits with it when it cannot bind. */
export const EXIT_START_FAILED = 71;

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo: CliIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]?.trim() || 'unknown error';
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const parsed = await parseCommandLine(argv);
  if (parsed.kind === 'exit') {
    if (parsed.stdout) io.stdout(parsed.stdout);
    if (parsed.stderr) io.stderr(parsed.stderr);
    return parsed.code;
  }
  for (const w of parsed.warnings) io.stderr(`memcached-ts: warning: ${w}\n`);
  let daemon;
  try {
    daemon = await startDaemon(parsed.config, { handleSignals: true });
  } catch (err) {
    io.stderr(`memcached-ts: cannot start: ${oneLine(err)}\n`);
    return EXIT_START_FAILED;
  }
  return await daemon.stopped;
}
