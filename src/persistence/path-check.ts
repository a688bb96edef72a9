// Where a persistence file (snapshot, journal) may live. Such a file is replaced by renaming a
// temp file over it, which would just as happily replace /dev/null, a FIFO or a symlink, so the
// path must be absent or a regular file, in an existing directory this process can write.
import fs from 'node:fs';
import path from 'node:path';

let probeSeq = 0;

/**
 * Null when `file` can be used for a persistence file; otherwise one line saying why not,
 * starting with `what` (e.g. "snapshot file"). Checked at startup so that a wrong path stops
 * the daemon before it serves, instead of failing at the first save or at shutdown.
 */
export function checkPersistencePath(file: string, what: string): string | null {
  const target = targetProblem(file, what);
  if (target !== null) return target;
  const dir = path.dirname(path.resolve(file));
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${what} ${file}: the directory ${dir} does not exist`;
    return `${what} ${file}: cannot use the directory ${dir} (${errText(err)})`;
  }
  if (!st.isDirectory()) return `${what} ${file}: ${dir} is not a directory`;
  // A real file, not access(2): root passes W_OK on a directory whatever its mode bits, and
  // only creating a file shows a read-only mount, an immutable directory or an ACL.
  const probe = path.join(dir, `.${path.basename(file)}.probe-${process.pid}-${++probeSeq}`);
  try {
    fs.closeSync(fs.openSync(probe, 'wx', 0o600));
  } catch (err) {
    return `${what} ${file}: cannot create files in ${dir} (${errText(err)})`;
  }
  try {
    fs.unlinkSync(probe);
  } catch (err) {
    return `${what} ${file}: cannot remove files in ${dir} (${errText(err)}; remove ${probe})`;
  }
  return null;
}

/**
 * Null when whatever is at `file` may be replaced by a rename: nothing, or a regular file.
 * A symlink is refused rather than followed: replacing it would cut the link, and writing
 * through it would let the link (perhaps made by someone else) choose what gets replaced.
 */
export function targetProblem(file: string, what: string): string | null {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return `${what} ${file}: cannot check it (${errText(err)})`;
  }
  return kindProblem(st, file, what);
}

/** The same check with a non-blocking lstat, for a writer that runs while clients are served. */
export async function targetProblemAsync(file: string, what: string): Promise<string | null> {
  let st: fs.Stats;
  try {
    st = await fs.promises.lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return `${what} ${file}: cannot check it (${errText(err)})`;
  }
  return kindProblem(st, file, what);
}

function kindProblem(st: fs.Stats, file: string, what: string): string | null {
  if (st.isFile()) return null;
  const kind = st.isSymbolicLink()
    ? 'a symbolic link (give the path of the file itself)'
    : st.isDirectory()
      ? 'a directory'
      : st.isFIFO()
        ? 'a FIFO'
        : st.isCharacterDevice()
          ? 'a character device'
          : st.isBlockDevice()
            ? 'a block device'
            : st.isSocket()
              ? 'a socket'
              : 'not a regular file';
  return `${what} ${file} is ${kind}; only a regular file is ever replaced`;
}

function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message.replace(/^\w+: /, '')}` : String(e.message ?? err);
}
