// Starting and watching a server process: free port or port file, CPU time and RSS
// from /proc, `stats` over a side connection, and a bounded shutdown.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ServerCommand {
  /** argv with placeholders: {port} (a free port chosen by the runner), {mem} (MB). */
  argv: string[];
  env?: Record<string, string>;
  cwd?: string;
}

export interface StartOptions {
  label: string;
  memMB: number;
  /** Appended to argv (e.g. ['-I', '2m']). */
  extraArgs: string[];
  /** Pin the server (all its threads) to this CPU with taskset; null = no pinning. */
  cpu: number | null;
  host: string;
}

/** Split a command line into argv: whitespace separated, with '…' and "…" quoting. */
export function splitCommand(cmd: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let has = false;
  for (const ch of cmd) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else cur += ch;
  }
  if (quote) throw new Error(`unterminated quote in command: ${cmd}`);
  if (has || cur) out.push(cur);
  return out;
}

export async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

let clkTck: number | null = null;
export function clockTicks(): number {
  if (clkTck === null) clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return clkTck;
}

/** utime + stime of the whole process (all threads), in seconds. */
export function procCpuSeconds(pid: number): number {
  const t = procCpuTimes(pid);
  return t.user + t.system;
}

/** CPU seconds a process has spent in user space and in the kernel (all its threads). */
export function procCpuTimes(pid: number): { user: number; system: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  // Field 2 (comm) may contain spaces; fields after the last ')' are fixed.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  return { user: Number(rest[11]) / clockTicks(), system: Number(rest[12]) / clockTicks() };
}

/** VmRSS in KiB. */
export function procRssKiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m || !m[1]) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** Send one text command and collect the reply up to a terminating line. */
export async function textCommand(host: string, port: number, cmd: string, terminator: RegExp, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    let acc = '';
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`"${cmd}" timed out`));
    }, timeoutMs);
    s.setEncoding('latin1');
    s.on('connect', () => s.write(`${cmd}\r\n`));
    s.on('data', (d: string) => {
      acc += d;
      if (terminator.test(acc)) {
        clearTimeout(t);
        s.end();
        resolve(acc);
      }
    });
    s.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

