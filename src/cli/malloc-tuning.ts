// glibc's malloc tuned for a long-running daemon, by re-executing the process once with
// MALLOC_MMAP_THRESHOLD_ set.
//
// glibc serves a block smaller than its mmap threshold from its heap and, by default, raises
// that threshold (up to 32 MiB) whenever a larger mapped block is freed. Once a daemon has
// freed one large reply buffer, every connection's 64 KiB buffers come from the heap, and the
// holes that closed connections leave there are not given back to the system. After a burst
// of connections on Node 24 the soak run (bench/soak.ts) ended 150-170 MiB over its
// baseline with the V8 heap back at 11 MiB; with the threshold set to 64 KiB it ended at
// 66 MiB. Setting it also fixes the threshold, so blocks of 64 KiB and more are always mapped
// on their own and unmapped when freed. Buffers that large which the daemon uses again and
// again are pooled (src/protocol/buffer-pool.ts), so the extra mmap calls are few.
//
// glibc reads the variable only when the process starts, so the daemon re-executes itself
// with it set, through process.execve (Node 22.15+, 23.11+); the process id stays the same.
// It runs as started, with glibc's defaults:
// - when MALLOC_MMAP_THRESHOLD_ or GLIBC_TUNABLES is already set (even empty: the operator's
//   choice);
// - when it is the re-executed process (MEMCACHED_TS_REEXEC is set), so it never loops;
// - in secure mode (setuid, file capabilities), where glibc drops the malloc variables at exec;
// - when it was started by fork() with an IPC channel, which would not survive the exec;
// - when the C library is not glibc, or Node has no execve (Node 20);
// - when the node binary is not executable: Node aborts if execve itself fails.

import { accessSync, constants, readFileSync } from 'node:fs';

/** The threshold set: the size of a connection's reply arena (src/protocol/output.ts). */
export const MMAP_THRESHOLD = 64 * 1024;
/** Set in the re-executed process, so it never re-executes again. */
export const REEXEC_MARK = 'MEMCACHED_TS_REEXEC';

export interface Runtime {
  readonly platform: string;
  readonly env: NodeJS.ProcessEnv;
  /** Whether process.execve exists. */
  readonly canExec: boolean;
  /** Whether the process has an IPC channel to its parent (started by fork()). */
  readonly hasIpc: boolean;
  /** Whether the C library is glibc (this and isSecure are asked only when the rest allows a re-exec). */
  readonly isGlibc: () => boolean;
  /** Whether the process runs in secure mode (AT_SECURE: setuid, setgid, file capabilities). */
  readonly isSecure: () => boolean;
}

/** The environment to re-execute with, or null to run as started. */
export function tunedEnv(rt: Runtime): NodeJS.ProcessEnv | null {
  if (rt.platform !== 'linux' || !rt.canExec || rt.hasIpc) return null;
  const env = rt.env;
  if (env[REEXEC_MARK] !== undefined || env.MALLOC_MMAP_THRESHOLD_ !== undefined || env.GLIBC_TUNABLES !== undefined) return null;
  if (!rt.isGlibc() || rt.isSecure()) return null;
  return { ...env, MALLOC_MMAP_THRESHOLD_: String(MMAP_THRESHOLD), [REEXEC_MARK]: '1' };
}

function glibcRuntime(): boolean {
  try {
    const report = process.report as { excludeNetwork?: boolean; getReport(): object };
    report.excludeNetwork = true; // (no DNS lookups for the sockets section: it is not needed)
    const header = (report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
    return typeof header?.glibcVersionRuntime === 'string';
  } catch {
    return false;
  }
}

/** AT_SECURE from the auxiliary vector (pairs of 64-bit words on 64-bit Linux). */
function secureMode(): boolean {
  try {
    const aux = readFileSync('/proc/self/auxv');
    for (let i = 0; i + 16 <= aux.length; i += 16) {
      const type = aux.readBigUInt64LE(i);
      if (type === 0n) break;
      if (type === 23n) return aux.readBigUInt64LE(i + 8) !== 0n;
    }
    return false;
  } catch {
    return true; // unknown: do not re-execute
  }
}

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

/** Re-execute this process with malloc tuned, or return if it is not needed or not possible. */
export function reexecWithMallocTuning(): void {
  const execve = (process as unknown as { execve?: Execve }).execve;
  const env = tunedEnv({
    platform: process.platform,
    env: process.env,
    canExec: typeof execve === 'function',
    hasIpc: process.channel !== undefined,
    isGlibc: glibcRuntime,
    isSecure: secureMode,
  });
  if (env === null || execve === undefined) return;
  try {
    accessSync(process.execPath, constants.X_OK);
    execve.call(process, process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], env);
  } catch {
    // not executable, or refused before the exec (permission model): run as started
  }
}

/**
 * The environment for a daemon this process starts itself (-d): malloc tuned as the re-exec
 * would tune it, so the child needs no re-exec, on every Node version (Node 20 included).
 */
export function tunedChildEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  // the child runs `node` as this process did: secure mode there is not this process's to judge
  return tunedEnv({ platform: process.platform, env, canExec: true, hasIpc: false, isGlibc: glibcRuntime, isSecure: () => false }) ?? env;
}

/** Why this process runs with glibc's defaults although tuning would help, or null. */
export function mallocNotice(): string | null {
  if (typeof (process as unknown as { execve?: Execve }).execve === 'function') return null;
  if (tunedChildEnv(process.env) === process.env) return null; // tuned already, or not glibc on Linux
  return (
    `Node ${process.version} has no process.execve, so glibc's malloc keeps its defaults and memory freed after large replies ` +
    'may stay with the process; set MALLOC_MMAP_THRESHOLD_=65536 in its environment (npm start, -d, contrib/memcached-ts.service and the Dockerfile do) or use Node 22.15+'
  );
}
