// Spawns a memcached-like server on an ephemeral port and waits for the port file it writes
// (memcached's MEMCACHED_PORT_FILENAME convention: a line `TCP INET: <port>`).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants as osConstants } from 'node:os';

export interface PortFileServerOptions {
  /** A short name used in error messages, e.g. "memcached" or "memcached-ts". */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  /** Variables added to this process's environment for the server. */
  readonly env?: Readonly<Record<string, string>>;
  /** How long to wait for the port file before giving up. */
  readonly startTimeoutMs?: number;
}

export interface RunningServer {
  readonly port: number;
  readonly pid: number;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM (then SIGKILL after a grace period); resolves with the exit code (128+signal if killed). */
  stop(): Promise<number>;
  /** Resolves with the exit code whenever the process exits, for whatever reason. */
  readonly exited: Promise<number>;
}

const TCP_LINE = /^TCP INET: (\d+)$/m;
const POLL_MS = 10;

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const signo = signal === null ? 0 : (osConstants.signals[signal] ?? 0);
  return 128 + signo;
}

function readPort(file: string): number | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null; // not written (or not renamed into place) yet
  }
  const m = TCP_LINE.exec(text);
  return m?.[1] === undefined ? null : Number(m[1]);
}

export async function startPortFileServer(opts: PortFileServerOptions): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'mc-port-'));
  const portFile = join(dir, 'ports');
  const child: ChildProcess = spawn(opts.command, [...opts.args], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env, MEMCACHED_PORT_FILENAME: portFile },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderrText = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    stderrText += s;
  });
  let exitCode: number | null = null;
  const exited = new Promise<number>((resolve) => {
    child.on('error', (err) => {
      stderrText += `spawn error: ${err.message}\n`;
      exitCode = 127;
      resolve(127);
    });
    child.on('exit', (code, signal) => {
      exitCode = exitCodeOf(code, signal);
      resolve(exitCode);
    });
  });
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  exited.then(cleanup, cleanup);

  const describe = (): string =>
    `${opts.name} (${opts.command} ${opts.args.join(' ')})` +
    (stderrText === '' ? '' : `\nstderr:\n${stderrText}`);

  const deadline = Date.now() + (opts.startTimeoutMs ?? 10_000);
  let port: number | null = null;
  while (port === null) {
    if (exitCode !== null) throw new Error(`${describe()}\nexited with code ${exitCode} before writing its port file`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${describe()}\ndid not write ${portFile} in time`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
    port = readPort(portFile);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${describe()}\nhas no pid`);

  const stop = async (): Promise<number> => {
    if (exitCode !== null) return exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  return { port, pid, stderr: () => stderrText, stop, exited };
}
