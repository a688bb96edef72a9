// The HTTP front's operations side, in process over real HTTP: /metrics parsed as Prometheus
// text and checked against memcached_exporter's names, labels and types; /healthz; /stats as
// JSON; Basic auth with the -Y file; HTTPS with -Z; the -c limit; settings and port file.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/cache/clock.js';
import { defaultConfig, type Config } from '../../src/config/config.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { captureLog, Client, tempDir } from '../snapshot/helpers.js';
import { RawConnection } from '../support/raw-client.js';
import { ask, parsePrometheus, raw } from './client.js';

/** A memcached connection once -c has room for it (a closed connection is released when its close event has run). */
async function untilConnected(port: number): Promise<Client> {
  for (const deadline = Date.now() + 5000; ; await new Promise((r) => setTimeout(r, 20))) {
    const c = await Client.connect(port);
    const got = await Promise.race([c.call('version\r\n', ['\r\n']), new Promise<string>((r) => setTimeout(() => r(''), 2000))]);
    if (got.startsWith('VERSION ')) return c;
    c.close();
    if (Date.now() > deadline) throw new Error(`no room under -c: ${got}`);
  }
}

let daemon: Daemon | null = null;
afterEach(async () => {
  await daemon?.stop('test');
  daemon = null;
});

async function start(extra: Partial<Config> = {}): Promise<{ d: Daemon; port: number }> {
  daemon = await startDaemon({ ...defaultConfig(), port: -1, httpPort: -1, ...extra }, { clock: new ManualClock(), log: captureLog(), lruCrawler: false });
  return { d: daemon, port: daemon.httpPort! };
}

// prometheus/memcached_exporter (pkg/exporter/exporter.go): name -> [type, labels]
const EXPORTER: Record<string, [string, string[]]> = {
  memcached_up: ['gauge', []],
  memcached_uptime_seconds: ['counter', []],
  memcached_time_seconds: ['gauge', []],
  memcached_version: ['gauge', ['version']],
  memcached_process_user_cpu_seconds_total: ['counter', []],
  memcached_process_system_cpu_seconds_total: ['counter', []],
  memcached_read_bytes_total: ['counter', []],
  memcached_written_bytes_total: ['counter', []],
  memcached_current_connections: ['gauge', []],
  memcached_max_connections: ['gauge', []],
  memcached_connections_total: ['counter', []],
  memcached_connections_rejected_total: ['counter', []],
  memcached_connections_yielded_total: ['counter', []],
  memcached_connections_listener_disabled_total: ['counter', []],
  memcached_current_bytes: ['gauge', []],
  memcached_limit_bytes: ['gauge', []],
  memcached_commands_total: ['counter', ['command', 'status']],
  memcached_current_items: ['gauge', []],
  memcached_items_total: ['counter', []],
  memcached_items_evicted_total: ['counter', []],
  memcached_items_reclaimed_total: ['counter', []],
  memcached_item_too_large_total: ['counter', []],
  memcached_item_no_memory_total: ['counter', []],
  memcached_lru_crawler_enabled: ['gauge', []],
  memcached_lru_crawler_sleep: ['gauge', []],
  memcached_lru_crawler_to_crawl: ['gauge', []],
  memcached_lru_crawler_maintainer_thread: ['gauge', []],
  memcached_lru_crawler_hot_percent: ['gauge', []],
  memcached_lru_crawler_warm_percent: ['gauge', []],
  memcached_lru_crawler_hot_max_factor: ['gauge', []],
  memcached_lru_crawler_warm_max_factor: ['gauge', []],
  memcached_lru_crawler_starts_total: ['counter', []],
  memcached_direct_reclaims_total: ['counter', []],
  memcached_lru_crawler_items_checked_total: ['counter', []],
  memcached_lru_crawler_reclaimed_total: ['counter', []],
  memcached_lru_crawler_moves_to_cold_total: ['counter', []],
  memcached_lru_crawler_moves_to_warm_total: ['counter', []],
  memcached_lru_crawler_moves_within_lru_total: ['counter', []],
  memcached_malloced_bytes: ['gauge', []],
  memcached_accepting_connections: ['gauge', []],
  memcached_slab_current_items: ['gauge', ['slab']],
  memcached_slab_items_age_seconds: ['gauge', ['slab']],
  memcached_slab_lru_hits_total: ['counter', ['slab', 'lru']],
  memcached_slab_items_crawler_reclaimed_total: ['counter', ['slab']],
  memcached_slab_items_evicted_total: ['counter', ['slab']],
  memcached_slab_items_evicted_nonzero_total: ['counter', ['slab']],
  memcached_slab_items_evicted_time_seconds: ['counter', ['slab']],
  memcached_slab_items_evicted_unfetched_total: ['counter', ['slab']],
  memcached_slab_items_expired_unfetched_total: ['counter', ['slab']],
  memcached_slab_items_outofmemory_total: ['counter', ['slab']],
  memcached_slab_items_reclaimed_total: ['counter', ['slab']],
  memcached_slab_items_tailrepairs_total: ['counter', ['slab']],
  memcached_slab_items_moves_to_cold: ['counter', ['slab']],
  memcached_slab_items_moves_to_warm: ['counter', ['slab']],
  memcached_slab_items_moves_within_lru: ['counter', ['slab']],
  memcached_slab_hot_items: ['gauge', ['slab']],
  memcached_slab_warm_items: ['gauge', ['slab']],
  memcached_slab_cold_items: ['gauge', ['slab']],
  memcached_slab_temporary_items: ['gauge', ['slab']],
  memcached_slab_hot_age_seconds: ['gauge', ['slab']],
  memcached_slab_warm_age_seconds: ['gauge', ['slab']],
  memcached_slab_chunk_size_bytes: ['gauge', ['slab']],
  memcached_slab_chunks_per_page: ['gauge', ['slab']],
  memcached_slab_current_pages: ['gauge', ['slab']],
  memcached_slab_current_chunks: ['gauge', ['slab']],
  memcached_slab_chunks_used: ['gauge', ['slab']],
  memcached_slab_chunks_free: ['gauge', ['slab']],
  memcached_slab_chunks_free_end: ['gauge', ['slab']],
  memcached_slab_mem_requested_bytes: ['gauge', ['slab']],
  memcached_slab_commands_total: ['counter', ['slab', 'command', 'status']],
};

