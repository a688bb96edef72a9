// The journal in process: what it records replays to the same cache; a torn, corrupt or
// foreign file is cut or moved aside as documented; a failing disk refuses writes and keeps
// every record until it can write them; rotation keeps what an unfinished snapshot needs.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArithRequest, NONE, OpStatus, Outcome, StoreMode } from '../../src/cache/api.js';
import type { Cache } from '../../src/cache/cache.js';
import { ManualClock } from '../../src/cache/clock.js';
import { Journal, type FsyncPolicy } from '../../src/persistence/journal.js';
import { JOURNAL_HEADER_BYTES } from '../../src/persistence/journal-format.js';
import { realJournalFs, type JournalFs } from '../../src/persistence/journal-fs.js';
import { FaultyFs } from './faulty-fs.js';
import { openJournal, type ReplayResult } from '../../src/persistence/journal-replay.js';
import { storeValue } from '../support/cache-ops.js';
import { randomInt, seededRandom } from '../support/random.js';
import { captureLog, newCache, peek, tempDir } from '../snapshot/helpers.js';
import { until } from '../support/raw-client.js';

const T0 = 1_700_000_000;

interface Opened {
  cache: Cache;
  journal: Journal;
  result: ReplayResult;
  log: ReturnType<typeof captureLog>;
}

/** A cache with the journal at `file` replayed into it and listening. */
function open(file: string, clock: ManualClock, policy: FsyncPolicy = 'always', fsys: JournalFs = realJournalFs): Opened {
  const cache = newCache(clock);
  const log = captureLog();
  const o = openJournal(cache, file, { log, fs: fsys, useCas: true, itemSizeMax: 1024 * 1024, badSuffix: () => 'X' });
  const journal = new Journal(o.file, {
    file,
    fsync: policy,
    log,
    size: o.size,
    nextSeq: o.nextSeq,
    useCas: true,
    itemSizeMax: 1024 * 1024,
    onRefusal: (r) => cache.setWriteRefusal(r),
    fs: fsys,
    retryMs: 20,
    syncMs: 20,
  });
  cache.setChangeListener(journal);
  return { cache, journal, result: o.result, log };
}

/** Everything a client can see of a key (a flushed or expired item is not there). */
function view(c: Cache, key: string): unknown {
  const id = c.find(Buffer.from(key), 0, key.length);
  if (id === NONE) return null;
  const s = peek(c, key)!;
  return [s.value.toString('latin1'), s.flags, s.exptime, s.cas];
}

function durable(j: Journal): Promise<string | null> {
  return new Promise((r) => j.whenDurable(j.appended, r));
}

