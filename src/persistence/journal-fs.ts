// The filesystem calls the journal makes while the daemon runs, behind one interface so tests
// can inject ENOSPC, EIO or a read-only file through the real code path. Startup (replay,
// truncation, creation) uses node:fs directly: it runs before any client is served.
import fs from 'node:fs';

export interface JournalFile {
  /**
   * Write len bytes of buf at `position` (on the loop's thread: into the page cache); returns
   * the bytes written (maybe fewer).
   */
  writeSync(buf: Uint8Array, off: number, len: number, position: number): number;
  /** fdatasync on the thread pool. */
  datasync(): Promise<void>;
  /** fdatasync on the loop's thread, for rotation (which must not interleave with new appends). */
  datasyncSync(): void;
  close(): void;
}

export interface JournalFs {
  /** Open an existing journal file for writing. */
  open(path: string): JournalFile;
  /** Create a new file, failing if it exists. */
  create(path: string): JournalFile;
  rename(from: string, to: string): void;
  unlink(path: string): void;
  exists(path: string): boolean;
  /** fsync a directory so a rename or creation in it is durable. */
  syncDir(dir: string): void;
}

function fileOf(fd: number): JournalFile {
  return {
    datasync: () => new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve()))),
    writeSync: (buf, off, len, position) => fs.writeSync(fd, buf, off, len, position),
    datasyncSync: () => fs.fdatasyncSync(fd),
    close: () => fs.closeSync(fd),
  };
}

export const realJournalFs: JournalFs = {
  open: (path) => fileOf(fs.openSync(path, 'r+')),
  create: (path) => fileOf(fs.openSync(path, 'wx+', 0o600)),
  rename: (from, to) => fs.renameSync(from, to),
  unlink: (path) => fs.unlinkSync(path),
  exists: (path) => fs.existsSync(path),
  syncDir(dir) {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
};
