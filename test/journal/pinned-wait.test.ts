// A reply that sends a large value from its slab chunks (Output#pinValue) holds the item
// pinned; with --journal-fsync always, the replies of a batch that changed something wait
// for the journal's fsync. A client that goes away, or a journal that fails, while such a
// reply waits must not leave the item pinned after the fsync (a pinned item is never evicted, moved or
// written over in place, and a replaced one keeps its chunks until its last unpin).
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { captureLog, tempDir } from '../snapshot/helpers.js';
import { connect, request, until } from '../support/raw-client.js';
import { FaultyFs } from './faulty-fs.js';

const BIG = 64 * 1024;
let daemon: Daemon | null = null;
afterEach(async () => {
  await daemon?.stop('test');
  daemon = null;
});

async function start(): Promise<{ d: Daemon; port: number; faulty: FaultyFs }> {
  const faulty = new FaultyFs();
  const cfg = { ...defaultConfig(), port: -1, listen: ['127.0.0.1'], journalFile: path.join(tempDir(), 'j'), journalFsync: 'always' as const };
  daemon = await startDaemon(cfg, { log: captureLog(), journalFs: faulty, lruCrawler: false });
  const port = daemon.tcpPort!;
  const value = Buffer.alloc(BIG, 0x62);
  const stored = await request(port, Buffer.concat([Buffer.from(`set big 0 0 ${BIG}\r\n`), value, Buffer.from('\r\n')]), (t) => t.endsWith('\r\n'));
  expect(stored).toBe('STORED\r\n');
  return { d: daemon, port, faulty };
}

/** Holds the journal's next fsync until the returned function is called. */
function holdSync(faulty: FaultyFs): () => void {
  let release = (): void => {};
  faulty.syncHeld = new Promise<void>((r) => {
    release = r;
  });
  return () => {
    faulty.syncHeld = null;
    release();
  };
}

interface Waiting {
  d: Daemon;
  port: number;
  faulty: FaultyFs;
  /** Lets the held fsync go on. */
  release: () => void;
  /** The client, its bytes counted in `received` below. */
  socket: net.Socket;
  received: () => number;
}

/**
 * A client sends a set (a change: the batch waits for the fsync) and a get of the large value
 * in one write, while the journal's fsync is held: returns once the batch is parsed and its
 * replies wait, the value pinned and nothing sent.
 */
async function waitingReply(): Promise<Waiting> {
  const { d, port, faulty } = await start();
  const release = holdSync(faulty);
  const started = faulty.syncsStarted;
  const socket = await connect(port);
  let received = 0;
  socket.on('data', (b: Buffer) => (received += b.length));
  socket.write('set small 0 0 1\r\nx\r\nget big\r\n');
  await until(() => faulty.syncsStarted > started && d.cache.links.pins.size === 1, 5000);
  return { d, port, faulty, release, socket, received: () => received };
}

describe('pinned replies waiting for the journal', () => {
  it('a client that closes while its reply waits for the fsync gets nothing, and the pin goes with the fsync', async () => {
    const w = await waitingReply();
    w.socket.destroy();
    // the connection reads nothing while its replies wait (it notices the close after the
    // fsync), so the pin lasts as long as the fsync and no longer
    w.release();
    await until(() => w.d.cache.links.pins.size === 0, 5000);
    expect(w.received()).toBe(0);
    // the daemon goes on: the change is there and the large value reads whole
    const got = await request(w.port, 'get small\r\nmg big s\r\n', (t) => t.endsWith('HD s65536\r\n'));
    expect(got).toBe('VALUE small 0 1\r\nx\r\nEND\r\nHD s65536\r\n');
    expect(w.d.cache.links.pins.size).toBe(0);
  });

  it('a journal fsync that fails closes the waiting connection without replies and releases the pin', async () => {
    const w = await waitingReply();
    let closed = false;
    w.socket.on('close', () => (closed = true));
    w.faulty.syncFails = 'EIO';
    w.release();
    await until(() => closed, 5000);
    // never an acknowledgement of a change that is not on disk, and no pin left behind
    expect(w.received()).toBe(0);
    expect(w.d.cache.links.pins.size).toBe(0);
  });
});