describe('journal replay', () => {
  it('rebuilds every key as it was: values, flags, exptimes, CAS, deletes, counters, flushes', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'j');
    const clock = new ManualClock(T0);
    const a = open(file, clock);
    const rand = seededRandom(77);
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
    const st = new OpStatus();
    const ar = new ArithRequest();
    for (let i = 0; i < 3000; i++) {
      const key = keys[randomInt(rand, keys.length)]!;
      const k = Buffer.from(key);
      switch (randomInt(rand, 7)) {
        case 0:
        case 1:
          storeValue(a.cache, key, 'v'.repeat(randomInt(rand, 300)) + i, { flags: randomInt(rand, 4), exptime: randomInt(rand, 3) * 100 });
          break;
        case 2:
          storeValue(a.cache, key, '+', { mode: [StoreMode.Append, StoreMode.Prepend, StoreMode.Add, StoreMode.Replace][randomInt(rand, 4)]! });
          break;
        case 3:
          Object.assign(ar, { key: k, keyOff: 0, keyLen: k.length, incr: true, delta: BigInt(randomInt(rand, 1000)), cas: 0 });
          if (a.cache.incrDecr(ar, st) === Outcome.NotFound) storeValue(a.cache, key, '7');
          break;
        case 4:
          a.cache.delete(k, 0, k.length);
          break;
        case 5:
          a.cache.touch(k, 0, k.length, randomInt(rand, 3) * 50);
          break;
        default:
          if (randomInt(rand, 40) === 0) a.cache.flushAll(0);
          clock.advance(randomInt(rand, 2));
      }
    }
    expect(await durable(a.journal)).toBeNull();
    const before = keys.map((k) => view(a.cache, k));
    // a crash: the process is gone, nothing more is written or closed
    const b = open(file, clock);
    expect(b.result.records).toBe(a.journal.records);
    expect(b.result.droppedBytes).toBe(0);
    expect(keys.map((k) => view(b.cache, k))).toEqual(before);
    // and new changes continue the same file
    storeValue(b.cache, 'after', 'restart');
    expect(await durable(b.journal)).toBeNull();
    const c = open(file, clock);
    expect(view(c.cache, 'after')).toEqual(view(b.cache, 'after'));
    expect(keys.map((k) => view(c.cache, k))).toEqual(before);
  });

  it('cuts a torn tail at the last whole record, logs where, and appends after it', async () => {
    const file = path.join(tempDir(), 'j');
    const clock = new ManualClock(T0);
    const a = open(file, clock);
    for (let i = 0; i < 10; i++) storeValue(a.cache, `k${i}`, `value ${i}`);
    expect(await durable(a.journal)).toBeNull();
    const full = fs.statSync(file).size;
    fs.truncateSync(file, full - 3); // the last record loses its end
    const b = open(file, clock);
    expect(b.result.records).toBe(9);
    expect(peek(b.cache, 'k8')?.value.toString()).toBe('value 8');
    expect(peek(b.cache, 'k9')).toBeNull();
    const cut = fs.statSync(file).size;
    expect(b.log.lines.join('\n')).toMatch(new RegExp(`a torn record at offset ${cut}: cut there, ${full - 3 - cut} bytes dropped`));
    storeValue(b.cache, 'k9', 'again');
    expect(await durable(b.journal)).toBeNull();
    const c = open(file, clock);
    expect(c.result.droppedBytes).toBe(0);
    expect(peek(c.cache, 'k9')?.value.toString()).toBe('again');
  });

  it('cuts garbage appended after the last record, and everything after a corrupt record', async () => {
    const file = path.join(tempDir(), 'j');
    const clock = new ManualClock(T0);
    const a = open(file, clock);
    for (let i = 0; i < 20; i++) storeValue(a.cache, `k${i}`, `value ${i}`);
    expect(await durable(a.journal)).toBeNull();
    fs.appendFileSync(file, Buffer.from('garbage that is not a record at all, 0123456789'));
    const b = open(file, clock);
    expect(b.result.records).toBe(20);
    expect(b.result.droppedBytes).toBe(Buffer.byteLength('garbage that is not a record at all, 0123456789'));
    // a flipped byte in record 11 of 20: records 1-10 replay, the rest is cut
    const bytes = fs.readFileSync(file);
    const recordLen = (bytes.length - JOURNAL_HEADER_BYTES) / 20;
    bytes[JOURNAL_HEADER_BYTES + 10 * recordLen + 20]! ^= 0x40;
    fs.writeFileSync(file, bytes);
    const c = open(file, clock);
    expect(c.result.records).toBe(10);
    expect(peek(c.cache, 'k9')).not.toBeNull();
    expect(peek(c.cache, 'k10')).toBeNull();
    expect(c.log.lines.join('\n')).toContain('a record with a bad checksum');
  });

  it('replays a batch all or nothing', async () => {
    const file = path.join(tempDir(), 'j');
    const clock = new ManualClock(T0);
    const a = open(file, clock);
    storeValue(a.cache, 'x', 'old');
    a.cache.batch(() => {
      storeValue(a.cache, 'x', 'new');
      storeValue(a.cache, 'y', 'new');
      a.cache.delete(Buffer.from('x'), 0, 1);
    });
    expect(await durable(a.journal)).toBeNull();
    const b = open(file, clock);
    expect(b.result.records).toBe(2);
    expect([peek(b.cache, 'x'), peek(b.cache, 'y')?.value.toString()]).toEqual([null, 'new']);
    fs.truncateSync(file, fs.statSync(file).size - 1);
    const c = open(file, clock);
    expect(c.result.records).toBe(1);
    expect([peek(c.cache, 'x')?.value.toString(), peek(c.cache, 'y')]).toEqual(['old', null]);
  });

  it('moves a file of another version or CAS setting aside and starts a new one', () => {
    const dir = tempDir();
    const file = path.join(dir, 'j');
    const clock = new ManualClock(T0);
    const a = open(file, clock);
    storeValue(a.cache, 'k', 'v');
    a.journal.close();
    const bytes = fs.readFileSync(file);
    bytes.writeUInt32LE(99, 8);
    fs.writeFileSync(file, bytes);
    const b = open(file, clock);
    expect(b.result.movedAside).toEqual([`${file}.bad-X`]);
    expect(b.log.lines.join('\n')).toContain('has no valid journal header (checksum)');
    expect(peek(b.cache, 'k')).toBeNull();
    expect(fs.readFileSync(`${file}.bad-X`).equals(bytes)).toBe(true);
    // the same file, written with CAS on, opened with -C
    fs.rmSync(`${file}.bad-X`);
    const cache = newCache(clock, 64, { useCas: false });
    const log = captureLog();
    const o = openJournal(cache, file, { log, fs: realJournalFs, useCas: false, itemSizeMax: 1 << 20, badSuffix: () => 'X' });
    o.file.close();
    expect(o.result.movedAside).toEqual([`${file}.bad-X`]);
    expect(log.lines.join('\n')).toContain('was written with other settings (CAS on, now off (-C))');
  });
});