export async function fetchStats(host: string, port: number): Promise<Record<string, string>> {
  const text = await textCommand(host, port, 'stats', /(^|\r\n)(END|ERROR|SERVER_ERROR[^\r]*)\r\n$/);
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const m = /^STAT (\S+) (.*)$/.exec(line);
    if (m && m[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

export class ServerProcess {
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined = undefined;
  private outputTail = '';

  private constructor(
    readonly label: string,
    readonly argv: string[],
    readonly child: ChildProcess,
    readonly host: string,
    public port: number,
  ) {
    const keep = (d: Buffer): void => {
      this.outputTail = (this.outputTail + d.toString('latin1')).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, sig) => {
        this.exitCode = code ?? (sig ? -1 : null);
        resolve(this.exitCode);
      });
    });
  }

  get pid(): number {
    const p = this.child.pid;
    if (p === undefined) throw new Error(`${this.label}: no pid`);
    return p;
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  cpuSeconds(): number {
    return procCpuSeconds(this.pid);
  }

  cpuTimes(): { user: number; system: number } {
    return procCpuTimes(this.pid);
  }

  rssKiB(): number {
    return procRssKiB(this.pid);
  }

  stats(): Promise<Record<string, string>> {
    return fetchStats(this.host, this.port);
  }

  tail(): string {
    return this.outputTail.trim();
  }

  static async start(cmd: ServerCommand, opts: StartOptions): Promise<ServerProcess> {
    const usesPort = cmd.argv.some((a) => a.includes('{port}'));
    const port = usesPort ? await freePort(opts.host) : 0;
    // Without {port} the server picks its port and says which in its port file. With {port}
    // it gets no port file: the daemon writes that file only once every listener (HTTP and JSON
    // fronts too) is bound, after the main port already answers, and a file whose directory is
    // removed under it stops the start (as memcached's does).
    const tmp = usesPort ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'mcbench-'));
    const portFile = tmp === null ? null : path.join(tmp, 'ports');
    let argv = cmd.argv.map((a) => a.replaceAll('{port}', String(port)).replaceAll('{mem}', String(opts.memMB)));
    argv = [...argv, ...opts.extraArgs];
    if (argv[0] === 'node') argv[0] = process.execPath;
    // taskset execs the server, so the pid we watch is the server's own.
    if (opts.cpu !== null) argv = ['taskset', '-c', String(opts.cpu), ...argv];
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: cmd.cwd,
      env: portFile === null ? { ...process.env, ...cmd.env } : { ...process.env, ...cmd.env, MEMCACHED_PORT_FILENAME: portFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
    const sp = new ServerProcess(opts.label, argv, child, opts.host, port);
    try {
      await Promise.race([sp.waitReady(portFile), spawnError]);
    } catch (e) {
      await sp.stop();
      throw new Error(`${opts.label} did not start (${argv.join(' ')}): ${(e as Error).message}\n${sp.tail()}`);
    } finally {
      if (tmp !== null) fs.rmSync(tmp, { recursive: true, force: true });
    }
    return sp;
  }

  /** Wait for the port (from the port file if given), then for a `version` reply. */
  private async waitReady(portFile: string | null): Promise<void> {
    const deadline = Date.now() + 20_000;
    if (portFile !== null) {
      for (;;) {
        if (!this.alive) throw new Error(`exited with ${this.exitCode} before writing the port file`);
        if (Date.now() > deadline) throw new Error(`no "TCP INET: <port>" in ${portFile} after 20 s`);
        let text = '';
        try {
          text = fs.readFileSync(portFile, 'latin1');
        } catch {
          /* not written yet */
        }
        const m = /^TCP INET: (\d+)$/m.exec(text);
        if (m && m[1]) {
          this.port = Number(m[1]);
          break;
        }
        await sleep(20);
      }
    }
    for (;;) {
      if (!this.alive) throw new Error(`exited with ${this.exitCode}`);
      if (Date.now() > deadline) throw new Error(`not answering on ${this.host}:${this.port} after 20 s`);
      try {
        const v = await textCommand(this.host, this.port, 'version', /\r\n$/, 1000);
        if (v.startsWith('VERSION ')) return;
      } catch {
        /* not listening yet */
      }
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const t = await Promise.race([this.exited.then(() => 'exited'), sleep(3000).then(() => 'timeout')]);
    if (t === 'timeout' && this.alive) {
      this.child.kill('SIGKILL');
      await Promise.race([this.exited, sleep(2000)]);
    }
  }
}

/**
 * Host-wide TCP RetransSegs from /proc/net/snmp. On loopback nothing should ever be
 * retransmitted; when something is, a ~200 ms retransmission timeout shows up as a
 * latency spike, so the runner reports the count next to every run.
 */
export function tcpRetransSegs(): number {
  try {
    const lines = fs.readFileSync('/proc/net/snmp', 'latin1').split('\n').filter((l) => l.startsWith('Tcp:'));
    const names = (lines[0] ?? '').split(/\s+/);
    const vals = (lines[1] ?? '').split(/\s+/);
    const i = names.indexOf('RetransSegs');
    return i >= 0 ? Number(vals[i]) : NaN;
  } catch {
    return NaN;
  }
}

/** CPU seconds the whole host spent busy (all CPUs: everything but idle and iowait), from /proc/stat. */
export function hostBusySeconds(): number {
  const line = fs.readFileSync('/proc/stat', 'latin1').split('\n', 1)[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy / clockTicks();
}

/**
 * Started as root, memcached-ts (like memcached) refuses to run without -u: the default
 * commands of the benches add `-u root` then. A command given on the command line is used as
 * given.
 */
export const RUN_AS_ARGS: readonly string[] = process.geteuid?.() === 0 ? ['-u', 'root'] : [];
export const RUN_AS = RUN_AS_ARGS.map((a) => ` ${a}`).join('');
