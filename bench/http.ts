// HTTP front benchmark: requests/s and p99 latency of GET and PUT of 100 B and 1 MiB blobs
// against memcached-ts --http-port, against a bare node:http server serving a Map (the floor:
// what node:http itself costs), and, as context, the same workload as get/set on the same
// daemon's memcached text port (a small text client here). All run as child processes; the
// load comes from this process over persistent connections with a fixed number of requests
// in flight (one per connection). Besides req/s and latency it reports the server process's
// CPU time per request (from /proc), which a shared machine disturbs much less than req/s.
//   npm run build && node dist/bench/http.js [--duration 5] [--concurrency 16]
// With --baseline DIR (another built checkout, e.g. the commit before a change) that
// daemon's HTTP front is measured too, in the same run, alternating order over --rounds.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/cli.js';
import { RUN_AS_ARGS } from './lib/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The floor: node:http and a Map, nothing else (run with --floor). */
function floorServer(): void {
  const map = new Map<string, Buffer>();
  const server = http.createServer((req, res) => {
    const key = req.url ?? '/';
    if (req.method === 'PUT') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const existed = map.has(key);
        map.set(key, Buffer.concat(chunks));
        res.writeHead(existed ? 204 : 201, { 'Content-Length': 0 });
        res.end();
      });
      return;
    }
    const v = map.get(key);
    if (v === undefined) {
      res.writeHead(404, { 'Content-Length': 0 });
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Length': v.length, 'Content-Type': 'application/octet-stream' });
    res.end(v);
  });
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    process.stdout.write(`PORT ${typeof addr === 'object' && addr !== null ? addr.port : 0}\n`);
  });
}

type Kind = 'floor' | 'memcached-ts' | 'text' | 'baseline';

async function startServer(kind: Kind, baseline: string): Promise<{ port: number; child: ChildProcess }> {
  if (kind === 'floor') {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--floor'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve) => {
      child.stdout!.on('data', (d: Buffer) => {
        const m = /PORT (\d+)/.exec(d.toString());
        if (m) resolve(Number(m[1]));
      });
    });
    return { port, child };
  }
  const portFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'http-bench-')), 'ports');
  const root = kind === 'baseline' ? path.resolve(baseline) : ROOT;
  // a baseline checkout from before -u never refused root (and refuses -u): give it none
  const knowsUser = kind !== 'baseline' || fs.readFileSync(path.join(root, 'dist/src/cli/main.js'), 'utf8').includes('without the -u switch');
  const runAs = knowsUser ? RUN_AS_ARGS : [];
  const child = spawn(process.execPath, [path.join(root, 'bin/memcached-ts.js'), ...runAs, '-p', '-1', '--http-port', '-1', '-U', '0', '-m', '512', '-I', '2m'], {
    env: { ...process.env, MEMCACHED_PORT_FILENAME: portFile },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  while (!fs.existsSync(portFile)) await new Promise((r) => setTimeout(r, 10));
  const ports = fs.readFileSync(portFile, 'utf8');
  const port = Number((kind === 'text' ? /TCP INET: (\d+)/ : /HTTP INET: (\d+)/).exec(ports)?.[1]);
  return { port, child };
}

function request(agent: http.Agent, port: number, method: string, p: string, body: Buffer | null): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, agent, headers: body === null ? {} : { 'Content-Length': body.length } }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

/** One memcached text connection, one request at a time: `set` waits for STORED, `get` for END. */
class TextClient {
  readonly #s: net.Socket;
  #chunks: Buffer[] = [];
  #have = 0;
  #want: (got: Buffer[], have: number) => boolean = () => false;
  #done: (() => void) | null = null;

  private constructor(s: net.Socket) {
    this.#s = s;
    s.on('data', (d: Buffer) => {
      this.#chunks.push(d);
      this.#have += d.length;
      if (this.#done !== null && this.#want(this.#chunks, this.#have)) {
        const done = this.#done;
        this.#done = null;
        this.#chunks = [];
        this.#have = 0;
        done();
      }
    });
  }

  static open(port: number): Promise<TextClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new TextClient(s)));
      s.setNoDelay(true);
      s.once('error', reject);
    });
  }

  #call(bytes: Buffer[], want: (got: Buffer[], have: number) => boolean): Promise<void> {
    return new Promise((resolve) => {
      this.#want = want;
      this.#done = resolve;
      for (const b of bytes) this.#s.write(b);
    });
  }

  set(key: string, value: Buffer): Promise<void> {
    return this.#call([Buffer.from(`set ${key} 0 0 ${value.length}\r\n`), value, Buffer.from('\r\n')], (got, have) => have >= 8);
  }

  /** Resolves once `VALUE <key> 0 <n>\r\n` + n bytes + `\r\nEND\r\n` has arrived. */
  get(key: string, size: number): Promise<void> {
    const total = `VALUE ${key} 0 ${size}\r\n`.length + size + 7;
    return this.#call([Buffer.from(`get ${key}\r\n`)], (_got, have) => have >= total);
  }

  close(): void {
    this.#s.destroy();
  }
}

