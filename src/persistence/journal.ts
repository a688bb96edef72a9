// The journal: the cache's change listener. Every reported change becomes a checksummed,
// sequence-numbered record in memory at once; records reach the file in one write per
// event-loop turn with `always` (group commit across connections) and within 10 ms with the
// other policies, and the fsync policy decides when they are made durable:
//   always    one write and one fdatasync per batch, and connections hold the replies to the
//             changes they made until that batch is on disk (DurabilityGate)
//   everysec  fdatasync at most about a second after a write
//   no        the OS flushes when it likes
// A write or fsync that fails (ENOSPC, EIO, EROFS) puts the journal in a failed state: the
// cache refuses writes (the callback below), waiting replies are never sent, and the records
// since the last durable point are kept and written again every second until it works.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ChangeKind, type Change, type ChangeListener, type DurabilityGate, type ItemReader } from '../cache/change.js';
import type { Logger } from '../log.js';
import { ENTRY_HEADER_BYTES, EntryType, FLUSH_FIXED, ITEM_FIXED, JOURNAL_HEADER_BYTES, META_FIXED, RECORD_HEADER_BYTES, recordCrc } from './journal-format.js';
import { realJournalFs, type JournalFile, type JournalFs } from './journal-fs.js';
import { newJournalFile } from './journal-replay.js';
import { targetProblem } from './path-check.js';

export type FsyncPolicy = 'always' | 'everysec' | 'no';

export interface JournalOptions {
  file: string;
  fsync: FsyncPolicy;
  log: Logger;
  /** The file as replay left it: open, its size, and the next sequence number. */
  size: number;
  nextSeq: number;
  /** Settings the file header records. */
  useCas: boolean;
  itemSizeMax: number;
  /** Told the reason writes must be refused (a failure), or null when they may go on. */
  onRefusal: (reason: string | null) => void;
  fs?: JournalFs;
  /** How often a failed journal tries again (ms). */
  retryMs?: number;
  /** The everysec period (ms). */
  syncMs?: number;
}

const INITIAL_BUFFER = 64 * 1024;
/**
 * everysec and no: records are handed to the kernel this long after the first of them was
 * appended (or at once past WRITE_SOON_BYTES). A write() per event-loop turn cost 15-20% of
 * the server's CPU under memaslap's workload a; every 10 ms it costs about 6%, and a killed
 * process loses at most the last 10 ms of changes (the kernel keeps what it was handed).
 */
const WRITE_DELAY_MS = 10;
const WRITE_SOON_BYTES = 256 * 1024;

export class Journal implements ChangeListener, DurabilityGate {
  readonly file: string;
  readonly policy: FsyncPolicy;
  /** Records appended (the gate's counter). */
  appended = 0;
  // stats
  records = 0;
  fsyncs = 0;
  lastFsyncTime = 0;
  lastFsyncUs = 0;
  errors = 0;
  rotations = 0;
  lastError = '';
  readonly #opts: JournalOptions;
  readonly #fs: JournalFs;
  readonly #log: Logger;
  #file: JournalFile;
  /** File offset where the next write goes, and up to which the file is known durable. */
  #pos: number;
  #durable: number;
  #seq: number;
  #buf: Buffer = Buffer.allocUnsafe(INITIAL_BUFFER);
  #len = 0;
  /** Offset in #buf of the open batch record, or -1. */
  #batchAt = -1;
  /** Written since #durable (with the file offset each ends at), kept to be written again if an fsync fails. */
  #unsynced: Array<{ buf: Buffer; end: number }> = [];
  /** Records handed to the kernel (a value of `appended`). */
  #writtenUpTo = 0;
  /** Records known durable (a value of `appended`). */
  #syncedUpTo = 0;
  #waiters: Array<{ upTo: number; done: (error: string | null) => void }> = [];
  #busy = false;
  /** A write is due at the end of this turn, or at #timer. */
  #immediate = false;
  #timer: NodeJS.Timeout | null = null;
  #syncDue = false;
  #failure: string | null = null;
  #idle: Array<() => void> = [];
  #closed = false;
  readonly #syncTimer: NodeJS.Timeout | null;
  #retryTimer: NodeJS.Timeout | null = null;

