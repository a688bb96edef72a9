// Snapshot hardening (issue 15): only a regular file is replaced, a bad path stops the start,
// a failed final save exits non-zero, a bad block costs only its own records, and records no
// daemon could have written are skipped even when their checksums hold.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/cache/clock.js';
import { defaultConfig } from '../../src/config/config.js';
import { startDaemon } from '../../src/daemon.js';
import {
  BLOCK_HEADER_BYTES,
  BLOCK_MAGIC,
  encodeEnd,
  encodeHeader,
  FORMAT_VERSION,
  HEADER_BYTES,
  RECORD_HEADER_BYTES,
  sealBlock,
  type SnapshotHeader,
} from '../../src/persistence/format.js';
import { loadSnapshot } from '../../src/persistence/loader.js';
import { checkPersistencePath } from '../../src/persistence/path-check.js';
import { writeSnapshot } from '../../src/persistence/writer.js';
import { request } from '../binary/wire.js';
import { allKeys, captureLog, Client, MB, newCache, peek, set, startProcess, tempDir } from './helpers.js';
import { RUN_AS } from '../support/run-as.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const T0 = 1_700_000_000;

beforeAll(() => {
  // the daemon process runs the compiled code
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json')], { stdio: 'inherit' });
}, 120_000);

function fifo(p: string): void {
  execFileSync('mkfifo', [p]);
}

/** Run the daemon to its exit (it is expected to refuse to start). */
function runToExit(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/memcached-ts.js'), ...RUN_AS, '-p', '-1', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    }),
  );
}

// ---- only a regular file is replaced ------------------------------------------------------------

describe('the persistence path check', () => {
  it('accepts an absent path and a regular file; refuses a FIFO, a symlink, a directory, a device', () => {
    const dir = tempDir();
    expect(checkPersistencePath(path.join(dir, 'snap'), 'snapshot file')).toBeNull();
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    expect(checkPersistencePath(path.join(dir, 'file'), 'snapshot file')).toBeNull();
    fifo(path.join(dir, 'fifo'));
    expect(checkPersistencePath(path.join(dir, 'fifo'), 'snapshot file')).toBe(`snapshot file ${dir}/fifo is a FIFO; only a regular file is ever replaced`);
    fs.symlinkSync(path.join(dir, 'file'), path.join(dir, 'link'));
    expect(checkPersistencePath(path.join(dir, 'link'), 'journal file')).toMatch(/^journal file .*\/link is a symbolic link \(give the path of the file itself\)/);
    fs.symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'dangling'));
    expect(checkPersistencePath(path.join(dir, 'dangling'), 'snapshot file')).toMatch(/is a symbolic link/);
    fs.mkdirSync(path.join(dir, 'sub'));
    expect(checkPersistencePath(path.join(dir, 'sub'), 'snapshot file')).toMatch(/is a directory;/);
    expect(checkPersistencePath('/dev/null', 'snapshot file')).toMatch(/^snapshot file \/dev\/null is a character device;/);
    // the probe file is gone again
    expect(fs.readdirSync(dir).sort()).toEqual(['dangling', 'fifo', 'file', 'link', 'sub']);
  });

  it('refuses a missing directory, a file as directory, and a directory it cannot create files in', () => {
    const dir = tempDir();
    expect(checkPersistencePath(path.join(dir, 'no', 'snap'), 'snapshot file')).toBe(`snapshot file ${dir}/no/snap: the directory ${dir}/no does not exist`);
    fs.writeFileSync(path.join(dir, 'plain'), '');
    expect(checkPersistencePath(path.join(dir, 'plain', 'snap'), 'snapshot file')).toMatch(/cannot check it \(ENOTDIR/);
    // a real probe, not access(2): even root cannot create a file in /proc
    expect(checkPersistencePath('/proc/snap', 'snapshot file')).toMatch(/^snapshot file \/proc\/snap: cannot create files in \/proc \(E[A-Z]+: /);
  });

  it('the writer will not replace a FIFO or a symlink put there after startup (ENOTREG)', async () => {
    const dir = tempDir();
    const cache = newCache(new ManualClock(T0));
    set(cache, 'a', '1');
    fifo(path.join(dir, 'fifo'));
    const r1 = await writeSnapshot(cache, path.join(dir, 'fifo'));
    expect(r1).toMatchObject({ ok: false, code: 'ENOTREG', message: expect.stringMatching(/is a FIFO/) });
    expect(fs.lstatSync(path.join(dir, 'fifo')).isFIFO()).toBe(true);
    fs.writeFileSync(path.join(dir, 'target'), 'keep me');
    fs.symlinkSync(path.join(dir, 'target'), path.join(dir, 'link'));
    const r2 = await writeSnapshot(cache, path.join(dir, 'link'));
    expect(r2).toMatchObject({ ok: false, code: 'ENOTREG' });
    expect(fs.lstatSync(path.join(dir, 'link')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'target'), 'utf8')).toBe('keep me');
    // no temp file left behind, and a regular file is replaced as before
    expect(fs.readdirSync(dir).sort()).toEqual(['fifo', 'link', 'target']);
    expect((await writeSnapshot(cache, path.join(dir, 'target'))).ok).toBe(true);
  });

  it('the writer checks again just before the rename: a FIFO made during the write survives', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'snap');
    const cache = newCache(new ManualClock(T0));
    for (let i = 0; i < 2000; i++) set(cache, `k${i}`, 'v'.repeat(100));
    let made = false;
    const r = await writeSnapshot(cache, file, {
      sliceBytes: 16384,
      blockTarget: 16384,
      onSlice: () => {
        if (!made) fifo(file);
        made = true;
      },
    });
    expect(r).toMatchObject({ ok: false, code: 'ENOTREG' });
    expect(fs.lstatSync(file).isFIFO()).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['snap']);
  });
});

