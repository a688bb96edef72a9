// twemproxy (Debian's `nutcracker`) in front of some daemons, for the tests: find the binary
// (and the skip policy when it is missing), write a pool config, start it on free loopback
// ports, and read its JSON stats (ejections, per-server counters).
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort, waitFor } from './cluster.js';

/** NUTCRACKER_BIN when set (only that file), else `nutcracker` on PATH or in the sbin directories. */
function findNutcracker(): string | null {
  const fromEnv = process.env.NUTCRACKER_BIN;
  if (fromEnv !== undefined && fromEnv !== '') {
    try {
      accessSync(fromEnv, fsConstants.X_OK);
      return fromEnv;
    } catch {
      return null;
    }
  }
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin']) {
    if (dir === '') continue;
    const file = join(dir, 'nutcracker');
    try {
      accessSync(file, fsConstants.X_OK);
      return file;
    } catch {
      /* next */
    }
  }
  return null;
}

export const NUTCRACKER_BIN: string | null = findNutcracker();

/**
 * The skip policy (the same as for real memcached, test/support/reference-server.ts): found,
 * true; missing under CI=true, a failure; missing otherwise, a loud banner and false.
 */
export function nutcrackerAvailable(suite: string): boolean {
  if (NUTCRACKER_BIN !== null) return true;
  if (process.env.CI === 'true') {
    throw new Error(`${suite}: nutcracker (twemproxy) not found, and CI=true: install it (apt-get install nutcracker)`);
  }
  const bar = '!'.repeat(78);
  console.warn(
    `\n${bar}\n!! ${suite}: SKIPPED: nutcracker (twemproxy) not found (NUTCRACKER_BIN, PATH, /usr/sbin).\n` +
      `!! Install it (apt-get install nutcracker) to run these tests; CI=true makes this a failure.\n${bar}\n`,
  );
  return false;
}

export interface PoolOptions {
  /** host:port of each backend, in config order. */
  servers: readonly string[];
  /** ms to wait for a connect or a reply before counting a failure. */
  timeoutMs: number;
  /** ms before an ejected server is tried again. */
  retryMs: number;
  /** consecutive failures that eject a server. */
  failureLimit: number;
}

/** The config the README documents; the tests run it with their own addresses and timings. */
export const CONTRIB_CONFIG = join(import.meta.dirname, '..', '..', 'contrib', 'nutcracker.yml');

/**
 * contrib/nutcracker.yml with its listen address, server list and the three timing keys
 * replaced (hash, distribution, ejection and the rest are kept as written there).
 */
export function poolConfig(listenPort: number, o: PoolOptions): string {
  const replace = new Map<string, string>([
    ['listen', `127.0.0.1:${listenPort}`],
    ['timeout', String(o.timeoutMs)],
    ['server_retry_timeout', String(o.retryMs)],
    ['server_failure_limit', String(o.failureLimit)],
  ]);
  const seen = new Set<string>();
  const out: string[] = [];
  let inServers = false;
  for (const line of readFileSync(CONTRIB_CONFIG, 'utf8').split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    if (inServers && line.trimStart().startsWith('- ')) continue;
    inServers = false;
    const m = /^(\s+)(\w+):/.exec(line);
    const key = m?.[2];
    if (key !== undefined && replace.has(key)) {
      out.push(`${m![1]}${key}: ${replace.get(key)}`);
      seen.add(key);
    } else if (key === 'servers') {
      out.push(line, ...o.servers.map((s) => `   - ${s}:1`));
      inServers = true;
      seen.add(key);
    } else {
      out.push(line);
    }
  }
  for (const key of [...replace.keys(), 'servers']) {
    if (!seen.has(key)) throw new Error(`${CONTRIB_CONFIG} has no ${key}: line`);
  }
  return out.join('\n') + '\n';
}

/** The pool's name: the first top-level key of contrib/nutcracker.yml. */
export const POOL_NAME = /^(\w+):/m.exec(readFileSync(CONTRIB_CONFIG, 'utf8'))?.[1] ?? 'memcached_ts';

