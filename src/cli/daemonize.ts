// -d: Node cannot fork(), so the daemon is a detached copy of this program: a new session
// (setsid), standard input and output on /dev/null (standard error too, unless -v, as
// memcached's daemon(3) call keeps them with -v). The starting process waits on a pipe until
// the copy reports that it serves, or why it could not, and exits with that outcome, so
// `memcached-ts -d ... && next-step` and init scripts see a start failure.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Config } from '../config/config.js';
import { tunedChildEnv } from './malloc-tuning.js';

/** Names the descriptor on which the detached copy reports to the process that started it. */
export const STATUS_FD_ENV = 'MEMCACHED_TS_STATUS_FD';
/** The descriptor the starting process gives the copy (after stdin, stdout, stderr). */
const STATUS_FD = 3;

export interface DetachOptions {
  /** The arguments the copy runs with (this process's own). */
  readonly argv: readonly string[];
  /** Keep standard output and error on this process's (-v). */
  readonly keepOutput: boolean;
  readonly stderr: (text: string) => void;
  /** The script to run (bin/memcached-ts.js); default the one this process runs. */
  readonly script?: string;
}

/**
 * Start the detached copy and wait for its report. Resolves with the exit code for this
 * process: 0 once the copy serves, else the copy's code (its error lines already printed).
 */
export function startDetached(opts: DetachOptions): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...tunedChildEnv(process.env), [STATUS_FD_ENV]: String(STATUS_FD) };
  // the copy works in /, so a relative port file path is made absolute for it here
  const portFile = env.MEMCACHED_PORT_FILENAME;
  if (portFile) env.MEMCACHED_PORT_FILENAME = path.resolve(portFile);
  const out = opts.keepOutput ? 'inherit' : 'ignore';
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...process.execArgv, opts.script ?? process.argv[1]!, ...opts.argv], {
      detached: true,
      stdio: ['ignore', out, out, 'pipe'],
      env,
    });
  } catch (err) {
    opts.stderr(`memcached-ts: cannot start the daemon: ${(err as Error).message}\n`);
    return Promise.resolve(71);
  }
  return new Promise((resolve) => {
    let outcome: number | null = null;
    let pending = '';
    const exited = new Promise<number>((r) => {
      child.once('exit', (code, signal) => r(code ?? (signal === null ? 1 : 128 + signalNumber(signal))));
      child.once('error', (err) => {
        opts.stderr(`memcached-ts: cannot start the daemon: ${err.message}\n`);
        r(71);
      });
    });
    const pipe = child.stdio[STATUS_FD] as Readable;
    pipe.setEncoding('utf8');
    pipe.on('data', (chunk: string) => {
      pending += chunk;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.startsWith('E ')) opts.stderr(JSON.parse(line.slice(2)) as string);
        else if (line === 'R') outcome = 0;
        else if (line.startsWith('X ')) outcome = Number(line.slice(2)) || 1;
      }
    });
    pipe.once('close', () => {
      if (outcome === 0) {
        child.unref();
        resolve(0);
        return;
      }
      // failed, or died without a word: its exit code is the answer
      void exited.then((code) => {
        if (outcome === null) opts.stderr(`memcached-ts: the daemon exited (code ${code}) before it was ready\n`);
        resolve(outcome ?? (code === 0 ? 1 : code));
      });
    });
    pipe.on('error', () => {});
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return os.constants.signals[signal] ?? 0;
}

/** The detached copy's side of the pipe: what it prints, then "serving" or its exit code. */
export class StatusReport {
  #fd: number | null;

  private constructor(fd: number | null) {
    this.#fd = fd;
  }

  /**
   * The report to the starting process, when this process is the detached copy (even if
   * the descriptor is unusable: the copy must never start a copy of its own).
   */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): StatusReport | null {
    const text = env[STATUS_FD_ENV];
    if (text === undefined) return null;
    delete env[STATUS_FD_ENV]; // not for anything this process starts
    const fd = Number(text);
    try {
      // Node's 'pipe' stdio is a socket pair
      const st = fs.fstatSync(fd);
      if (!Number.isInteger(fd) || fd < 3 || !(st.isSocket() || st.isFIFO())) return new StatusReport(null);
    } catch {
      return new StatusReport(null);
    }
    return new StatusReport(fd);
  }

  /** Whether the starting process still listens (until ready() or failed()). */
  get open(): boolean {
    return this.#fd !== null;
  }

  /** Text the starting process prints on its standard error. */
  message(text: string): void {
    this.#send(`E ${JSON.stringify(text)}\n`);
  }

  /** The daemon serves: the starting process exits 0. */
  ready(): void {
    this.#send('R\n');
    this.#close();
  }

  /** The daemon could not start: the starting process exits with `code`. */
  failed(code: number): void {
    this.#send(`X ${code}\n`);
    this.#close();
  }

  #send(line: string): void {
    if (this.#fd === null) return;
    try {
      fs.writeSync(this.#fd, line);
    } catch {
      // the starting process is gone: nobody to tell
    }
  }

  #close(): void {
    if (this.#fd === null) return;
    try {
      fs.closeSync(this.#fd);
    } catch {
      // already closed
    }
    this.#fd = null;
  }
}

/**
 * The detached copy works in / (as memcached's daemon(3) call does, so it holds no mount
 * busy): its file arguments are made absolute against the directory it was started in.
 */
export function absolutePaths(c: Config, cwd: string = process.cwd()): void {
  const abs = (p: string | null): string | null => (p === null ? null : path.resolve(cwd, p));
  c.snapshotFile = abs(c.snapshotFile);
  c.journalFile = abs(c.journalFile);
  c.unixSocket = abs(c.unixSocket);
  c.authFile = abs(c.authFile);
  c.pidFile = abs(c.pidFile);
  c.tlsCertFile = abs(c.tlsCertFile);
  c.tlsKeyFile = abs(c.tlsKeyFile);
  c.tlsCaFile = abs(c.tlsCaFile);
}
