// Memory held by replies that clients do not read, against real memcached in the same run:
// N clients each send one `get` of K one-MiB items and never read. The figure is the growth of
// the server's VmRSS once the replies have stopped moving, for memcached-ts and memcached,
// and their ratio. Both point a reply at the item for a large value (memcached holds a
// reference; memcached-ts pins the item, src/protocol/output.ts), so neither holds copies.
// Then every client reads, and each reply is checked whole.
//   node dist/bench/unread-replies.js [--clients 300] [--keys 20] [--settle-ms 3000]
import path from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { benchArgs } from './lib/cli.js';
import { ServerProcess, splitCommand } from './lib/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOST = '127.0.0.1';
const MiB = 1024 * 1024;
const MC_USER = process.getuid?.() === 0 ? ' -u root' : '';
const SERVERS = {
  'memcached-ts': `node bin/memcached-ts.js -p -1 -U 0 -l ${HOST} -m {mem} -I 2m -c 4096`,
  memcached: `memcached${MC_USER} -U 0 -l ${HOST} -p -1 -m {mem} -I 2m -c 4096`,
} as const;
type ServerName = keyof typeof SERVERS;

const USAGE = `usage: node dist/bench/unread-replies.js [options]
VmRSS growth while clients do not read their replies, memcached-ts against memcached.
  --clients N     clients that send one get and do not read (default 300)
  --keys K        one-MiB items per get (default 20)
  --settle-ms MS  wait after the last get before measuring (default 3000)
  --only NAME     memcached-ts or memcached`;

const a = benchArgs(USAGE, {
  clients: { type: 'string', default: '300' },
  keys: { type: 'string', default: '20' },
  'settle-ms': { type: 'string', default: '3000' },
  only: { type: 'string' },
});
const clients = Number(a.clients);
const keys = Number(a.keys);
const settleMs = Number(a['settle-ms']);
const log = (s: string): void => void process.stderr.write(`${s}\n`);

const VALUE = MiB;
function valueOf(i: number): Buffer {
  const v = Buffer.alloc(VALUE, 0x61 + (i % 26));
  v.writeUInt32BE(i, 0);
  return v;
}

function connectTo(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, HOST, () => resolve(s));
    s.once('error', reject);
  });
}

async function load(port: number): Promise<void> {
  const s = await connectTo(port);
  let got = '';
  s.on('data', (d: Buffer) => (got += d.toString('latin1')));
  for (let i = 0; i < keys; i++) {
    s.write(`set u${i} 0 0 ${VALUE}\r\n`);
    s.write(valueOf(i));
    s.write('\r\n');
  }
  while ((got.match(/STORED\r\n/g) ?? []).length < keys) {
    if (got.includes('ERROR')) throw new Error(`load failed: ${got.slice(0, 200)}`);
    await sleep(10);
  }
  s.destroy();
}

/** The exact reply a get of every key must produce. */
function expectedReply(): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < keys; i++) parts.push(Buffer.from(`VALUE u${i} 0 ${VALUE}\r\n`), valueOf(i), Buffer.from('\r\n'));
  parts.push(Buffer.from('END\r\n'));
  return Buffer.concat(parts);
}

interface Figure {
  baseMiB: number;
  heldMiB: number;
  allCorrect: boolean;
}

async function measure(name: ServerName): Promise<Figure> {
  const server = await ServerProcess.start({ argv: splitCommand(SERVERS[name]), cwd: ROOT }, { label: name, memMB: 256, extraArgs: [], cpu: null, host: HOST });
  try {
    await load(server.port);
    await sleep(500);
    const base = server.rssKiB() / 1024;
    const line = `get ${Array.from({ length: keys }, (_, i) => `u${i}`).join(' ')}\r\n`;
    const socks: net.Socket[] = [];
    for (let c = 0; c < clients; c++) {
      const s = await connectTo(server.port);
      s.pause(); // reads nothing until told
      s.write(line);
      socks.push(s);
    }
    await sleep(settleMs);
    let peak = server.rssKiB() / 1024;
    // the replies have stopped moving when RSS stops growing
    for (let i = 0; i < 10; i++) {
      await sleep(300);
      const now = server.rssKiB() / 1024;
      if (now - peak < 1) break;
      peak = Math.max(peak, now);
    }
    const held = Math.max(peak, server.rssKiB() / 1024) - base;
    log(`${name}: VmRSS ${base.toFixed(0)} MiB before, +${held.toFixed(0)} MiB with ${clients} clients not reading`);
    // now every client reads its reply
    const want = expectedReply();
    const results = await Promise.all(
      socks.map(
        (s) =>
          new Promise<boolean>((resolve) => {
            // compared as it arrives: 300 whole replies would be 6 GB in this process
            let n = 0;
            let same = true;
            s.on('data', (d: Buffer) => {
              if (same) same = n + d.length <= want.length && d.equals(want.subarray(n, n + d.length));
              n += d.length;
              if (n >= want.length) {
                s.destroy();
                resolve(same && n === want.length);
              }
            });
            s.on('close', () => resolve(same && n === want.length));
            s.resume();
          }),
      ),
    );
    const allCorrect = results.every((x) => x);
    log(`${name}: ${results.filter((x) => x).length}/${clients} clients got their whole reply`);
    return { baseMiB: base, heldMiB: held, allCorrect };
  } finally {
    await server.stop();
  }
}

const names: ServerName[] = a.only !== undefined ? [a.only as ServerName] : ['memcached-ts', 'memcached'];
const figures = new Map<ServerName, Figure>();
for (const n of names) figures.set(n, await measure(n));
console.log(`| server | VmRSS before (MiB) | growth, ${clients} clients x get of ${keys} x 1 MiB, unread (MiB) | replies whole once read |`);
console.log('|---|---|---|---|');
for (const [n, f] of figures) console.log(`| ${n} | ${f.baseMiB.toFixed(0)} | ${f.heldMiB.toFixed(0)} | ${f.allCorrect ? 'all' : 'NOT ALL'} |`);
const ours = figures.get('memcached-ts');
const theirs = figures.get('memcached');
if (ours && theirs) console.log(`\nratio ours/memcached (growth): ${(ours.heldMiB / Math.max(1, theirs.heldMiB)).toFixed(1)}`);
if ([...figures.values()].some((f) => !f.allCorrect)) process.exitCode = 1;
