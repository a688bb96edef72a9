// The slab cache through a real daemon process: a small -m fills up and evicts from the LRU
// tail, -M refuses instead, `stats slabs` / `stats items` add up, cache_memlimit moves the limit.
import { afterEach, describe, expect, it } from 'vitest';
import { startDaemonProcess } from '../support/daemon-process.js';
import type { RunningServer } from '../support/port-file-server.js';
import { RawConnection } from '../support/raw-client.js';

const MB = 1024 * 1024;
const VALUE = 'v'.repeat(100);

let server: RunningServer | null = null;
let conn: RawConnection | null = null;

afterEach(async () => {
  conn?.close();
  conn = null;
  await server?.stop();
  server = null;
});

async function start(args: string[]): Promise<RawConnection> {
  server = await startDaemonProcess(args);
  conn = await RawConnection.open(server.port);
  return conn;
}

async function send(c: RawConnection, text: string): Promise<string> {
  const reply = await c.exchange(Buffer.from(text, 'latin1'), { timeoutMs: 30_000 });
  expect(reply.closed).toBe(false);
  // drop the sentinel's VERSION line
  return reply.bytes.toString('latin1').replace(/VERSION [^\r\n]*\r\n$/, '');
}

/** `stats [group]` as a name -> value map. */
async function stats(c: RawConnection, group = ''): Promise<Map<string, number>> {
  const text = await send(c, `stats${group === '' ? '' : ` ${group}`}\r\n`);
  expect(text.endsWith('END\r\n')).toBe(true);
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^STAT (\S+) (\S+)\r$/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

/** Sum of a per-class stat (`items:N:field` or `N:field`) over every class. */
function sumPerClass(s: Map<string, number>, field: string): number {
  let total = 0;
  for (const [name, v] of s) if (new RegExp(`^(items:)?\\d+:${field}$`).test(name)) total += v;
  return total;
}

function classesOf(s: Map<string, number>, field: string): number[] {
  const out: number[] = [];
  for (const name of s.keys()) {
    const m = new RegExp(`^(?:items:)?(\\d+):${field}$`).exec(name);
    if (m) out.push(Number(m[1]));
  }
  return out;
}

/** Pipelined `set` commands with noreply for keys from..to-1. */
function sets(prefix: string, from: number, to: number, value = VALUE, exptime = 0): string {
  let out = '';
  for (let i = from; i < to; i++) out += `set ${prefix}${i} 0 ${exptime} ${value.length} noreply\r\n${value}\r\n`;
  return out;
}

function getAll(prefix: string, from: number, to: number): string {
  let keys = '';
  for (let i = from; i < to; i++) keys += ` ${prefix}${i}`;
  return `get${keys}\r\n`;
}

function hitCount(reply: string): number {
  return reply.match(/^VALUE /gm)?.length ?? 0;
}

describe('slab cache over a real daemon', () => {
  it('evicts from the LRU tail when -m is full, keeping the keys that are read', async () => {
    const c = await start(['-m', '4']);
    const hot = 100;
    expect(await send(c, sets('hot', 0, hot))).toBe('');
    // 60k items of ~160 bytes need ~10 MB: many times the budget. Read the hot keys between batches.
    for (let batch = 0; batch < 60; batch++) {
      expect(await send(c, sets('cold', batch * 1000, batch * 1000 + 1000))).toBe('');
      expect(hitCount(await send(c, getAll('hot', 0, hot)))).toBe(hot);
    }
    const s = await stats(c);
    const items = await stats(c, 'items');
    const slabs = await stats(c, 'slabs');
    expect(s.get('evictions')).toBeGreaterThan(30_000);
    expect(sumPerClass(items, 'evicted')).toBe(s.get('evictions'));
    expect(s.get('evicted_unfetched')).toBe(s.get('evictions'));
    expect(slabs.get('total_malloced')).toBeLessThanOrEqual(4 * MB);
    expect(s.get('curr_items')).toBeLessThan(60_000);
    // the oldest cold keys went first, the newest are still here
    expect(hitCount(await send(c, getAll('cold', 0, 100)))).toBe(0);
    expect(hitCount(await send(c, getAll('cold', 59_900, 60_000)))).toBe(100);
    expect(hitCount(await send(c, getAll('hot', 0, hot)))).toBe(hot);
  });

  it('with -M refuses stores once memory is spent and keeps what it has', async () => {
    const c = await start(['-m', '2', '-M']);
    let reply = '';
    let stored = 0;
    for (let i = 0; i < 30_000 && !reply.includes('SERVER_ERROR'); i += 500) {
      reply = await send(c, sets('k', i, i + 500).replaceAll(' noreply', ''));
      stored += reply.match(/^STORED\r$/gm)?.length ?? 0;
    }
    expect(reply).toContain('SERVER_ERROR out of memory storing object\r\n');
    expect(stored).toBeGreaterThan(1000);
    const s = await stats(c);
    expect(s.get('evictions')).toBe(0);
    expect(s.get('curr_items')).toBe(stored);
    expect(s.get('store_no_memory')).toBeGreaterThan(0);
    expect(hitCount(await send(c, getAll('k', 0, 100)))).toBe(100);
    const items = await stats(c, 'items');
    expect(sumPerClass(items, 'outofmemory')).toBeGreaterThan(0);
    // a delete frees a chunk, so the next store of the same class fits again
    expect(await send(c, 'delete k1\r\n')).toBe('DELETED\r\n');
    expect(await send(c, `set k2 0 0 100\r\n${VALUE}\r\n`)).toBe('STORED\r\n');
    expect(await send(c, `set k3 0 0 100\r\n${VALUE}\r\n`)).toBe('STORED\r\n');
    expect(await send(c, `set k4 0 0 100\r\n${VALUE}\r\n`)).toBe('STORED\r\n');
  });

  it('stats slabs and stats items add up to the totals', async () => {
    const c = await start(['-m', '16']);
    // several classes, some of them chained (over the 512 KiB chunk), and a few deletes
    let load = sets('a', 0, 3000, 'x'.repeat(10));
    load += sets('b', 0, 2000, 'y'.repeat(700));
    load += sets('c', 0, 500, 'z'.repeat(5000));
    load += sets('d', 0, 3, 'w'.repeat(600_000));
    for (let i = 0; i < 1000; i += 3) load += `delete b${i} noreply\r\n`;
    expect(await send(c, load)).toBe('');
    const s = await stats(c);
    const items = await stats(c, 'items');
    const slabs = await stats(c, 'slabs');
    expect(s.get('curr_items')).toBe(3000 + 2000 - 334 + 500 + 3);
    expect(sumPerClass(items, 'number')).toBe(s.get('curr_items'));
    expect(sumPerClass(items, 'mem_requested')).toBe(s.get('bytes'));
    expect(sumPerClass(slabs, 'total_pages') * MB).toBe(slabs.get('total_malloced'));
    expect(slabs.get('active_slabs')).toBe(classesOf(slabs, 'total_pages').length);
    for (const cls of classesOf(slabs, 'total_pages')) {
      const used = slabs.get(`${cls}:used_chunks`)!;
      const free = slabs.get(`${cls}:free_chunks`)!;
      expect(used + free).toBe(slabs.get(`${cls}:total_chunks`));
      expect(slabs.get(`${cls}:total_chunks`)).toBe(slabs.get(`${cls}:total_pages`)! * slabs.get(`${cls}:chunks_per_page`)!);
      const number = items.get(`items:${cls}:number`) ?? 0;
      // a chained item holds more than one chunk of the largest class; the others hold one each
      if (slabs.get(`${cls}:chunk_size`) === 512 * 1024) expect(used).toBeGreaterThan(number);
      else expect(used).toBe(number);
    }
    expect(s.get('limit_maxbytes')).toBe(16 * MB);
    expect(slabs.get('total_malloced')).toBeLessThanOrEqual(16 * MB);
  });

  it('cache_memlimit changes limit_maxbytes and the budget new pages come from', async () => {
    const c = await start(['-m', '64']);
    expect((await stats(c)).get('limit_maxbytes')).toBe(64 * MB);
    // memcached's floor for a new limit is 8 MB
    expect(await send(c, 'cache_memlimit 3\r\n')).toBe('MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n');
    expect(await send(c, 'cache_memlimit 8\r\n')).toBe('OK\r\n');
    expect((await stats(c)).get('limit_maxbytes')).toBe(8 * MB);
    // ~16 MB of 100-byte items into the 8 MB left
    expect(await send(c, sets('k', 0, 100_000))).toBe('');
    const s = await stats(c);
    expect(s.get('evictions')).toBeGreaterThan(0);
    expect((await stats(c, 'slabs')).get('total_malloced')).toBeLessThanOrEqual(8 * MB);
    expect(await send(c, 'cache_memlimit 128\r\n')).toBe('OK\r\n');
    expect((await stats(c)).get('limit_maxbytes')).toBe(128 * MB);
  });

  it('reports the crawler in stats', async () => {
    const c = await start(['-m', '8']);
    // an hour's TTL: with 1 s the LRU maintainer's tail pulls could reclaim them before the
    // crawler's first pass, leaving it nothing to check
    expect(await send(c, sets('t', 0, 100, VALUE, 3600))).toBe('');
    // the crawler's first pass starts a second after start-up; no TTL waits here, just its counter
    let starts = 0;
    for (let i = 0; i < 60 && starts === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      starts = (await stats(c)).get('lru_crawler_starts') ?? 0;
    }
    const s = await stats(c);
    expect(starts).toBeGreaterThan(0);
    expect(s.get('crawler_items_checked')).toBeGreaterThan(0);
  });
});