describe('a bad snapshot path refuses the start (real process)', () => {
  it('a FIFO at the path: exit 71, one line, the FIFO untouched', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'snap');
    fifo(file);
    const r = await runToExit(['--snapshot-file', file]);
    expect(r.code).toBe(71);
    expect(r.stderr).toBe(`memcached-ts: cannot start: snapshot file ${file} is a FIFO; only a regular file is ever replaced\n`);
    expect(fs.lstatSync(file).isFIFO()).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['snap']);
  }, 30_000);

  it('a symlink at the path: exit 71, the link and its target untouched', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'snap');
    fs.writeFileSync(path.join(dir, 'real'), 'precious');
    fs.symlinkSync(path.join(dir, 'real'), file);
    const r = await runToExit(['-e', file]);
    expect(r.code).toBe(71);
    expect(r.stderr).toMatch(/^memcached-ts: cannot start: snapshot file .*snap is a symbolic link/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(fs.lstatSync(file).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'real'), 'utf8')).toBe('precious');
  }, 30_000);

  it('a directory at the path: exit 71, the directory untouched', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'snap');
    fs.mkdirSync(file);
    const r = await runToExit(['--snapshot-file', file]);
    expect(r.code).toBe(71);
    expect(r.stderr).toMatch(/^memcached-ts: cannot start: snapshot file .*snap is a directory;/);
    expect(fs.statSync(file).isDirectory()).toBe(true);
  }, 30_000);

  it('a missing directory: exit 71, one line, nothing created', async () => {
    const dir = tempDir();
    const r = await runToExit(['--snapshot-file', path.join(dir, 'missing', 'snap')]);
    expect(r.code).toBe(71);
    expect(r.stderr).toBe(`memcached-ts: cannot start: snapshot file ${dir}/missing/snap: the directory ${dir}/missing does not exist\n`);
    expect(fs.readdirSync(dir)).toEqual([]);
  }, 30_000);
});

// ---- the final snapshot -------------------------------------------------------------------------

