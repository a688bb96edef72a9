// A storage line with a key over 250 bytes, sent to real memcached and to memcached-ts in one
// packet with the requests around it and with one write per request. memcached reads a
// connection 16 KiB at a time and closes it when what it has read of a line holds no newline
// and is over 2048 bytes (try_read_command_ascii); so a long line that arrives on its own is
// answered CLIENT_ERROR, and the same line behind enough pipelined requests closes the
// connection. Where nothing closes, the replies must be equal byte for byte; where memcached
// closes, memcached-ts must close too (how many earlier replies reach the client before the
// close depends on timing on both sides: differences.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceAvailable, startReferenceServer } from '../support/reference-server.js';
import { startDaemonProcess } from '../support/daemon-process.js';
import type { RunningServer } from '../support/port-file-server.js';
import { sendAndCollect, showBytes, type RawReply } from '../support/raw-client.js';

const HAVE_MEMCACHED = referenceAvailable('test/diff/long-line.test.ts (long storage lines, memcached vs memcached-ts)');
const CRLF = '\r\n';
const RUN = Math.random().toString(36).slice(2, 8);

interface LongLineCase {
  readonly name: string;
  /** The requests, each one write in the split mode. */
  readonly parts: (k: (name: string) => string) => string[];
  /** memcached closes the connection when the requests come in one packet / one by one. */
  readonly closesWhole: boolean;
  readonly closesSplit: boolean;
}

const long = (n: number): string => 'q'.repeat(n);
/** `head` followed by gets of `key` (and of one longer missing key) up to exactly `length` bytes. */
function padded(head: string, key: string, length: number): string {
  const line = `get ${key}${CRLF}`;
  let s = head;
  while (length - s.length >= 2 * line.length) s += line;
  const last = length - s.length;
  return s + `get ${key}${'p'.repeat(last - line.length)}${CRLF}`;
}

const CASES: LongLineCase[] = [
  {
    name: '251-byte key, data block, then a get',
    parts: (k) => [`set ${k('a')} 0 0 1${CRLF}y${CRLF}`, `set ${long(251)} 0 0 1${CRLF}`, `x${CRLF}`, `get ${k('a')}${CRLF}`],
    closesWhole: false,
    closesSplit: false,
  },
  {
    name: '251-byte key with noreply, no data block',
    parts: (k) => [`set ${long(251)} 0 0 1 noreply${CRLF}`, `get ${k('a')}${CRLF}`, `get ${k('a')}${CRLF}`],
    closesWhole: false,
    closesSplit: false,
  },
  {
    name: '16000-byte key: one read holds the whole line',
    parts: (k) => [`set ${long(16000)} 0 0 1${CRLF}`, `x${CRLF}`, `get ${k('a')}${CRLF}`],
    closesWhole: false,
    closesSplit: false,
  },
  {
    name: '17000-byte key: no newline in the first 16 KiB',
    parts: (k) => [`set ${long(17000)} 0 0 1${CRLF}`, `x${CRLF}`, `get ${k('a')}${CRLF}`],
    closesWhole: true,
    closesSplit: true,
  },
  {
    // memcached's first read ends 3000 bytes into the long line: no newline, over 2048 bytes
    name: '5000-byte key at offset 13384: the first 16 KiB read ends inside the line',
    parts: (k) => [padded(`set ${k('a')} 0 0 1${CRLF}y${CRLF}`, k('a'), 16384 - 3000), `set ${long(5000)} 0 0 1${CRLF}`, `x${CRLF}`, `get ${k('a')}${CRLF}`],
    closesWhole: true,
    closesSplit: false,
  },
  {
    // 2000 bytes of the line in the first read: memcached reads on from the line's start
    name: '5000-byte key at offset 14384: the first read ends inside the line, under 2048 bytes in',
    parts: (k) => [padded(`set ${k('a')} 0 0 1${CRLF}y${CRLF}`, k('a'), 16384 - 2000), `set ${long(5000)} 0 0 1${CRLF}`, `x${CRLF}`, `get ${k('a')}${CRLF}`],
    closesWhole: false,
    closesSplit: false,
  },
  {
    name: '2100-byte key right after a short request',
    parts: (k) => [`get ${k('a')}${CRLF}`, `set ${long(2100)} 0 0 1${CRLF}`, `x${CRLF}`, `get ${k('a')}${CRLF}`],
    closesWhole: false,
    closesSplit: false,
  },
];

async function send(port: number, parts: string[], split: boolean): Promise<RawReply> {
  const payload = Buffer.from(parts.join(''), 'latin1');
  const splitAt: number[] = [];
  if (split) {
    let at = 0;
    for (const p of parts.slice(0, -1)) splitAt.push((at += p.length));
  }
  return sendAndCollect(port, payload, { splitAt, gapMs: split ? 40 : 0, sentinelDelayMs: 100, timeoutMs: 10_000 });
}

describe.skipIf(!HAVE_MEMCACHED)('long storage lines, one packet and one write per request: memcached vs memcached-ts', () => {
  let ref: RunningServer;
  let ours: RunningServer;
  beforeAll(async () => {
    [ref, ours] = await Promise.all([startReferenceServer(), startDaemonProcess()]);
  });
  afterAll(async () => {
    await Promise.all([ref?.stop(), ours?.stop()]);
  });

  CASES.forEach((c, i) => {
    for (const split of [false, true]) {
      const closes = split ? c.closesSplit : c.closesWhole;
      it(`${c.name} (${split ? 'one write per request' : 'one packet'})`, async () => {
        const k = (name: string): string => `${RUN}${i}${split ? 's' : 'w'}_${name}`;
        const [theirs, mine] = await Promise.all([send(ref.port, c.parts(k), split), send(ours.port, c.parts(k), split)]);
        // the reference itself: the case says what memcached does
        expect(theirs.closed, `memcached replied ${showBytes(theirs.bytes, 300)}`).toBe(closes);
        expect(mine.closed, `memcached-ts replied ${showBytes(mine.bytes, 300)}`).toBe(closes);
        if (closes) {
          // whatever reached the client before the close holds no reply to the long line
          expect(mine.bytes.includes('CLIENT_ERROR')).toBe(false);
        } else {
          expect(showBytes(mine.bytes)).toBe(showBytes(theirs.bytes));
        }
      });
    }
  });
});
