// The daemon's command line: parse, warn, check who runs it, start (or start a detached copy
// with -d), and wait. Returns the exit code; only bin/memcached-ts.js calls process.exit.
import fs from 'node:fs';
import type { Config } from '../config/config.js';
import { startDaemon } from '../daemon.js';
import { absolutePaths, startDetached, StatusReport } from './daemonize.js';
import { parseCommandLine } from './isolated-parse.js';
import { mallocNotice } from './malloc-tuning.js';
import { EXIT_USAGE } from './exit-codes.js';
import { removePidFile, writePidFile } from './pid-file.js';
import { asUser, dropTo, EXIT_NO_USER, lookupUser, type Identity } from './privileges.js';

/** sysexits.h EX_OSERR: memcached exits with it when it cannot bind. */
export const EXIT_START_FAILED = 71;

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** What main asks of the system, so that its decisions can be tested without being root. */
export interface CliHost {
  /** The effective user id; 0 is root. */
  euid(): number;
  lookupUser(name: string): Identity | null;
}

const processIo: CliIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

const processHost: CliHost = { euid: () => process.geteuid?.() ?? -1, lookupUser };

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]?.trim() || 'unknown error';
}

export async function main(argv: string[], io: CliIo = processIo, host: CliHost = processHost): Promise<number> {
  // the detached copy (-d) tells the process that started it what it would have printed
  const status = StatusReport.fromEnv();
  const out: CliIo = status === null ? io : { stdout: io.stdout, stderr: (t) => (status.open ? status.message(t) : io.stderr(t)) };
  const code = await run(argv, out, host, status);
  status?.failed(code);
  return code;
}

async function run(argv: string[], io: CliIo, host: CliHost, status: StatusReport | null): Promise<number> {
  const parsed = await parseCommandLine(argv);
  if (parsed.kind === 'exit') {
    if (parsed.stdout) io.stdout(parsed.stdout);
    if (parsed.stderr) io.stderr(parsed.stderr);
    return parsed.code;
  }
  const config = parsed.config;
  // the process that started a detached copy printed these already
  if (status === null) for (const w of parsed.warnings) io.stderr(`memcached-ts: warning: ${w}\n`);

  // memcached's rule: root must say whom to run as; -u root keeps root
  let target: Identity | null = null;
  if (host.euid() === 0) {
    if (config.user === null) {
      io.stderr("memcached-ts: can't run as root without the -u switch (-u USER drops to USER once the listeners are bound; -u root stays root)\n");
      return EXIT_USAGE;
    }
    const id = host.lookupUser(config.user);
    if (id === null) {
      io.stderr(`memcached-ts: can't find the user ${config.user} to switch to\n`);
      return EXIT_NO_USER;
    }
    if (id.uid !== 0) target = id;
  }
  if (config.daemonize && status === null) {
    return await startDetached({ argv, keepOutput: config.verbosity > 0, stderr: io.stderr });
  }
  if (status !== null) {
    absolutePaths(config);
    process.chdir('/');
    process.on('SIGHUP', () => {}); // memcached -d ignores it too
  }
  if (target !== null) {
    const problem = unreadableAuthFile(config, target);
    if (problem !== null) {
      io.stderr(`memcached-ts: cannot start: ${problem}\n`);
      return EXIT_START_FAILED;
    }
  }
  const drop = target;
  let daemon;
  try {
    daemon = await startDaemon(config, {
      handleSignals: true,
      checkAs: drop === null ? undefined : (check) => asUser(drop, check),
      afterBind: (bound) => {
        if (config.pidFile !== null) writePidFile(config.pidFile);
        if (drop === null) return;
        // what root made for the daemon becomes the user's, as if the user had made it
        for (const file of [bound.unixSocket, bound.journalFile]) if (file !== null) fs.chownSync(file, drop.uid, drop.gid);
        dropTo(drop);
      },
    });
  } catch (err) {
    io.stderr(`memcached-ts: cannot start: ${oneLine(err)}\n`);
    return EXIT_START_FAILED;
  }
  if (config.verbosity > 0) {
    const notice = mallocNotice();
    if (notice !== null) io.stderr(`memcached-ts: notice: ${notice}\n`);
  }
  status?.ready();
  const code = await daemon.stopped;
  if (config.pidFile !== null) {
    const problem = removePidFile(config.pidFile);
    if (problem !== null) io.stderr(`memcached-ts: warning: ${problem}\n`);
  }
  return code;
}

/** -Y is read at every login, after the drop: the user must be able to read it. */
function unreadableAuthFile(config: Config, id: Identity): string | null {
  if (config.authFile === null) return null;
  const file = config.authFile;
  return asUser(id, () => {
    try {
      fs.closeSync(fs.openSync(file, 'r'));
      return null;
    } catch (err) {
      return `the -Y file ${file} cannot be read by user ${id.name} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    }
  });
}
