// Does memory come back after a burst of large replies? For each Node binary given, and for
// each malloc set-up, a fresh memcached-ts process gets 48 items of 4 MiB (192 MiB of slab
// memory), then a burst of clients reads them all at once; after they leave and the daemon
// has been idle for a while its RSS is compared with the RSS it had once the items were
// stored (before any reply). All variants run in the same invocation, so they are compared
// on the same host load.
//   npm run build && node dist/bench/large-replies.js --node "$(which node)" --node "$(npx -y -p node@24 which node)"
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { execFileSync } from 'node:child_process';
import { benchArgs } from './lib/cli.js';
import { ServerProcess, RUN_AS_ARGS } from './lib/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOST = '127.0.0.1';
const MiB = 1024 * 1024;
const ITEM = 4 * MiB - 4096;
const ITEMS = 48;

const USAGE = `usage: node dist/bench/large-replies.js [options]
RSS of memcached-ts after a burst of large replies, per Node binary and malloc set-up.
  --node PATH       a node binary to run the daemon with (repeatable; default this one)
  --clients N       connections in the burst (default 64)
  --rounds N        times each connection reads every item (default 2)
  --idle S          seconds to wait after the burst (default 12)
  --variants LIST   comma-separated: started (as started: bin/memcached-ts.js decides),
                    untuned (GLIBC_TUNABLES= : glibc's defaults), env (MALLOC_MMAP_THRESHOLD_=65536
                    given by the caller, as npm start / the systemd unit / the Dockerfile do),
                    daemon (-d: the detached child) (default: all)`;

const a = benchArgs(USAGE, {
  node: { type: 'string', multiple: true },
  clients: { type: 'string', default: '64' },
  rounds: { type: 'string', default: '2' },
  idle: { type: 'string', default: '12' },
  variants: { type: 'string', default: 'started,untuned,env,daemon' },
});
const nodes = a.node ?? [process.execPath];
const clients = Number(a.clients);
const rounds = Number(a.rounds);
const idleS = Number(a.idle);
const variants = a.variants.split(',');

const log = (s: string): void => void process.stderr.write(`${s}\n`);

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Send `payload`, read until `bytes` bytes arrived; resolves with the count. */
function exchange(sock: net.Socket, payload: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const onData = (d: Buffer): void => {
      got += d.length;
      if (got >= bytes) {
        sock.off('data', onData);
        sock.off('error', reject);
        resolve(got);
      }
    };
    sock.on('data', onData);
    sock.once('error', reject);
    sock.write(payload);
  });
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: HOST, port }, () => resolve(s));
    s.once('error', reject);
  });
}

const value = Buffer.alloc(ITEM, 0x61);
const replyBytes = (i: number): number => `VALUE big${i} 0 ${ITEM}\r\n`.length + ITEM + 2 + 5;

interface Result {
  label: string;
  pid: number;
  stored: number;
  peak: number;
  after: number;
}

async function start(node: string, variant: string, dir: string): Promise<{ srv: ServerProcess | null; pid: number; port: number; stop: () => Promise<void> }> {
  const args = ['bin/memcached-ts.js', ...RUN_AS_ARGS, '-p', '-1', '-U', '0', '-l', HOST, '-m', '512', '-I', '4m'];
  const env: Record<string, string> = {};
  if (variant === 'untuned') env.GLIBC_TUNABLES = '';
  if (variant === 'env') env.MALLOC_MMAP_THRESHOLD_ = '65536';
  if (variant !== 'daemon') {
    const srv = await ServerProcess.start({ argv: [node, ...args], cwd: ROOT, env }, { label: variant, memMB: 512, extraArgs: [], cpu: null, host: HOST });
    return { srv, pid: srv.pid, port: srv.port, stop: () => srv.stop() };
  }
  const pidFile = path.join(dir, 'pid');
  const portFile = path.join(dir, 'ports');
  execFileSync(node, [...args, '-d', '-P', pidFile], { cwd: ROOT, env: { ...process.env, MEMCACHED_PORT_FILENAME: portFile }, stdio: 'inherit' });
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  const port = Number(/TCP INET: (\d+)/.exec(fs.readFileSync(portFile, 'utf8'))![1]);
  return {
    srv: null,
    pid,
    port,
    stop: async () => {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 100 && fs.existsSync(`/proc/${pid}`); i++) await sleep(50);
    },
  };
}

async function measure(node: string, variant: string): Promise<Result> {
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  const label = `${version} ${variant}`;
  const dir = fs.mkdtempSync(path.join(ROOT, '.large-replies-'));
  const s = await start(node, variant, dir);
  try {
    const loader = await connect(s.port);
    for (let i = 0; i < ITEMS; i++) {
      await exchange(loader, `set big${i} 0 0 ${ITEM}\r\n${value.toString('latin1')}\r\n`, 8);
    }
    loader.destroy();
    await sleep(2000);
    const stored = rssMiB(s.pid);
    let peak = stored;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(s.pid))), 50);
    const socks = await Promise.all(Array.from({ length: clients }, () => connect(s.port)));
    for (let r = 0; r < rounds; r++) {
      await Promise.all(
        socks.map(async (sock, c) => {
          for (let k = 0; k < ITEMS; k += 4) {
            const keys = [0, 1, 2, 3].map((j) => (k + j + c) % ITEMS);
            await exchange(sock, `get ${keys.map((i) => `big${i}`).join(' ')}\r\n`, keys.reduce((n, i) => n + replyBytes(i), 0) - 15);
          }
        }),
      );
    }
    for (const sock of socks) sock.destroy();
    clearInterval(sampler);
    await sleep(idleS * 1000);
    const after = rssMiB(s.pid);
    return { label, pid: s.pid, stored, peak, after };
  } finally {
    await s.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const results: Result[] = [];
for (const node of nodes) {
  for (const variant of variants) {
    log(`${node} ${variant} ...`);
    const r = await measure(node, variant);
    log(`  stored ${r.stored.toFixed(0)} MiB, peak ${r.peak.toFixed(0)} MiB, after ${idleS} s idle ${r.after.toFixed(0)} MiB`);
    results.push(r);
  }
}
process.stdout.write(`\n${clients} clients x ${rounds} rounds reading ${ITEMS} items of 4 MiB; RSS in MiB\n\n`);
process.stdout.write('| node / malloc | items stored | peak | after idle | kept (after - stored) |\n|---|--:|--:|--:|--:|\n');
for (const r of results) {
  process.stdout.write(`| ${r.label} | ${r.stored.toFixed(0)} | ${r.peak.toFixed(0)} | ${r.after.toFixed(0)} | ${(r.after - r.stored).toFixed(0)} |\n`);
}
