// HTTP front benchmark: requests/s and p99 latency of GET and PUT of 100 B and 1 MiB blobs
// against memcached-ts --http-port, and against a bare node:http server serving a Map (the
// floor: what node:http itself costs). Both run as child processes; the load comes from this
// process over keep-alive connections with a fixed number of requests in flight.
//   npm run build && node dist/bench/http.js [--duration 5] [--concurrency 16]
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

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

async function startServer(kind: 'floor' | 'memcached-ts'): Promise<{ port: number; child: ChildProcess }> {
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
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/memcached-ts.js'), '-p', '-1', '--http-port', '-1', '-U', '0', '-m', '512', '-I', '2m'], {
    env: { ...process.env, MEMCACHED_PORT_FILENAME: portFile },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  while (!fs.existsSync(portFile)) await new Promise((r) => setTimeout(r, 10));
  const port = Number(/HTTP INET: (\d+)/.exec(fs.readFileSync(portFile, 'utf8'))?.[1]);
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

interface Result {
  rps: number;
  p50: number;
  p99: number;
}

async function load(port: number, method: 'GET' | 'PUT', size: number, seconds: number, concurrency: number): Promise<Result> {
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
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return { rps: latencies.length / elapsed, p50: q(0.5), p99: q(0.99) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { floor: { type: 'boolean' }, duration: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '16' } } });
  if (values.floor) return floorServer();
  const seconds = Number(values.duration);
  const concurrency = Number(values.concurrency);
  const rows: string[] = [];
  for (const size of [100, 1024 * 1024]) {
    for (const method of ['GET', 'PUT'] as const) {
      for (const kind of ['floor', 'memcached-ts'] as const) {
        const { port, child } = await startServer(kind);
        try {
          const r = await load(port, method, size, seconds, concurrency);
          const row = `| ${method} | ${size === 100 ? '100 B' : '1 MiB'} | ${kind === 'floor' ? 'node:http + Map (floor)' : 'memcached-ts'} | ${Math.round(r.rps)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`;
          rows.push(row);
          console.log(row);
        } finally {
          child.kill('SIGTERM');
        }
      }
    }
  }
  console.log(`\n| method | size | server | req/s | p50 ms | p99 ms |\n|---|---|---|---|---|---|\n${rows.join('\n')}`);
}

await main();
