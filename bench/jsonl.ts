// JSON-lines front vs the memcached text port of the same daemon, same workload: SET/GET of
// 1000 keys with 32-byte values, 50/50, each connection one request in flight at a time.
// Requests/s and p99 latency on 1 and 50 connections. Run: npm run build && node dist/bench/jsonl.js
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/cli.js';
import { RUN_AS_ARGS } from './lib/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const VALUE = 'v'.repeat(32);

type Front = 'json' | 'text';

function request(front: Front, n: number): { bytes: string; done: (s: string) => number } {
  const key = `key:${n % 1000}`;
  const set = n % 2 === 0;
  if (front === 'json') {
    const bytes = set ? `{"command":"SET","args":{"key":"${key}","value":"${VALUE}"}}\n` : `{"command":"GET","args":{"key":"${key}"}}\n`;
    return { bytes, done: (s) => s.indexOf('\n') + 1 };
  }
  const bytes = set ? `set ${key} 0 0 ${VALUE.length}\r\n${VALUE}\r\n` : `get ${key}\r\n`;
  return { bytes, done: (s) => (set ? s.indexOf('\r\n') + 2 : s.endsWith('END\r\n') ? s.length : 0) };
}

async function run(port: number, front: Front, conns: number): Promise<{ rps: number; p99: number }> {
  const lat: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  await Promise.all(
    [...Array(conns).keys()].map(
      () =>
        new Promise<void>((resolve) => {
          const s = net.connect(port, '127.0.0.1');
          s.setNoDelay(true);
          s.setEncoding('latin1');
          let buf = '';
          let cur = request(front, n++);
          let t0 = 0;
          const send = (): void => {
            if (performance.now() > end) {
              s.end();
              resolve();
              return;
            }
            cur = request(front, n++);
            t0 = performance.now();
            s.write(cur.bytes);
          };
          s.on('connect', send);
          s.on('data', (d: string) => {
            buf += d;
            const used = cur.done(buf);
            if (used <= 0) return;
            buf = buf.slice(used);
            lat.push(performance.now() - t0);
            send();
          });
        }),
    ),
  );
  lat.sort((a, b) => a - b);
  return { rps: lat.length / SECONDS, p99: lat[Math.floor(lat.length * 0.99)] ?? 0 };
}

const USAGE = `usage: node dist/bench/jsonl.js
JSON-lines front against the text port of the same daemon (SET/GET, 1 and 50 connections).
It takes no options.`;

async function main(): Promise<void> {
  benchArgs(USAGE, {});
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jsonl-bench-'));
  const portFile = path.join(dir, 'ports');
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/memcached-ts.js'), ...RUN_AS_ARGS, '-p', '-1', '--json-port', '-1', '-l', '127.0.0.1'], {
    env: { ...process.env, MEMCACHED_PORT_FILENAME: portFile },
    stdio: 'inherit',
  });
  while (!fs.existsSync(portFile)) await new Promise((r) => setTimeout(r, 20));
  const text = fs.readFileSync(portFile, 'utf8');
  const ports = { text: Number(/TCP INET: (\d+)/.exec(text)![1]), json: Number(/JSON INET: (\d+)/.exec(text)![1]) };
  console.log(`| front | connections | requests/s | p99 ms |\n|---|---|---|---|`);
  for (const conns of [1, 50]) {
    for (const front of ['json', 'text'] as const) {
      const r = await run(ports[front], front, conns);
      console.log(`| ${front === 'json' ? 'JSON lines' : 'memcached text'} | ${conns} | ${Math.round(r.rps)} | ${r.p99.toFixed(2)} |`);
    }
  }
  child.kill('SIGTERM');
}

void main();
