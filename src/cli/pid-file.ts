// -P FILE: the process id, written once the daemon is bound and removed at exit.
import fs from 'node:fs';

/** Write `pid` to `file`; throws a one-line error. */
export function writePidFile(file: string, pid: number = process.pid): void {
  try {
    fs.writeFileSync(file, `${pid}\n`, { mode: 0o644 });
  } catch (err) {
    throw new Error(`cannot write the pid file ${file}: ${(err as Error).message}`);
  }
}

/**
 * Remove `file` if it still holds `pid` (a daemon started since may have written its own).
 * Returns a warning when the file could not be removed, else null.
 */
export function removePidFile(file: string, pid: number = process.pid): string | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return `could not read the pid file ${file} to remove it: ${(err as Error).message}`;
  }
  if (text.trim() !== String(pid)) return null;
  try {
    fs.unlinkSync(file);
    return null;
  } catch (err) {
    return `could not remove the pid file ${file}: ${(err as Error).message}`;
  }
}
