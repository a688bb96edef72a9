// The few filesystem calls the snapshot writer makes, behind one interface so tests can inject
// ENOSPC, a read-only directory or a file vanishing mid-write through the real code path.
import fs from 'node:fs/promises';

export interface SnapshotFile {
  write(buf: Uint8Array, off: number, len: number): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface SnapshotFs {
  /** Create a new file for writing (fails if it exists). */
  create(path: string): Promise<SnapshotFile>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** fsync a directory so a rename in it is durable. */
  syncDir(dir: string): Promise<void>;
}

export const realSnapshotFs: SnapshotFs = {
  async create(path) {
    const fh = await fs.open(path, 'wx', 0o600);
    return {
      async write(buf, off, len) {
        let done = 0;
        while (done < len) {
          const { bytesWritten } = await fh.write(buf, off + done, len - done);
          done += bytesWritten;
        }
      },
      sync: () => fh.sync(),
      close: () => fh.close(),
    };
  },
  rename: (from, to) => fs.rename(from, to),
  unlink: (path) => fs.unlink(path),
  async syncDir(dir) {
    const fh = await fs.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
};