  constructor(file: JournalFile, opts: JournalOptions) {
    this.#file = file;
    this.#opts = opts;
    this.file = opts.file;
    this.policy = opts.fsync;
    this.#fs = opts.fs ?? realJournalFs;
    this.#log = opts.log;
    this.#pos = opts.size;
    this.#durable = opts.size;
    this.#seq = opts.nextSeq;
    if (opts.fsync === 'everysec') {
      this.#syncTimer = setInterval(() => {
        if (this.#pos > this.#durable) {
          this.#syncDue = true;
          this.#kickSync();
        }
      }, opts.syncMs ?? 1000);
      this.#syncTimer.unref();
    } else {
      this.#syncTimer = null;
    }
  }

  get bytes(): number {
    return this.#pos + this.#len;
  }

  // ---- appending (synchronous, inside the command that made the change) ----------------------

  onChange(c: Readonly<Change>, items: ItemReader): void {
    switch (c.kind) {
      case ChangeKind.BatchBegin:
        this.#batchAt = this.#reserveRecord();
        return;
      case ChangeKind.BatchEnd: {
        const at = this.#batchAt;
        this.#batchAt = -1;
        if (at < 0) return;
        if (this.#len === at + RECORD_HEADER_BYTES) this.#len = at; // nothing changed
        else this.#endRecord(at);
        return;
      }
    }
    const at = this.#batchAt >= 0 ? -1 : this.#reserveRecord();
    switch (c.kind) {
      case ChangeKind.Item:
        this.#item(c.id, items);
        break;
      case ChangeKind.Meta:
        this.#meta(c.id, items);
        break;
      case ChangeKind.Delete:
        this.#delete(c.key, c.keyOff, c.keyLen);
        break;
      case ChangeKind.Flush:
        this.#flush(c.delay, c.oldestLive, c.oldestCas);
        break;
    }
    if (at >= 0) this.#endRecord(at);
  }

  #ensure(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#len + n, this.#buf.length * 2));
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }

  #reserveRecord(): number {
    this.#ensure(RECORD_HEADER_BYTES);
    const at = this.#len;
    this.#len += RECORD_HEADER_BYTES;
    return at;
  }

  #endRecord(at: number): void {
    const b = this.#buf;
    const len = this.#len - at - 8;
    b.writeUInt32LE(len, at);
    b.writeDoubleLE(this.#seq++, at + 8);
    b.writeUInt32LE(recordCrc(b, at, len), at + 4);
    this.records++;
    this.appended++;
    if (this.policy === 'always' || this.#len >= WRITE_SOON_BYTES) {
      // always: this turn's replies wait for these records, so they go at the turn's end
      if (!this.#immediate) {
        this.#immediate = true;
        setImmediate(this.#onTurnEnd);
      }
    } else if (this.#timer === null) {
      this.#timer = setTimeout(this.#onTurnEnd, WRITE_DELAY_MS);
    }
  }

  #entry(type: number, bodyLen: number): number {
    this.#ensure(ENTRY_HEADER_BYTES + bodyLen);
    const b = this.#buf;
    const p = this.#len;
    b[p] = type;
    b.writeUInt32LE(bodyLen, p + 1);
    this.#len = p + ENTRY_HEADER_BYTES + bodyLen;
    return p + ENTRY_HEADER_BYTES;
  }

  #item(id: number, items: ItemReader): void {
    const klen = items.itemKeyLength(id);
    const vlen = items.itemValueLength(id);
    const s = this.#entry(EntryType.Item, ITEM_FIXED + klen + vlen);
    const b = this.#buf;
    const cas = items.itemCas(id);
    b.writeUInt32LE(items.itemFlags(id), s);
    b.writeUInt32LE(items.itemExptime(id), s + 4);
    b.writeUInt32LE(items.itemTime(id), s + 8);
    b.writeUInt32LE(cas >>> 0, s + 12);
    b.writeUInt32LE(Math.floor(cas / 0x100000000) >>> 0, s + 16);
    b[s + 20] = items.itemIflags(id) & 0xff;
    b[s + 21] = klen;
    b.writeUInt32LE(vlen, s + 22);
    items.copyKey(id, b, s + ITEM_FIXED);
    items.copyValue(id, b, s + ITEM_FIXED + klen);
  }

  #meta(id: number, items: ItemReader): void {
    const klen = items.itemKeyLength(id);
    const s = this.#entry(EntryType.Meta, META_FIXED + klen);
    const b = this.#buf;
    const cas = items.itemCas(id);
    b.writeUInt32LE(items.itemExptime(id), s);
    b.writeUInt32LE(items.itemTime(id), s + 4);
    b.writeUInt32LE(cas >>> 0, s + 8);
    b.writeUInt32LE(Math.floor(cas / 0x100000000) >>> 0, s + 12);
    b[s + 16] = items.itemIflags(id) & 0xff;
    b[s + 17] = klen;
    items.copyKey(id, b, s + META_FIXED);
  }

  #delete(key: Uint8Array, off: number, len: number): void {
    const s = this.#entry(EntryType.Delete, 1 + len);
    this.#buf[s] = len;
    this.#buf.set(key.subarray(off, off + len), s + 1);
  }

  #flush(delay: number, oldestLive: number, oldestCas: number): void {
    const s = this.#entry(EntryType.Flush, FLUSH_FIXED);
    const b = this.#buf;
    b.writeInt32LE(delay | 0, s);
    b.writeUInt32LE(oldestLive >>> 0, s + 4);
    b.writeDoubleLE(oldestCas, s + 8);
  }

  // ---- durability --------------------------------------------------------------------------------

  whenDurable(upTo: number, done: (error: string | null) => void): void {
    if (this.#failure !== null) done(this.#failure);
    else if (this.#syncedUpTo >= upTo) done(null);
    else this.#waiters.push({ upTo, done });
  }

  readonly #onTurnEnd = (): void => {
    this.#immediate = false;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#writeNow();
  };

  /**
   * Hand what was appended to the kernel: one write() on the loop's thread, as Redis does (a
   * write into the page cache costs microseconds; a round trip through libuv's thread pool
   * would cost more than the write). fsyncs run on the thread pool (#syncLoop).
   */
  #writeNow(): void {
    if (this.#len === 0 || this.#batchAt >= 0 || this.#failure !== null || this.#closed) return;
    const chunk = this.#take();
    const upTo = this.appended;
    try {
      this.#writeAllSync(chunk, this.#pos);
    } catch (err) {
      this.#unsynced.push({ buf: chunk, end: this.#pos + chunk.length });
      this.#fail('write', err as NodeJS.ErrnoException);
      return;
    }
    this.#pos += chunk.length;
    this.#writtenUpTo = upTo;
    if (this.policy === 'no') {
      this.#durable = this.#pos;
      this.#release(upTo);
      return;
    }
    this.#unsynced.push({ buf: chunk, end: this.#pos });
    if (this.policy === 'always') this.#kickSync();
  }

  #writeAllSync(b: Buffer, position: number): void {
    let done = 0;
    while (done < b.length) {
      const n = this.#file.writeSync(b, done, b.length - done, position + done);
      if (n <= 0) throw Object.assign(new Error('write wrote nothing'), { code: 'EIO' });
      done += n;
    }
  }

  #kickSync(): void {
    if (!this.#busy && this.#failure === null && !this.#closed) void this.#syncLoop();
  }

  /**
   * fdatasync until everything written is durable (always), or once when due (everysec). An
   * fsync covers what was written before it began; writes during it wait for the next one,
   * which is how the connections of several turns share one fsync (group commit).
   */
  async #syncLoop(): Promise<void> {
    this.#busy = true;
    try {
      for (;;) {
        if (this.#failure !== null) return;
        const due = this.policy === 'always' ? this.#writtenUpTo > this.#syncedUpTo : this.#syncDue && this.#pos > this.#durable;
        if (!due) {
          this.#syncDue = false;
          return;
        }
        this.#syncDue = false;
        const upTo = this.#writtenUpTo;
        await this.#sync();
        this.#release(upTo);
      }
    } catch (err) {
      this.#fail('fsync', err as NodeJS.ErrnoException);
    } finally {
      this.#busy = false;
      for (const w of this.#idle.splice(0)) w();
    }
  }

  #take(): Buffer {
    const chunk = this.#buf.subarray(0, this.#len);
    this.#buf = Buffer.allocUnsafe(Math.max(INITIAL_BUFFER, Math.min(this.#buf.length, 1 << 20)));
    this.#len = 0;
    return chunk;
  }

  async #sync(): Promise<void> {
    const at = this.#pos;
    const t0 = performance.now();
    await this.#file.datasync();
    this.lastFsyncUs = Math.round((performance.now() - t0) * 1000);
    this.lastFsyncTime = Math.floor(Date.now() / 1000);
    this.fsyncs++;
    this.#durable = at;
    while (this.#unsynced.length > 0 && this.#unsynced[0]!.end <= at) this.#unsynced.shift();
  }

  #release(upTo: number): void {
    if (upTo > this.#syncedUpTo) this.#syncedUpTo = upTo;
    if (this.#waiters.length === 0) return;
    const ready = this.#waiters.filter((w) => w.upTo <= this.#syncedUpTo);
    this.#waiters = this.#waiters.filter((w) => w.upTo > this.#syncedUpTo);
    for (const w of ready) w.done(null);
  }

  /**
   * A write or fsync failed. Nothing written since the last good fsync is trusted (after a
   * failed fsync Linux may have dropped those pages): it is all kept, to be written again at
   * the last durable offset once the disk works. Until then writes are refused.
   */
  #fail(op: string, err: NodeJS.ErrnoException): void {
    const code = err.code ?? 'EIO';
    const reason = `journal ${op} failed (${code})`;
    this.errors++;
    this.lastError = `${op}: ${code}`;
    if (this.#failure === null) {
      this.#log.warn(
        `journal: ${op} of ${this.file} failed: ${err.message}; refusing writes until it works again (retrying every ${(this.#opts.retryMs ?? 1000) / 1000} s); nothing acknowledged is lost`,
      );
    }
    this.#failure = reason;
    this.#opts.onRefusal(reason);
    const waiting = this.#waiters;
    this.#waiters = [];
    for (const w of waiting) w.done(reason);
    this.#pos = this.#durable;
    if (this.#retryTimer === null && !this.#closed) {
      this.#retryTimer = setInterval(() => void this.#retry(), this.#opts.retryMs ?? 1000);
      this.#retryTimer.unref();
    }
  }

  /** Write everything since the last durable offset again, fsync, and accept writes again. */
  async #retry(): Promise<void> {
    if (this.#busy || this.#failure === null) return;
    this.#busy = true;
    try {
      const pending = Buffer.concat([...this.#unsynced.map((u) => u.buf), this.#take()]);
      const upTo = this.appended;
      this.#writeAllSync(pending, this.#durable);
      this.#pos = this.#durable + pending.length;
      this.#unsynced = [{ buf: pending, end: this.#pos }];
      if (this.policy !== 'no') await this.#sync();
      this.#durable = this.#pos;
      this.#unsynced = [];
      this.#writtenUpTo = upTo;
      this.#syncedUpTo = upTo;
      this.#failure = null;
      if (this.#retryTimer !== null) clearInterval(this.#retryTimer);
      this.#retryTimer = null;
      this.#log.warn(`journal: ${this.file} is writable again; accepting writes`);
      this.#opts.onRefusal(null);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      this.errors++;
      this.lastError = `retry: ${e.code ?? 'EIO'}`;
      this.#pos = this.#durable;
    } finally {
      this.#busy = false;
      for (const w of this.#idle.splice(0)) w();
    }
  }

  #whenIdle(): Promise<void> {
    if (!this.#busy) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  // ---- compaction ----------------------------------------------------------------------------------

  /**
   * A snapshot is starting: what was appended so far goes to `<file>.prev` and a new journal
   * starts, so the snapshot's completion can drop the older records (rotationDone). Not when a
   * `.prev` is still there (an earlier snapshot failed: its records are still needed) or the
   * journal is failing. Synchronous once idle, so no change lands between the two files.
   */
  async rotate(): Promise<boolean> {
    await this.#whenIdle();
    if (this.#failure !== null || this.#closed || this.#batchAt >= 0) return false;
    const fsys = this.#fs;
    const prev = `${this.file}.prev`;
    const next = `${this.file}.next`;
    if (fsys.exists(prev)) return false;
    // never rename over or onto anything but our own regular files
    const problem = targetProblem(this.file, 'journal file') ?? targetProblem(next, 'journal file');
    if (problem !== null) {
      this.#log.warn(`journal: not rotating: ${problem}`);
      return false;
    }
    let fresh: JournalFile;
    try {
      fresh = newJournalFile(fsys, next, { useCas: this.#opts.useCas, itemSizeMax: this.#opts.itemSizeMax, firstSeq: this.#seq });
    } catch (err) {
      this.#log.warn(`journal: cannot start a new journal at ${next} (${(err as Error).message}); not compacted this time`);
      return false;
    }
    // the old file gets everything appended until now, durably
    const rest = Buffer.concat([...this.#unsynced.map((u) => u.buf), this.#take()]);
    this.#unsynced = rest.length > 0 ? [{ buf: rest, end: this.#durable + rest.length }] : [];
    try {
      this.#writeAllSync(rest, this.#durable);
      this.#file.datasyncSync();
      this.fsyncs++;
      this.#pos = this.#durable + rest.length;
      this.#durable = this.#pos;
      this.#unsynced = [];
      this.#writtenUpTo = this.appended;
      this.#syncedUpTo = this.appended;
      this.#file.close();
      fsys.rename(this.file, prev);
      fsys.rename(next, this.file);
      fsys.syncDir(path.dirname(this.file));
    } catch (err) {
      // leave the state a restart understands: .next is only used when the journal is missing
      this.#log.warn(`journal: rotation of ${this.file} failed (${(err as Error).message})`);
      try {
        fresh.close();
        fsys.unlink(next);
      } catch {
        // a leftover .next is ignored at the next start while the journal exists
      }
      this.#fail('rotation', err as NodeJS.ErrnoException);
      return false;
    }
    this.#file = fresh;
    this.#pos = this.#durable = JOURNAL_HEADER_BYTES;
    this.rotations++;
    this.#release(this.appended);
    return true;
  }

  /** The snapshot that began at the last rotate() ended; when it is safely written, the older records go. */
  rotationDone(snapshotOk: boolean): void {
    if (!snapshotOk) return;
    const prev = `${this.file}.prev`;
    if (!this.#fs.exists(prev)) return;
    try {
      this.#fs.unlink(prev);
      this.#fs.syncDir(path.dirname(this.file));
    } catch (err) {
      this.#log.warn(`journal: cannot remove ${prev} (${(err as Error).message}); it is replayed again at the next start (harmless)`);
    }
  }

  // ---- stop -----------------------------------------------------------------------------------------

  /** Write and fsync what is left and close. False when that failed (the daemon exits non-zero). */
  async close(): Promise<boolean> {
    if (this.#syncTimer !== null) clearInterval(this.#syncTimer);
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#whenIdle();
    this.#writeNow();
    if (this.#failure !== null) await this.#retry();
    this.#closed = true;
    if (this.#retryTimer !== null) clearInterval(this.#retryTimer);
    this.#retryTimer = null;
    try {
      if (this.#failure === null && this.#pos > this.#durable) {
        await this.#sync();
        this.#release(this.#writtenUpTo);
      }
      this.#file.close();
    } catch (err) {
      this.#log.warn(`journal: closing ${this.file} failed (${(err as Error).message})`);
      return false;
    }
    if (this.#failure !== null) {
      this.#log.warn(`journal: ${this.file} could not be written before stopping (${this.#failure}); the last writes were refused or not acknowledged`);
      return false;
    }
    return true;
  }

  stats(): Array<[string, string]> {
    return [
      ['journal_fsync', this.policy],
      ['journal_bytes', String(this.bytes)],
      ['journal_records', String(this.records)],
      ['journal_fsyncs', String(this.fsyncs)],
      ['journal_last_fsync_time', String(this.lastFsyncTime)],
      ['journal_last_fsync_us', String(this.lastFsyncUs)],
      ['journal_rotations', String(this.rotations)],
      ['journal_errors', String(this.errors)],
      ['journal_writes_refused', this.#failure === null ? '0' : '1'],
      ['journal_last_error', this.lastError === '' ? 'none' : this.lastError],
    ];
  }
}