describe('GET /metrics', () => {
  it('is Prometheus text with memcached_exporter names, labels and types, and values that follow the cache', async () => {
    const { d, port } = await start();
    const c = await Client.connect(d.tcpPort!);
    await c.call('set a 0 0 1\r\n1\r\n');
    await c.call('get a\r\nget b\r\n', ['END\r\nEND\r\n']);
    await ask(port, { method: 'PUT', path: '/store/x', body: 'y' });
    await ask(port, { path: '/store/none' });
    const r = await ask(port, { path: '/metrics' });
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const { types, samples } = parsePrometheus(r.body.toString());
    for (const [name, [type, labels]] of Object.entries(EXPORTER)) {
      // memcached prints number_temp only with -o temp_lru; so does the exporter
      if (name === 'memcached_slab_temporary_items' && !types.has(name)) continue;
      expect(types.get(name), name).toBe(type);
      const ss = samples.filter((s) => s.name === name);
      expect(ss.length, name).toBeGreaterThan(0);
      for (const s of ss) expect(Object.keys(s.labels).sort(), name).toEqual([...labels].sort());
    }
    for (const name of types.keys()) expect(name in EXPORTER || name.startsWith('memcached_ts_'), name).toBe(true);
    const value = (name: string, labels: Record<string, string> = {}): number | undefined =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('memcached_up')).toBe(1);
    expect(value('memcached_current_items')).toBe(2);
    expect(value('memcached_commands_total', { command: 'get', status: 'hit' })).toBe(1);
    expect(value('memcached_commands_total', { command: 'get', status: 'miss' })).toBe(2);
    expect(value('memcached_commands_total', { command: 'set', status: 'hit' })).toBe(2);
    expect(value('memcached_ts_http_requests_total', { code: '201' })).toBe(1);
    expect(value('memcached_ts_http_requests_total', { code: '404' })).toBe(1);
    expect(value('memcached_slab_current_items', { slab: '1' })).toBe(2);
  });

  it('a scrape of 64 slab classes is not a long stall', async () => {
    const { port } = await start({ growthFactor: 1.08 });
    for (let i = 0; i < 64; i++) await ask(port, { method: 'PUT', path: `/store/s${i}`, body: Buffer.alloc(Math.floor(60 * 1.08 ** i)) });
    const r = await ask(port, { path: '/metrics' });
    const classes = new Set(parsePrometheus(r.body.toString()).samples.filter((s) => s.name === 'memcached_slab_current_items').map((s) => s.labels.slab));
    expect(classes.size).toBeGreaterThanOrEqual(40);
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) await ask(port, { path: '/metrics' });
    // a few ms per round trip on a quiet machine; the bound only catches a scrape that grows
    // out of proportion (e.g. quadratic in classes), with room for a loaded CI host
    expect((performance.now() - t0) / 20).toBeLessThan(150);
  });
});

