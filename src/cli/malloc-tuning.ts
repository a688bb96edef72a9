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
// It leaves the environment alone when either variable that tunes malloc is already set
// (GLIBC_TUNABLES, even empty, keeps glibc's defaults), when the C library is not glibc, and
// on older Node versions, which have no execve and run with glibc's defaults.

/** The threshold set: the size of a connection's reply arena (src/protocol/output.ts). */
export const MMAP_THRESHOLD = 64 * 1024;

export interface Runtime {
  readonly platform: string;
  readonly env: NodeJS.ProcessEnv;
  /** Whether process.execve exists. */
  readonly canExec: boolean;
  /** Whether the C library is glibc (asked only when the rest allows a re-exec). */
  readonly isGlibc: () => boolean;
}

/** The environment to re-execute with, or null to run as started. */
export function tunedEnv(rt: Runtime): NodeJS.ProcessEnv | null {
  if (rt.platform !== 'linux' || !rt.canExec) return null;
  if (rt.env.MALLOC_MMAP_THRESHOLD_ !== undefined || rt.env.GLIBC_TUNABLES !== undefined) return null;
  if (!rt.isGlibc()) return null;
  return { ...rt.env, MALLOC_MMAP_THRESHOLD_: String(MMAP_THRESHOLD) };
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

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

/** Re-execute this process with malloc tuned, or return if it is not needed or not possible. */
export function reexecWithMallocTuning(): void {
  const execve = (process as unknown as { execve?: Execve }).execve;
  const env = tunedEnv({ platform: process.platform, env: process.env, canExec: typeof execve === 'function', isGlibc: glibcRuntime });
  if (env === null || execve === undefined) return;
  try {
    execve.call(process, process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], env);
  } catch {
    // the exec was refused: run as started, with glibc's defaults
  }
}