async function loadText(port: number, pid: number | undefined, method: 'GET' | 'PUT', size: number, seconds: number, concurrency: number): Promise<Result> {
  const clients = await Promise.all(Array.from({ length: concurrency }, () => TextClient.open(port)));
  const value = Buffer.alloc(size, 0x61);
  const keys = 100;
  for (let k = 0; k < keys; k++) await clients[0]!.set(`b${size}-${k}`, value);
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const worker = async (c: TextClient): Promise<void> => {
    while (performance.now() < end) {
      const key = `b${size}-${n++ % keys}`;
      const t0 = performance.now();
      if (method === 'PUT') await c.set(key, value);
      else await c.get(key, size);
      latencies.push(performance.now() - t0);
    }
  };
  const cpu0 = cpuMsOf(pid);
  const t0 = performance.now();
  await Promise.all(clients.map(worker));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuMsOf(pid) - cpu0;
  for (const c of clients) c.close();
  return summary(latencies, elapsed, cpu);
}

function summary(latencies: number[], elapsed: number, cpuMs: number): Result {
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return { rps: latencies.length / elapsed, p50: q(0.5), p99: q(0.99), cpuUs: (cpuMs * 1000) / Math.max(1, latencies.length) };
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  /** The server process's CPU time (user + system) per request, in microseconds. */
  cpuUs: number;
}

/** CPU milliseconds (user + system) process `pid` has used so far (Linux /proc; 0 elsewhere). */
function cpuMsOf(pid: number | undefined): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, in clock ticks (100 per second on Linux)
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

async function load(port: number, pid: number | undefined, method: 'GET' | 'PUT', size: number, seconds: number, concurrency: number): Promise<Result> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const value = Buffer.alloc(size, 0x61);
  const keys = 100;
  // GETs read blobs that exist
  for (let k = 0; k < keys; k++) await request(agent, port, 'PUT', `/store/b${size}-${k}`, value);
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const k = n++ % keys;
      const t0 = performance.now();
      const status = await request(agent, port, method, `/store/b${size}-${k}`, method === 'PUT' ? value : null);
      latencies.push(performance.now() - t0);
      if (status >= 300) throw new Error(`status ${status}`);
    }
  };
  const cpu0 = cpuMsOf(pid);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuMsOf(pid) - cpu0;
  agent.destroy();
  return summary(latencies, elapsed, cpu);
}

const USAGE = `usage: node dist/bench/http.js [options]
HTTP front against a bare node:http server and the text port of the same daemon.
  --duration S      seconds per measurement (default 5)
  --concurrency N   connections, one request in flight each (default 16)
  --sizes A,B       body sizes in bytes (default 100,1048576)
  --baseline DIR    also measure the HTTP front of the memcached-ts built in DIR (bin/, dist/)
  --rounds N        repeat every measurement N times, alternating the order (default 1)
  --methods M,N     GET, PUT or both (default GET,PUT)
  --floor           serve the node:http floor server instead (used by the benchmark itself)`;

async function main(): Promise<void> {
  const values = benchArgs(USAGE, {
    floor: { type: 'boolean' },
    duration: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '16' },
    sizes: { type: 'string', default: '100,1048576' },
    baseline: { type: 'string', default: '' },
    rounds: { type: 'string', default: '1' },
    methods: { type: 'string', default: 'GET,PUT' },
  });
  if (values.floor) return floorServer();
  const seconds = Number(values.duration);
  const concurrency = Number(values.concurrency);
  const baseline = values.baseline;
  const kinds: Kind[] = baseline === '' ? ['floor', 'memcached-ts', 'text'] : ['floor', 'baseline', 'memcached-ts', 'text'];
  const rows: string[] = [];
  for (const size of values.sizes.split(',').map(Number)) {
    for (const method of values.methods.split(',') as Array<'GET' | 'PUT'>) {
      for (let round = 0; round < Number(values.rounds); round++) {
        for (const kind of round % 2 === 0 ? kinds : [...kinds].reverse()) {
          const { port, child } = await startServer(kind, baseline);
          try {
            const r = kind === 'text' ? await loadText(port, child.pid, method, size, seconds, concurrency) : await load(port, child.pid, method, size, seconds, concurrency);
            const name = {
              floor: 'node:http + Map (floor)',
              baseline: `memcached-ts (baseline: ${path.basename(path.resolve(baseline))})`,
              'memcached-ts': 'memcached-ts',
              text: `memcached-ts text port (${method === 'GET' ? 'get' : 'set'})`,
            }[kind];
            const shown = size === 100 ? '100 B' : size === 1024 * 1024 ? '1 MiB' : `${size} B`;
            const row = `| ${method} | ${shown} | ${name} | ${Math.round(r.rps)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${Math.round(r.cpuUs)} |`;
            rows.push(row);
            console.log(row);
          } finally {
            child.kill('SIGTERM');
          }
        }
      }
    }
  }
  console.log(`\n| method | size | server | req/s | p50 ms | p99 ms | server CPU µs/req |\n|---|---|---|---|---|---|---|\n${rows.join('\n')}`);
}

await main();
