// A journal that cannot write, seen from the clients: the daemon keeps serving reads, answers
// changes with an error in each protocol's own form, never acknowledges what is not on disk,
// counts it in stats, and takes writes again on its own when the disk works.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { captureLog, Client, tempDir } from '../snapshot/helpers.js';
import { RawConnection, until } from '../support/raw-client.js';
import { FaultyFs } from './faulty-fs.js';

const REFUSED = 'SERVER_ERROR journal write failed (ENOSPC); writes are refused until it works again\r\n';
let daemon: Daemon | null = null;
afterEach(async () => {
  await daemon?.stop('test');
  daemon = null;
});

async function start(): Promise<{ d: Daemon; faulty: FaultyFs }> {
  const faulty = new FaultyFs();
  const cfg = { ...defaultConfig(), port: -1, journalFile: path.join(tempDir(), 'j'), journalFsync: 'always' as const };
  daemon = await startDaemon(cfg, { log: captureLog(), journalFs: faulty });
  return { d: daemon, faulty };
}

/** A binary Set request of key `k` and value `v`. */
function binarySet(k: string, v: string): Buffer {
  const h = Buffer.alloc(24 + 8 + k.length + v.length);
  h[0] = 0x80;
  h[1] = 0x01;
  h.writeUInt16BE(k.length, 2);
  h[4] = 8;
  h.writeUInt32BE(8 + k.length + v.length, 8);
  h.write(k, 32, 'latin1');
  h.write(v, 32 + k.length, 'latin1');
  return h;
}

describe('a journal that cannot write', () => {
  it('closes the connection whose change it could not write, then refuses changes in every protocol until it can', async () => {
    const { d, faulty } = await start();
    const c = await Client.connect(d.tcpPort!);
    expect(await c.call('set a 0 0 1\r\n1\r\n')).toBe('STORED\r\n');
    faulty.writeFails = 'ENOSPC';
    // the change reached memory but not the disk: no STORED, the connection closes
    const victim = await RawConnection.open(d.tcpPort!);
    victim.write('set b 0 0 1\r\n2\r\n');
    expect((await victim.readAll()).toString()).toBe('');
    // now every change is refused, reads go on, and nothing changes
    const text = await Client.connect(d.tcpPort!);
    expect(await text.call('set a 0 0 1\r\n9\r\n', [REFUSED])).toBe(REFUSED);
    expect(await text.call('delete a\r\n', [REFUSED])).toBe(REFUSED);
    expect(await text.call('incr a 1\r\n', [REFUSED])).toBe(REFUSED);
    expect(await text.call('touch a 10\r\n', [REFUSED])).toBe(REFUSED);
    expect(await text.call('gat 10 a\r\n', [REFUSED])).toBe(REFUSED);
    expect(await text.call('flush_all\r\n', [REFUSED])).toBe(REFUSED);
    expect(await text.call('ms a 1\r\n9\r\n', [REFUSED])).toBe(REFUSED);
    expect(await text.call('md a\r\n', [REFUSED])).toBe(REFUSED);
    expect(await text.call('ma a\r\n', [REFUSED])).toBe(REFUSED);
    expect(await text.call('mg a T30 v\r\n', [REFUSED])).toBe(REFUSED);
    expect(await text.call('mg a v\r\n', ['\r\n1\r\n'])).toBe('VA 1\r\n1\r\n');
    expect(await text.call('get a\r\n')).toBe('VALUE a 0 1\r\n1\r\nEND\r\n');
    const stats = await text.call('stats\r\n');
    expect(stats).toMatch(/STAT journal_writes_refused 1\r\n/);
    expect(stats).toMatch(/STAT journal_last_error (write|retry): ENOSPC\r\n/);
    const bin = await RawConnection.open(d.tcpPort!);
    bin.write(binarySet('a', '9'));
    const reply = await bin.readBytes(24);
    expect(reply.readUInt16BE(6)).toBe(0x86);
    const body = await bin.readBytes(reply.readUInt32BE(8));
    expect(body.toString()).toBe('journal write failed (ENOSPC); writes are refused until it works again');
    // the disk works again: writes are taken, and the change that was never acknowledged is kept
    faulty.writeFails = null;
    await until(() => d.cache.writeRefusal === null, 5000);
    expect(await text.call('set a 0 0 1\r\n3\r\n')).toBe('STORED\r\n');
    expect(await text.call('get a b\r\n')).toBe('VALUE a 0 1\r\n3\r\nVALUE b 0 1\r\n2\r\nEND\r\n');
    for (const x of [c, text]) x.close();
    victim.close();
    bin.close();
  });
});
