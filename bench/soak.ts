// Load/soak run against a memcached-ts process on loopback, bounded in time: thousands of
// short connections, pipelined clients that never read, slow-byte clients, abrupt
// disconnects mid-value, and verified traffic on checksummed values. Afterwards the daemon
// must answer normally, its RSS must come back near the baseline, and no item may be corrupt.
//   npm run build && node dist/bench/soak.js --seconds 30 [--server "node bin/memcached-ts.js"]
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs } from './lib/cli.js';
import { RUN_AS } from './lib/server.js';

interface Args {
  seconds: number;
  server: string;
}

const USAGE = `usage: node dist/bench/soak.js [options]
Soak a memcached-ts process with hostile and verified clients, then check it recovered.
  --seconds S       length of the soak, 5-3600 (default 30)
  --server CMD      the server command (default "node bin/memcached-ts.js")`;

function parse(argv: string[]): Args {
  const v = benchArgs(USAGE, { seconds: { type: 'string', default: '30' }, server: { type: 'string' } }, argv);
  return {
    seconds: Math.max(5, Math.min(3600, Number(v.seconds))),
    server: v.server ?? `${process.execPath} bin/memcached-ts.js${RUN_AS}`,
  };
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : -1;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function checked(i: number, gen: number, size: number): string {
  const body = `${i}:${gen}:`.padEnd(size - 40, String.fromCharCode(97 + ((i + gen) % 26)));
  return body + createHash('sha1').update(body).digest('hex');
}
const intact = (v: string): boolean => createHash('sha1').update(v.slice(0, -40)).digest('hex') === v.slice(-40);

function open(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Send a request and wait for a reply that satisfies `done` (or a close / timeout). */
async function ask(port: number, payload: string, done: (t: string) => boolean, timeoutMs = 5000): Promise<string | null> {
  let s: net.Socket;
  try {
    s = await open(port);
  } catch {
    return null;
  }
  return new Promise((resolve) => {
    let text = '';
    const t = setTimeout(() => finish(null), timeoutMs);
    const finish = (r: string | null): void => {
      clearTimeout(t);
      s.destroy();
      resolve(r);
    };
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (done(text)) finish(text);
    });
    s.on('error', () => finish(null));
    s.on('close', () => finish(done(text) ? text : null));
    s.write(payload);
  });
}

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'mc-soak-'));
  const portFile = join(dir, 'ports');
  const [cmd, ...cmdArgs] = args.server.split(' ');
  const child = spawn(cmd!, [...cmdArgs, '-p', '-1', '-U', '0', '-l', '127.0.0.1', '-m', '256', '-c', '4096'], {
    env: { ...process.env, MEMCACHED_PORT_FILENAME: portFile },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let port = 0;
  for (let i = 0; i < 500 && port === 0; i++) {
    await sleep(20);
    try {
      port = Number(/TCP INET: (\d+)/.exec(readFileSync(portFile, 'utf8'))?.[1] ?? 0);
    } catch {
      /* not yet */
    }
  }
  if (port === 0) throw new Error('the daemon did not start');
  const pid = child.pid!;
  const keys = 2000;
  const gen = new Int32Array(keys);
  const sizeOf = (i: number): number => 64 + ((i * 7919) % 8000);
  for (let i = 0; i < keys; i += 100) {
    let batch = '';
    for (let j = i; j < i + 100; j++) {
      const v = checked(j, 0, sizeOf(j));
      batch += `set vk:${j} 0 0 ${v.length} noreply\r\n${v}\r\n`;
    }
    await ask(port, `${batch}version\r\n`, (t) => t.includes('VERSION'));
  }
  await sleep(500);
  const baseline = rssKiB(pid);
  let peak = baseline;
  const counts = { churn: 0, pipelined: 0, slow: 0, abrupt: 0, verified: 0, corrupt: 0, failed: 0 };
  const end = Date.now() + args.seconds * 1000;
  const live = (): boolean => Date.now() < end;
  const sampler = setInterval(() => (peak = Math.max(peak, rssKiB(pid))), 200);
  const held: net.Socket[] = [];
  const big = 256 * 1024;
  await ask(port, `set big 0 0 ${big}\r\n${'B'.repeat(big)}\r\n`, (t) => t.endsWith('\r\n'));

  const churn = async (): Promise<void> => {
    while (live()) {
      await Promise.all(
        Array.from({ length: 200 }, async (_, j) => {
          if (j % 4 === 0) {
            const s = await open(port).catch(() => null);
            s?.destroy();
          } else if ((await ask(port, 'version\r\n', (t) => t.endsWith('\r\n'))) === null) counts.failed++;
          counts.churn++;
        }),
      );
    }
  };
  const pipelined = async (): Promise<void> => {
    while (live() && counts.pipelined < 200) {
      const s = await open(port).catch(() => null);
      if (s === null) continue;
      s.on('error', () => {});
      s.pause(); // never reads
      s.write('get big\r\n'.repeat(2000)); // 512 MB of replies asked for
      held.push(s);
      counts.pipelined++;
      await sleep(50);
    }
  };
  const slow = async (): Promise<void> => {
    const line = Buffer.from(`set slow 0 0 10\r\n0123456789\r\n`);
    while (live()) {
      const clients = await Promise.all(Array.from({ length: 100 }, () => open(port).catch(() => null)));
      for (let i = 0; i < line.length && live(); i++) {
        for (const s of clients) s?.write(line.subarray(i, i + 1));
        await sleep(20);
      }
      for (const s of clients) s?.destroy();
      counts.slow += clients.length;
    }
  };
  const abrupt = async (): Promise<void> => {
    while (live()) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, j) => {
          const s = await open(port).catch(() => null);
          if (s === null) return;
          s.on('error', () => {});
          const i = (j * 37 + counts.abrupt) % keys;
          const v = checked(i, 999, sizeOf(i));
          // a set of a verifier key cut off mid-value must leave the old value alone
          s.write(`set vk:${i} 0 0 ${v.length}\r\n${v.slice(0, v.length >> 1)}`);
          await sleep(5);
          s.destroy();
          counts.abrupt++;
        }),
      );
    }
  };
  // each verifier owns the keys i with i % VERIFIERS === part, so no two of them race to set
  // one key (which would make the expected generation of that key ambiguous)
  const VERIFIERS = 2;
  const verified = async (part: number): Promise<void> => {
    let n = 0;
    while (live()) {
      const i = ((n++ * 7) % (keys / VERIFIERS)) * VERIFIERS + part;
      if (n % 3 === 0) {
        gen[i]! += 1;
        const v = checked(i, gen[i]!, sizeOf(i));
        if ((await ask(port, `set vk:${i} 0 0 ${v.length}\r\n${v}\r\n`, (t) => t.endsWith('\r\n'))) !== 'STORED\r\n') counts.failed++;
      } else {
        const r = await ask(port, `get vk:${i}\r\n`, (t) => t.endsWith('END\r\n'));
        const m = r === null ? null : /^VALUE \S+ 0 (\d+)\r\n/.exec(r);
        if (m === null) counts.failed++;
        else if (!intact(r!.slice(m[0].length, m[0].length + Number(m[1])))) counts.corrupt++;
        counts.verified++;
      }
    }
  };
  const t0 = Date.now();
  await Promise.all([churn(), pipelined(), slow(), abrupt(), ...Array.from({ length: VERIFIERS }, (_, part) => verified(part))]);
  const loadSeconds = (Date.now() - t0) / 1000;
  const underLoad = rssKiB(pid);
  for (const s of held) s.destroy();
  clearInterval(sampler);
  await sleep(3000);
  const after = rssKiB(pid);

  // afterwards: answers normally and every verifier item is intact
  const version = await ask(port, 'version\r\n', (t) => t.endsWith('\r\n'));
  let bad = 0;
  /** Intact but an older generation than the last set that was answered STORED: a lost update. */
  let stale = 0;
  let missing = 0;
  for (let i = 0; i < keys; i += 100) {
    const ks = Array.from({ length: 100 }, (_, j) => `vk:${i + j}`);
    const r = (await ask(port, `get ${ks.join(' ')}\r\n`, (t) => t.endsWith('END\r\n'), 10_000)) ?? '';
    let at = 0;
    let found = 0;
    for (;;) {
      const m = /VALUE (\S+) 0 (\d+)\r\n/g;
      m.lastIndex = at;
      const hit = m.exec(r);
      if (!hit) break;
      const start = hit.index + hit[0].length;
      const v = r.slice(start, start + Number(hit[2]));
      const k = Number(hit[1]!.slice(3));
      if (!intact(v)) bad++;
      else if (!v.startsWith(`${k}:${gen[k]}:`)) stale++;
      found++;
      at = start + v.length;
    }
    missing += 100 - found;
  }
  const stats = (await ask(port, 'stats\r\n', (t) => t.endsWith('END\r\n'))) ?? '';
  const slabStats = (await ask(port, 'stats slabs\r\n', (t) => t.endsWith('END\r\n'))) ?? '';
  const stat = (name: string): string => new RegExp(`STAT ${name} (\\S+)`).exec(stats + slabStats)?.[1] ?? '?';
  child.kill('SIGTERM');
  const code = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? 128)));
  rmSync(dir, { recursive: true, force: true });

  const mb = (k: number): string => `${(k / 1024).toFixed(1)} MiB`;
  // slab pages hold the cache's items (within -m) and are kept, as in memcached: the
  // connection-related memory is what must come back, so it is reported without them
  const slabKiB = Number(stat('total_malloced')) / 1024 || 0;
  const afterLessSlabs = after - slabKiB;
  const report = {
    seconds: loadSeconds,
    rss: { baseline: mb(baseline), peak: mb(peak), endOfLoad: mb(underLoad), after: mb(after), slabPages: mb(slabKiB), afterLessSlabPages: mb(afterLessSlabs) },
    clients: counts,
    afterwards: { version: version?.trim() ?? null, corrupt: bad, stale, missing, currConnections: stat('curr_connections'), totalConnections: stat('total_connections'), connYields: stat('conn_yields') },
    exitCode: code,
  };
  console.log(JSON.stringify(report, null, 2));
  // a stale value is a lost update, unless a set went unanswered (then either state is right)
  const ok = version !== null && bad === 0 && (stale === 0 || counts.failed > 0) && counts.corrupt === 0 && code === 0 && afterLessSlabs < baseline * 1.25 + 32 * 1024;
  console.log(ok ? 'SOAK OK' : 'SOAK FAILED');
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
