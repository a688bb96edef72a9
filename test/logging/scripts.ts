// What the logging tests send to both servers (memcached 1.6.18 and memcached-ts) and how they
// bring the two outputs to one form: timestamps, gids, fds and ports differ by nature.
import { type Socket } from 'node:net';
import { Collector, connect, type Address } from '../support/raw-client.js';

/** Text and meta commands whose events and -vv lines both servers must agree on. */
export const TEXT_SCRIPT = [
  'set foo 0 0 3\r\nbar\r\n',
  'get foo\r\nget nope foo\r\ngets foo\r\ngat 100 foo\r\ntouch foo 10\r\n',
  'delete foo\r\ndelete foo\r\n',
  'add a 5 100 1\r\nx\r\nadd a 0 0 1\r\nx\r\nreplace a 0 0 1\r\ny\r\nappend a 0 0 1\r\nz\r\nprepend a 0 0 1\r\nw\r\n',
  'cas a 0 0 1 999\r\nq\r\ncas zz 0 0 1 1\r\nq\r\nincr a 1\r\n',
  'set n 0 0 1\r\n5\r\nincr n 3\r\ndecr n 1\r\nset q 0 0 1 noreply\r\nx\r\n',
  'mn\r\nmg n v\r\nmg nope v\r\nmg\r\nms m 2 T0\r\nhi\r\nms m 2 MA\r\nhi\r\nmd m\r\nma n\r\n',
  // a value sent from its chunks (16 KiB and up), between two copied ones
  `set big 0 0 20000\r\n${'v'.repeat(20000)}\r\nget foo big n\r\nmg big v s\r\n`,
  'set k%20\\x 0 0 1\r\n1\r\nbogus\r\nversion\r\n',
].join('');

function binReq(op: number, key: string, value = '', extras: Buffer = Buffer.alloc(0)): Buffer {
  const k = Buffer.from(key);
  const v = Buffer.from(value);
  const h = Buffer.alloc(24);
  h[0] = 0x80;
  h[1] = op;
  h.writeUInt16BE(k.length, 2);
  h[4] = extras.length;
  h.writeUInt32BE(extras.length + k.length + v.length, 8);
  return Buffer.concat([h, extras, k, v]);
}

const setExtras = (exptime: number): Buffer => {
  const e = Buffer.alloc(8);
  e.writeUInt32BE(exptime, 4);
  return e;
};
const incrExtras = Buffer.alloc(20);
incrExtras.writeBigUInt64BE(1n, 0);
const touchExtras = Buffer.alloc(4);

/** Binary requests, each answered (no quiet opcode), ending with a noop whose reply ends the run. */
export const BINARY_SCRIPT = Buffer.concat([
  binReq(0x01, 'bk', 'bar', setExtras(60)),
  binReq(0x02, 'bk', 'bar', setExtras(60)),
  binReq(0x03, 'bk', 'baz', setExtras(0)),
  binReq(0x00, 'bk'),
  binReq(0x0c, 'bk'),
  binReq(0x00, 'none'),
  binReq(0x0e, 'bk', '!'),
  binReq(0x05, 'bn', '', incrExtras),
  binReq(0x04, 'bk'),
  binReq(0x1c, 'bk', '', touchExtras),
  binReq(0x0a, ''),
]);
/** Replies to BINARY_SCRIPT: the noop's response header is the last 24 bytes. */
export function binaryDone(c: Collector): boolean {
  const b = Buffer.concat(c.chunks);
  return b.length >= 24 && b[b.length - 24] === 0x81 && b[b.length - 23] === 0x0a;
}

/** Send the text script on one connection and the binary one on another, each to its end, then close both. */
export async function runScripts(to: Address): Promise<void> {
  const text = new Collector(await connect(to));
  text.socket.write(TEXT_SCRIPT);
  await text.until((c) => /\r\nVERSION [^\r]*\r\n$/.test(c.text()));
  text.socket.end();
  await text.until((c) => c.closed);
  const bin = new Collector(await connect(to));
  bin.socket.write(BINARY_SCRIPT);
  await bin.until(binaryDone);
  bin.socket.end();
  await bin.until((c) => c.closed);
}

/** A watcher: `watch <kinds>` sent and its OK received. */
export async function watcher(to: Address, kinds: string): Promise<Collector> {
  const w = new Collector(await connect(to));
  w.socket.write(`watch ${kinds}\r\n`);
  await w.until((c) => c.text().startsWith('OK\r\n'));
  return w;
}

/**
 * Complete watch lines in one form: in gid order, ts dropped, gids counted from the first
 * line's, each cfd and rport named by order of first appearance. A last line still arriving
 * (no newline yet) is left out: a watcher that waited for some lines may have part of the next.
 */
export function normalizeEvents(text: string): string[] {
  // memcached's logger thread gathers lines per worker thread: gid gives the order events happened
  const gidOf = (l: string): number => Number(/ gid=(\d+)/.exec(l)![1]);
  const lines = text
    .split('\n')
    .slice(0, -1)
    .filter((l) => l.startsWith('ts='))
    .sort((a, b) => gidOf(a) - gidOf(b));
  let base = -1;
  const fds = new Map<string, string>();
  const ports = new Map<string, string>();
  return lines.map((l) => {
    const gid = Number(/ gid=(\d+)/.exec(l)![1]);
    if (base < 0) base = gid;
    const out = l
      .replace(/^ts=\d+\.\d+ gid=\d+ /, `+${gid - base} `)
      .replace(/cfd=(\d+)/, (_, n: string) => `cfd=${named(fds, n, 'c')}`)
      .replace(/rport=(\d+)/, (_, n: string) => `rport=${named(ports, n, 'p')}`);
    // memcached hands a closed connection's fd to the next one: a name lasts one connection
    if (l.includes('type=conn_close')) fds.delete(/cfd=(\d+)/.exec(l)![1]!);
    return out;
  });
}

function named(names: Map<string, string>, value: string, prefix: string): string {
  let n = names.get(value);
  if (n === undefined) {
    n = `${prefix}${names.size + 1}`;
    names.set(value, n);
  }
  return n;
}

/** memcached's -vv traffic lines (not startup chatter), with each fd named by order of first appearance. */
export function normalizeTraffic(stderr: string): string[] {
  const fds = new Map<string, string>();
  return stderr
    .split('\n')
    .filter((l) => /^[<>]\d+ |^\d+: |^Deleting |^Value len|^incr /.test(l) && !/server listening|send buffer/.test(l))
    .map((l) => {
      const out = l.replace(/^([<>]?)(\d+)/, (_, dir: string, fd: string) => `${dir}${named(fds, fd, 'fd')}`);
      // memcached hands a closed connection's fd to the next one: a name lasts one connection
      if (l.endsWith(' connection closed.')) fds.delete(/^<(\d+)/.exec(l)![1]!);
      return out;
    });
}

export type { Socket };
