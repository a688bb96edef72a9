// The connection's read path over a real socket: requests that arrive whole, several to a
// chunk, or cut anywhere (a chunk of whole requests followed by part of the next) get the
// same replies as when the whole payload arrives at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everyByte, sendAndCollect, showBytes } from '../support/raw-client.js';
import { startCore, type CoreServer } from './core-server.js';

const PAYLOAD = Buffer.from(
  [
    'set a 1 0 5\r\nhello\r\n',
    'get a\r\n',
    'set b 2 0 12\r\nhello\r\nworld\r\n',
    'get a b nope\r\n',
    'incr n 1\r\n',
    'set n 0 0 1\r\n7\r\n',
    'incr n 5\r\n',
    'delete a\r\n',
    'gets a b\r\n',
    'bogus command\r\n',
    'set c 0 0 3 noreply\r\nxyz\r\n',
    'get c\r\n',
    // the server keeps its items from one exchange to the next: leave none behind
    'delete b\r\ndelete c\r\ndelete n\r\n',
  ].join(''),
  'latin1',
);

describe('connection chunking', () => {
  let srv: CoreServer;
  beforeAll(async () => {
    srv = await startCore();
  });
  afterAll(async () => {
    await srv.close();
  });

  async function replies(splitAt: number[], gapMs = 0): Promise<string> {
    const r = await sendAndCollect(srv.port, PAYLOAD, { splitAt, gapMs });
    expect(r.closed).toBe(false);
    // gets' CAS values differ from run to run
    return r.bytes.toString('latin1').replace(/^(VALUE \S+ \d+ \d+) \d+\r$/gm, '$1 CAS\r');
  }

  it('answers the same whole, cut after every request, cut inside requests, byte by byte', async () => {
    const whole = await replies([]);
    expect(whole).toContain('VALUE a 1 5\r\nhello\r\n');
    expect(whole).toContain('ERROR\r\n');
    const boundaries: number[] = [];
    for (let i = PAYLOAD.indexOf('\r\n'); i >= 0; i = PAYLOAD.indexOf('\r\n', i + 1)) boundaries.push(i + 2);
    expect(showBytes(Buffer.from(await replies(boundaries, 2)))).toBe(showBytes(Buffer.from(whole)));
    // whole requests and then part of the next one in a chunk
    const inside = boundaries.map((b) => b + 3);
    expect(showBytes(Buffer.from(await replies(inside, 2)))).toBe(showBytes(Buffer.from(whole)));
    expect(showBytes(Buffer.from(await replies(everyByte(PAYLOAD.length), 0)))).toBe(showBytes(Buffer.from(whole)));
  });
});