describe('GET /healthz and /stats', () => {
  it('healthz is 200 while serving and 503 while stopping; /stats is the stats groups as JSON', async () => {
    const { d, port } = await start();
    const h = await ask(port, { path: '/healthz' });
    expect([h.status, h.body.toString()]).toEqual([200, 'ok\n']);
    await ask(port, { method: 'PUT', path: '/store/a', body: 'x' });
    const s = JSON.parse((await ask(port, { path: '/stats' })).body.toString()) as Record<string, Record<string, unknown>>;
    expect(s.stats!.curr_items).toBe(1);
    expect(s.stats!.version).toBe('1.6.18');
    expect(s.stats!.libevent).toMatch(/^memcached-ts-/);
    expect(s.settings!.http_port).toBe(-1);
    expect(s.items!['items:1:number']).toBe(1);
    expect(typeof s.slabs!.total_malloced).toBe('number');
    // a request on a connection still busy when the daemon starts to stop sees 503
    const net = await import('node:net');
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    sock.on('data', (b: Buffer) => (got += b.toString('latin1')));
    const closed = new Promise((r) => sock.on('close', r));
    sock.write('PUT /store/b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nx');
    await new Promise((r) => setTimeout(r, 50));
    const stopping = d.stop('test');
    sock.write('y' + 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await closed;
    await stopping;
    daemon = null;
    expect([...got.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => m[1])).toEqual(['201', '503']);
  });
});

describe('Basic auth, HTTPS, -c', () => {
  it('with -Y every request needs Basic auth with the file\'s credentials (401 with WWW-Authenticate)', async () => {
    const dir = tempDir();
    const file = join(dir, 'auth');
    writeFileSync(file, 'alice:s3cret\nbob:pw\n');
    const { port } = await start({ authFile: file, bindingProtocol: 'ascii' });
    const good = { Authorization: `Basic ${Buffer.from('alice:s3cret').toString('base64')}` };
    const bad = { Authorization: `Basic ${Buffer.from('alice:nope').toString('base64')}` };
    for (const path of ['/store/a', '/get?key=a', '/metrics', '/healthz', '/stats']) {
      const r = await ask(port, { path });
      expect([r.status, r.headers['www-authenticate']], path).toEqual([401, 'Basic realm="memcached-ts", charset="UTF-8"']);
      expect((await ask(port, { path, headers: bad })).status, path).toBe(401);
    }
    expect((await ask(port, { method: 'PUT', path: '/store/a', body: 'x' })).status).toBe(401);
    expect((await ask(port, { path: '/store/a' })).status).toBe(401);
    expect((await ask(port, { method: 'PUT', path: '/store/a', body: 'x', headers: good })).status).toBe(201);
    expect((await ask(port, { path: '/store/a', headers: good })).body.toString()).toBe('x');
  });

  it('with -Z serves HTTPS with the same certificate', async () => {
    const dir = tempDir();
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    const { port } = await start({ tls: true, tlsCertFile: cert, tlsKeyFile: key });
    expect((await ask(port, { method: 'PUT', path: '/store/tls', body: 'secret', tls: true })).status).toBe(201);
    expect((await ask(port, { path: '/store/tls', tls: true })).body.toString()).toBe('secret');
    // plain HTTP on the HTTPS port gets no answer
    await expect(ask(port, { path: '/store/tls' })).rejects.toThrow();
  });

  it('obeys -c: connections past it get 503 and are closed', async () => {
    const { port } = await start({ maxConnections: 2 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    await Promise.all([ask(port, { path: '/healthz', agent }), ask(port, { path: '/healthz', agent })]);
    const third = await raw(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(third).toMatch(/^HTTP\/1\.1 503 .*Too many open connections/s);
    agent.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect((await ask(port, { path: '/healthz' })).status).toBe(200);
  });

  it('-c is one limit for the process: memcached and HTTP connections count together', async () => {
    const { d, port } = await start({ maxConnections: 2 });
    // two memcached connections fill it: HTTP gets 503
    const a = await Client.connect(d.tcpPort!);
    const b = await Client.connect(d.tcpPort!);
    expect(await a.call('version\r\n', ['\r\n'])).toMatch(/^VERSION /);
    expect(await b.call('version\r\n', ['\r\n'])).toMatch(/^VERSION /);
    expect(await raw(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')).toMatch(/^HTTP\/1\.1 503 .*Too many open connections/s);
    // one memcached connection and one HTTP keep-alive connection fill it too
    b.close();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    // (the closed connection leaves the count once the server has seen the close)
    let status = 0;
    for (const deadline = Date.now() + 5000; status !== 200 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
      status = (await ask(port, { path: '/healthz', agent })).status;
    }
    expect(status).toBe(200);
    const third = await RawConnection.open(d.tcpPort!);
    expect((await third.readAll()).toString()).toBe('ERROR Too many open connections\r\n');
    third.close();
    expect(await raw(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')).toMatch(/^HTTP\/1\.1 503 /);
    // the HTTP connection closes: its place is free for the memcached port
    agent.destroy();
    const fourth = await untilConnected(d.tcpPort!);
    expect(await fourth.call('version\r\n', ['\r\n'])).toMatch(/^VERSION /);
    fourth.close();
    a.close();
  });
});