describe('journal failures', () => {
  it('a write that fails refuses writes, closes waiting replies, keeps the records and recovers on its own', async () => {
    const file = path.join(tempDir(), 'j');
    const clock = new ManualClock(T0);
    const faulty = new FaultyFs();
    const a = open(file, clock, 'always', faulty);
    storeValue(a.cache, 'before', '1');
    expect(await durable(a.journal)).toBeNull();
    faulty.writeFails = 'ENOSPC';
    storeValue(a.cache, 'during', '2');
    expect(await durable(a.journal)).toBe('journal write failed (ENOSPC)');
    expect(a.cache.writeRefusal).toBe('journal write failed (ENOSPC)');
    expect(a.journal.stats()).toContainEqual(['journal_writes_refused', '1']);
    expect(a.log.lines.join('\n')).toContain('refusing writes until it works again');
    const tries = faulty.writes;
    await until(() => faulty.writes > tries + 2, 2000); // it keeps trying
    expect(a.cache.writeRefusal).not.toBeNull();
    faulty.writeFails = null;
    await until(() => a.cache.writeRefusal === null, 2000);
    expect(a.log.lines.join('\n')).toContain('is writable again');
    storeValue(a.cache, 'after', '3');
    expect(await durable(a.journal)).toBeNull();
    const b = open(file, clock);
    expect(['before', 'during', 'after'].map((k) => peek(b.cache, k)?.value.toString())).toEqual(['1', '2', '3']);
    expect(b.result.droppedBytes).toBe(0);
  });

  it('an fsync that fails writes the unsynced records again at the last durable offset', async () => {
    const file = path.join(tempDir(), 'j');
    const clock = new ManualClock(T0);
    const faulty = new FaultyFs();
    const a = open(file, clock, 'always', faulty);
    storeValue(a.cache, 'a', '1');
    expect(await durable(a.journal)).toBeNull();
    faulty.syncFails = 'EIO';
    storeValue(a.cache, 'b', '2');
    expect(await durable(a.journal)).toBe('journal fsync failed (EIO)');
    faulty.syncFails = null;
    await until(() => a.cache.writeRefusal === null, 2000);
    const b = open(file, clock);
    expect(b.result.records).toBe(2);
    expect(peek(b.cache, 'b')?.value.toString()).toBe('2');
  });

  it('everysec: records reach the file within a turn and are fsynced about every period', async () => {
    const file = path.join(tempDir(), 'j');
    const clock = new ManualClock(T0);
    const a = open(file, clock, 'everysec');
    storeValue(a.cache, 'k', 'v');
    await until(() => fs.statSync(file).size > JOURNAL_HEADER_BYTES, 2000);
    await until(() => a.journal.fsyncs > 0, 2000);
    const b = open(file, clock);
    expect(peek(b.cache, 'k')?.value.toString()).toBe('v');
  });
});

describe('journal rotation', () => {
  it('keeps <file>.prev until the snapshot that started it is written, and replays both after a crash', async () => {
    const file = path.join(tempDir(), 'j');
    const clock = new ManualClock(T0);
    const a = open(file, clock);
    storeValue(a.cache, 'old', '1');
    expect(await a.journal.rotate()).toBe(true);
    storeValue(a.cache, 'new', '2');
    expect(await durable(a.journal)).toBeNull();
    expect(fs.existsSync(`${file}.prev`)).toBe(true);
    // a crash before the snapshot finished: both files replay (there is no snapshot here)
    const b = open(file, clock);
    expect([peek(b.cache, 'old')?.value.toString(), peek(b.cache, 'new')?.value.toString()]).toEqual(['1', '2']);
    // a second rotation waits while .prev is still needed
    expect(await b.journal.rotate()).toBe(false);
    b.journal.rotationDone(true);
    expect(fs.existsSync(`${file}.prev`)).toBe(false);
    expect(await b.journal.rotate()).toBe(true);
    b.journal.rotationDone(false);
    expect(fs.existsSync(`${file}.prev`)).toBe(true);
    const c = open(file, clock);
    expect(c.result.records).toBeGreaterThan(0);
    expect(peek(c.cache, 'new')?.value.toString()).toBe('2');
  });

  it('uses <file>.next when a rotation stopped between its renames', async () => {
    const file = path.join(tempDir(), 'j');
    const clock = new ManualClock(T0);
    const a = open(file, clock);
    storeValue(a.cache, 'k', 'v');
    expect(await durable(a.journal)).toBeNull();
    a.journal.close();
    fs.renameSync(file, `${file}.next`);
    const b = open(file, clock);
    expect(peek(b.cache, 'k')?.value.toString()).toBe('v');
    expect(fs.existsSync(`${file}.next`)).toBe(false);
    expect(b.cache.find(Buffer.from('k'), 0, 1)).not.toBe(NONE);
  });
});
