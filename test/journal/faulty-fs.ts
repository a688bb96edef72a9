// A journal filesystem whose writes and fsyncs fail or wait on demand, through the real code path.
import { realJournalFs, type JournalFile, type JournalFs } from '../../src/persistence/journal-fs.js';

/** A JournalFs whose writes and fsyncs fail with `code` while it is set. */
export class FaultyFs implements JournalFs {
  writeFails: string | null = null;
  syncFails: string | null = null;
  /** While set, an asynchronous fsync waits for it before it goes on (a slow disk). */
  syncHeld: Promise<void> | null = null;
  /** Asynchronous fsyncs started. */
  syncsStarted = 0;
  writes = 0;
  readonly #real = realJournalFs;
  #wrap(f: JournalFile): JournalFile {
    const fail = (code: string | null): void => {
      if (code !== null) throw Object.assign(new Error(`injected ${code}`), { code });
    };
    return {
      datasync: async () => {
        this.syncsStarted++;
        if (this.syncHeld !== null) await this.syncHeld;
        fail(this.syncFails);
        return f.datasync();
      },
      writeSync: (buf, off, len, pos) => {
        this.writes++;
        fail(this.writeFails);
        return f.writeSync(buf, off, len, pos);
      },
      datasyncSync: () => {
        fail(this.syncFails);
        f.datasyncSync();
      },
      close: () => f.close(),
    };
  }
  open(p: string): JournalFile {
    return this.#wrap(this.#real.open(p));
  }
  create(p: string): JournalFile {
    return this.#wrap(this.#real.create(p));
  }
  rename(a: string, b: string): void {
    this.#real.rename(a, b);
  }
  unlink(p: string): void {
    this.#real.unlink(p);
  }
  exists(p: string): boolean {
    return this.#real.exists(p);
  }
  syncDir(d: string): void {
    this.#real.syncDir(d);
  }
}