/** Per-server counters from the stats port (the fields this suite reads). */
export interface ServerStats {
  server_ejected_at: number;
  server_connections: number;
  requests: number;
}

export interface PoolStats {
  server_ejects: number;
  servers: Map<string, ServerStats>;
}

/**
 * Whether process `pid` itself holds a listening TCP socket on `port` (Linux: the socket's
 * inode in /proc/net/tcp{,6} among the process's descriptors). Connecting is not enough: the
 * ports are picked free and handed over, so between the two another test's server may take
 * one, and a connect would then reach it while nutcracker fails to bind and exits.
 */
function listensOn(pid: number, port: number): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // f[1] local address:port, f[3] state (0A = LISTEN), f[9] inode
      if (f.length > 9 && f[1]!.endsWith(`:${hexPort}`) && f[3] === '0A') inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return false;
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m !== null && inodes.has(m[1]!)) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}

/** Read the stats port: nutcracker writes one JSON object and closes. */
function readStats(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.once('end', () => resolve(text));
    s.once('error', reject);
    s.setTimeout(5000, () => {
      s.destroy();
      reject(new Error('nutcracker stats: no reply in 5 s'));
    });
  });
}

export class Nutcracker {
  #child: ChildProcess;
  #exited: Promise<number | null>;
  #log: string;

  private constructor(child: ChildProcess, readonly port: number, readonly statsPort: number, readonly dir: string) {
    this.#child = child;
    this.#log = join(dir, 'nutcracker.log');
    this.#exited = new Promise((r) => child.on('exit', (code) => r(code)));
  }

  /**
   * Start one pool in front of `servers`. Its ports are picked free and then handed to
   * nutcracker (it takes them from its config), so a lost race for a port is retried.
   */
  static async start(o: PoolOptions): Promise<Nutcracker> {
    if (NUTCRACKER_BIN === null) throw new Error('nutcracker is not installed: check nutcrackerAvailable() first');
    let lastError: Error | null = null;
    for (let attempt = 0; attempt < 3; attempt++) {
      const dir = mkdtempSync(join(tmpdir(), 'mcts-nutcracker-'));
      const port = await freePort();
      const statsPort = await freePort();
      const conf = join(dir, 'nutcracker.yml');
      writeFileSync(conf, poolConfig(port, o));
      // -i: stats aggregated every 100 ms (default 30 s) so ejections show up promptly
      const args = ['-c', conf, '-s', String(statsPort), '-a', '127.0.0.1', '-i', '100', '-o', join(dir, 'nutcracker.log'), '-p', join(dir, 'nutcracker.pid')];
      const child = spawn(NUTCRACKER_BIN, args, { stdio: 'ignore' });
      const nc = new Nutcracker(child, port, statsPort, dir);
      try {
        await waitFor('nutcracker to listen', 10_000, async () => {
          if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
          return listensOn(child.pid!, port) && listensOn(child.pid!, statsPort) ? true : undefined;
        });
        return nc;
      } catch (e) {
        lastError = new Error(`nutcracker did not start (${(e as Error).message}); log:\n${nc.log()}`);
        await nc.stop();
      }
    }
    throw lastError!;
  }

  log(): string {
    try {
      return readFileSync(this.#log, 'utf8');
    } catch {
      return '';
    }
  }

  /** The stats port's JSON as nutcracker wrote it (for failure messages). */
  rawStats(): Promise<string> {
    return readStats(this.statsPort);
  }

  async stats(): Promise<PoolStats> {
    const json = JSON.parse(await readStats(this.statsPort)) as Record<string, unknown>;
    const pool = json[POOL_NAME] as Record<string, unknown> | undefined;
    if (pool === undefined) throw new Error(`no pool in nutcracker stats: ${JSON.stringify(json).slice(0, 300)}`);
    const servers = new Map<string, ServerStats>();
    for (const [k, v] of Object.entries(pool)) {
      if (typeof v === 'object' && v !== null) servers.set(k, v as ServerStats);
    }
    return { server_ejects: Number(pool['server_ejects']), servers };
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM');
      const t = setTimeout(() => this.#child.kill('SIGKILL'), 3000);
      await this.#exited;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