describe('the final snapshot over a real process', () => {
  it('a final save that fails (its directory removed) exits 74 and says so', async () => {
    const dir = tempDir();
    const sub = path.join(dir, 'sub');
    fs.mkdirSync(sub);
    const p = await startProcess(['--snapshot-file', path.join(sub, 'snap')], dir);
    const c = await Client.connect(p.port);
    expect(await c.call('set a 0 0 1\r\nx\r\n')).toBe('STORED\r\n');
    c.close();
    fs.rmdirSync(sub);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(74);
    expect(p.stderr()).toMatch(/memcached-ts: FINAL SNAPSHOT FAILED: the cache was NOT saved to .*sub\/snap \(ENOENT/);
  }, 30_000);

  it('a second SIGTERM waits for the final snapshot (exit 0, all saved); a third leaves without it (exit 1)', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'snap');
    const N = 2000;
    const keys = Array.from({ length: N }, (_, i) => `k${i}`);
    /** A client that asks for far more than the socket buffers hold and reads none of it: the stop's drain waits ~3 s for it. */
    const stuckClient = async (port: number): Promise<net.Socket> => {
      const sock = net.connect(port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      sock.pause();
      sock.write(`get ${keys.join(' ')}\r\n`.repeat(4));
      await new Promise((r) => setTimeout(r, 200));
      return sock;
    };
    const waitFor = async (p: { stderr: () => string }, re: RegExp): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (!re.test(p.stderr())) {
        if (Date.now() > deadline) throw new Error(`no ${re} in: ${p.stderr()}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const p0 = await startProcess(['--snapshot-file', file], dir);
    const c0 = await Client.connect(p0.port);
    const v = 'q'.repeat(4000);
    for (let b = 0; b < N / 1000; b++) {
      let cmds = '';
      for (let i = 0; i < 1000; i++) cmds += `set ${keys[b * 1000 + i]} ${b} 0 ${v.length}\r\n${v}\r\n`;
      await c0.callMany(cmds, 'STORED\r\n', 1000);
    }
    c0.close();
    const s0 = await stuckClient(p0.port);
    // stop twice: the second signal lands during the drain, and must not skip the save
    p0.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 50));
    p0.child.kill('SIGTERM');
    await waitFor(p0, /SIGTERM while stopping: the final snapshot to .*snap is still to be written; waiting for it/);
    expect(await p0.exited).toBe(0);
    s0.destroy();
    expect(loadSnapshot(newCache(new ManualClock()), file).items).toBe(N);
    const before = fs.readFileSync(file);

    // three signals: the third leaves at once with 1, and the previous snapshot is intact
    const p1 = await startProcess(['--snapshot-file', file], dir);
    const s1 = await stuckClient(p1.port);
    p1.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 50));
    p1.child.kill('SIGTERM');
    await waitFor(p1, /while stopping/);
    p1.child.kill('SIGTERM');
    expect(await p1.exited).toBe(1);
    s1.destroy();
    expect(p1.stderr()).toMatch(/SIGTERM again: exiting WITHOUT the final snapshot; .*snap keeps the previous one/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  }, 60_000);
});

// ---- damage: resynchronising after a bad block ---------------------------------------------------

describe('a bad block costs only its own records', () => {
  it('a flipped byte at 2% of a 50,000-item snapshot loads every item outside the damaged block', async () => {
    const clock = new ManualClock(T0);
    const a = newCache(clock, 128);
    const N = 50_000;
    for (let i = 0; i < N; i++) set(a, `item:${i}`, `value-${i}-`.padEnd(100 + (i % 50), 'z'), i);
    const dir = tempDir();
    const file = path.join(dir, 'snap');
    expect((await writeSnapshot(a, file)).ok).toBe(true);
    const bytes = fs.readFileSync(file);
    const at = Math.floor(bytes.length * 0.02);
    // the block that holds byte `at`, and its record count, read from the file's structure
    let off = HEADER_BYTES;
    let blocks = 0;
    let lost = -1;
    while (bytes.readUInt32LE(off) === BLOCK_MAGIC) {
      const end = off + BLOCK_HEADER_BYTES + bytes.readUInt32LE(off + 4);
      if (at >= off && at < end) lost = bytes.readUInt32LE(off + 8);
      blocks++;
      off = end;
    }
    expect(blocks).toBeGreaterThan(3);
    expect(lost).toBeGreaterThan(0);
    bytes[at] = bytes[at]! ^ 0x04;
    fs.writeFileSync(file, bytes);
    const b = newCache(clock, 128);
    const log = captureLog();
    const r = loadSnapshot(b, file, { log, badSuffix: () => 'x' });
    expect(r.status).toBe('partial');
    expect(r.items).toBe(N - lost);
    expect(r.items).toBeGreaterThan(N * 0.75);
    expect(log.lines).toEqual([
      expect.stringMatching(
        new RegExp(`is damaged at byte \\d+ \\(block \\d+ fails its checksum\\); skipped 1 of ${blocks} blocks, ${lost} records \\(\\d+ bytes\\) and resynchronised at the next good block; loaded the verified part: ${N - lost} items .*moved it to .*snap\\.bad-x$`),
      ),
    ]);
    // what loaded is exact
    for (const k of allKeys(b)) expect(peek(b, k)!.value.equals(peek(a, k)!.value), k).toBe(true);
    expect(fs.existsSync(`${file}.bad-x`)).toBe(true);
    expect(fs.existsSync(file)).toBe(false);
  }, 60_000);
});

// ---- impossible contents under valid checksums ---------------------------------------------------

interface Rec {
  key: Buffer;
  value?: Buffer;
  casLo?: number;
  casHi?: number;
  iflags?: number;
  /** write this key length byte instead of the key's own (0 for an empty key) */
  klen?: number;
}

/** A snapshot file built by hand, every checksum valid, one block per group of records. */
function build(groups: Rec[][], header: Partial<SnapshotHeader> = {}, endCas = 10): Buffer {
  const parts: Buffer[] = [
    encodeHeader({
      version: FORMAT_VERSION, useCas: true, itemSizeMax: MB, slabChunkMax: MB / 2, memoryLimit: 64 * MB,
      casCounter: 10, savedAtMs: Date.now(), oldestLive: 0, oldestCas: 0, blockTarget: 4096, ...header,
    }),
  ];
  let items = 0;
  for (const recs of groups) {
    const body = Buffer.concat(
      recs.map((r) => {
        const value = r.value ?? Buffer.from('v');
        const h = Buffer.alloc(RECORD_HEADER_BYTES);
        h.writeUInt32LE(value.length, 12);
        h.writeUInt32LE(r.casLo ?? 1, 16);
        h.writeUInt32LE(r.casHi ?? 0, 20);
        h[24] = r.klen ?? r.key.length;
        h[25] = r.iflags ?? 1;
        return Buffer.concat([h, r.key.subarray(0, r.klen ?? r.key.length), value]);
      }),
    );
    const b = Buffer.concat([Buffer.alloc(BLOCK_HEADER_BYTES), body]);
    sealBlock(b, 0, BLOCK_MAGIC, body.length, recs.length);
    parts.push(b);
    items += recs.length;
  }
  parts.push(encodeEnd({ blocks: groups.length, items, itemBytes: 0, casCounter: endCas, finishedAtMs: Date.now() }));
  return Buffer.concat(parts);
}

describe('records no daemon could have written are skipped, one by one', () => {
  const good = (k: string): Rec => ({ key: Buffer.from(k) });

  function load(bytes: Buffer) {
    const file = path.join(tempDir(), 'snap');
    fs.writeFileSync(file, bytes);
    const cache = newCache(new ManualClock(T0));
    const log = captureLog();
    const r = loadSnapshot(cache, file, { log, badSuffix: () => 'x' });
    return { r, cache, log, file };
  }

  it('a well-formed hand-built file loads whole (the builder is right)', () => {
    const { r } = load(build([[good('a'), good('b')], [good('c')]]));
    expect(r).toMatchObject({ status: 'loaded', items: 3, invalid: 0 });
  });

  it('empty key, 251-byte key, CAS above 2^53, key+value over the writer\'s -I: skipped and counted; the rest loads', () => {
    const bytes = build(
      [
        [good('ok1'), { key: Buffer.alloc(0), klen: 0 }, good('ok2')],
        [{ key: Buffer.alloc(251, 0x61) }, good('ok3'), { key: Buffer.from('huge-cas'), casLo: 1, casHi: 0x200000 }],
        [{ key: Buffer.from('at-2^53'), casLo: 0, casHi: 0x200000 }, { key: Buffer.from('over-I'), value: Buffer.alloc(2043, 1) }, good('ok4')],
        [{ key: Buffer.from('at-I-'), value: Buffer.alloc(2043, 1) }],
      ],
      { itemSizeMax: 2048 },
    );
    const { r, cache, log, file } = load(bytes);
    expect(r.invalid).toBe(4);
    expect(r.items).toBe(6);
    expect(r.status).toBe('partial');
    expect(allKeys(cache).sort()).toEqual(['at-2^53', 'at-I-', 'ok1', 'ok2', 'ok3', 'ok4']);
    expect(peek(cache, 'at-2^53')!.cas).toBe(2 ** 53);
    expect(log.lines).toEqual([expect.stringMatching(/holds 4 impossible records \(bad key length, value length or CAS\), skipped; loaded the verified part: 6 items .*, 4 impossible; moved it to .*\.bad-x$/)]);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('keys with spaces or control characters load: the binary protocol stores any key bytes', () => {
    const { r, cache } = load(build([[good('with space'), good('tab\there'), good('nl\r\nEND'), { key: Buffer.from([0, 1, 2]), iflags: 1 | 64 }]]));
    expect(r).toMatchObject({ status: 'loaded', items: 4, invalid: 0 });
    expect(peek(cache, 'nl\r\nEND')).not.toBeNull();
  });

  it('a key with a space set over the binary protocol survives a restart', async () => {
    const file = path.join(tempDir(), 'snap');
    const cfg = { ...defaultConfig(), port: -1, snapshotFile: file };
    const d1 = await startDaemon(cfg, { log: captureLog() });
    const sock = net.connect(d1.tcpPort!, '127.0.0.1');
    const extras = Buffer.alloc(8);
    const reply = new Promise<Buffer>((resolve) => sock.once('data', resolve));
    sock.write(request({ opcode: 0x01, key: 'a key\x01', extras, value: 'bin' }));
    expect((await reply).readUInt16BE(6)).toBe(0); // status: no error
    sock.destroy();
    await d1.stop('test');
    expect(await d1.stopped).toBe(0);
    const d2 = await startDaemon(cfg, { log: captureLog() });
    expect(peek(d2.cache, 'a key\x01')?.value.toString()).toBe('bin');
    await d2.stop('test');
  });

  it('a header whose CAS counter is Infinity, NaN or above 2^53 loads nothing', () => {
    for (const casCounter of [Infinity, NaN, 2 ** 53 + 2, -1, 1.5]) {
      const { r, log, file } = load(build([[good('a')]], { casCounter }));
      expect(r, String(casCounter)).toMatchObject({ status: 'rejected', items: 0 });
      expect(log.lines[0]).toMatch(/has a header with impossible values .*; loaded nothing; moved it to/);
      expect(fs.existsSync(`${file}.bad-x`)).toBe(true);
    }
  });

  it('an end block whose CAS counter is Infinity: its blocks load, the counter is not trusted', () => {
    const { r, cache } = load(build([[good('a'), good('b')]], {}, Infinity));
    expect(r).toMatchObject({ status: 'partial', items: 2 });
    expect(r.line).toMatch(/its end block holds an impossible CAS counter/);
    expect(Number.isFinite(cache.casCounter)).toBe(true);
    set(cache, 'next', 'n');
    expect(peek(cache, 'next')!.cas).toBeLessThan(100);
  });
});
