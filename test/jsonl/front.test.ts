// The JSON-lines front in process over real sockets, time from a ManualClock: every command in
// both forms (KVDB style, one connection per request, and nc style, pipelined), replies, bad
// input, transactions (nesting, isolation, conflicts, rollback on disconnect, memory bound),
// cross-front visibility with the memcached text port, refusals, stats, -c, -Y, idle timeout.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/cache/clock.js';
import { defaultConfig, type Config } from '../../src/config/config.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { realJournalFs } from '../../src/persistence/journal-fs.js';
import { openJournal } from '../../src/persistence/journal-replay.js';
import { captureLog, Client, newCache, peek, tempDir } from '../snapshot/helpers.js';
import { json, JsonlClient, OK, Ok, oneShot } from './client.js';

let daemon: Daemon | null = null;
let clock: ManualClock;
const open: Array<{ close(): void }> = [];

async function start(extra: Partial<Config> = {}): Promise<{ json: number; text: number }> {
  clock = new ManualClock();
  const cfg: Config = { ...defaultConfig(), port: -1, jsonPort: -1, listen: ['127.0.0.1'], ...extra };
  daemon = await startDaemon(cfg, { clock, log: captureLog(), lruCrawler: false });
  return { json: daemon.jsonPort!, text: daemon.tcpPort! };
}

async function client(port: number): Promise<JsonlClient> {
  const c = await JsonlClient.connect(port);
  open.push(c);
  return c;
}

async function text(port: number): Promise<Client> {
  const c = await Client.connect(port);
  open.push(c);
  return c;
}

afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  await daemon?.stop('test');
  daemon = null;
});

const ERROR = expect.objectContaining({ status: 'ERROR', message: expect.any(String) });
const Error_ = expect.objectContaining({ status: 'Error', mesg: expect.any(String) });

describe('JSON-lines front: every command', () => {
  it('answers the KVDB client (one connection per request) with the brief\'s replies', async () => {
    const { json: port } = await start();
    const q = (command: string, args?: Record<string, unknown>) => oneShot(port, json(command, args));
    expect(await q('PING')).toEqual(OK('PONG'));
    expect(await q('SET', { key: 'foo', value: 'bar' })).toEqual(OK());
    expect(await q('GET', { key: 'foo' })).toEqual(OK('bar'));
    expect(await q('GET', { key: 'nope' })).toEqual(OK(null));
    expect(await q('TTL', { key: 'foo' })).toEqual(OK(null));
    expect(await q('SET', { key: 't', value: 'v', ttl: 60 })).toEqual(OK());
    expect(await q('TTL', { key: 't' })).toEqual(OK(60));
    clock.advance(59);
    expect(await q('TTL', { key: 't' })).toEqual(OK(1));
    clock.advance(1);
    expect(await q('GET', { key: 't' })).toEqual(OK(null));
    expect(await q('TTL', { key: 't' })).toEqual(OK(null));
    expect(await q('EXPIRE', { key: 'foo', ttl: 10 })).toEqual(OK(true));
    expect(await q('TTL', { key: 'foo' })).toEqual(OK(10));
    expect(await q('EXPIRE', { key: 'nope', ttl: 10 })).toEqual(OK(false));
    expect(await q('INCR', { key: 'n' })).toEqual(OK('1'));
    expect(await q('INCR', { key: 'n' })).toEqual(OK('2'));
    expect(await q('DECR', { key: 'm' })).toEqual(OK('-1'));
    expect(await q('DECR', { key: 'm' })).toEqual(OK('-2'));
    expect(await q('INCR', { key: 'foo' })).toEqual({ status: 'ERROR', message: 'Value is not an integer' });
    expect(await q('SET', { key: 'big', value: '9223372036854775807' })).toEqual(OK());
    expect(await q('INCR', { key: 'big' })).toEqual(ERROR);
    expect(await q('GET', { key: 'big' })).toEqual(OK('9223372036854775807'));
    expect(await q('DELETE', { key: 'foo' })).toEqual(OK(true));
    expect(await q('DELETE', { key: 'foo' })).toEqual(OK(false));
    expect(await q('GET', { key: 'foo' })).toEqual(OK(null));
    expect(await q('EXPIRE', { key: 'n', ttl: 0 })).toEqual(OK(true));
    expect(await q('GET', { key: 'n' })).toEqual(OK(null));
    expect(await q('COMMIT')).toEqual(ERROR);
    expect(await q('ROLLBACK')).toEqual(ERROR);
    expect(await q('EXIT')).toEqual(OK());
  });

  it('answers a person at nc: plain lines, pipelined, \\n and \\r\\n, in order', async () => {
    const { json: port } = await start();
    const c = await client(port);
    const lines = [
      'PUT a hello world  ', 'get a', 'SET b 5', 'INCR b', 'decr b', 'DEL a', 'DEL a', 'GET a', 'EXPIRE b 30', 'TTL b', 'TTL a',
      'PING', 'START', 'PUT c 1', 'BEGIN', 'PUT c 2', 'GET c', 'ROLLBACK', 'GET c', 'COMMIT', 'GET c', '',
      '{"command": "GET", "args": {"key": "c"}}', 'EXIT',
    ];
    const payload = lines.map((l, i) => l + (i % 2 === 0 ? '\r\n' : '\n')).join('');
    const replies = await c.sendRaw(payload, lines.length - 1);
    expect(replies).toEqual([
      Ok(), Ok('hello world  '), Ok(), Ok('6'), Ok('5'), Ok(true), Ok(false), Ok(null), Ok(true), Ok(30), Ok(null),
      Ok('PONG'), Ok(), Ok(), Ok(), Ok(), Ok('2'), Ok(), Ok('1'), Ok(), Ok('1'),
      OK('1'), Ok(),
    ]);
    await c.closed;
  });

  it('parses the same requests sent whole, byte by byte and at random cuts', async () => {
    const { json: port } = await start();
    const payload = Buffer.from('PUT k v w\r\n{"command":"GET","args":{"key":"k"}}\nSTART\r\nINCR n\nCOMMIT\n{"command":"GET","args":{"key":"n"}}\r\n');
    const expected = [Ok(), OK('v w'), Ok(), Ok('1'), Ok(), OK('1')];
    for (const cut of [[], [...payload.keys()].slice(1), [3, 17, 40, 41, 90]]) {
      await oneShot(port, json('DELETE', { key: 'n' }));
      const c = await client(port);
      const got = c.sendRaw(Buffer.alloc(0), expected.length);
      let from = 0;
      for (const at of [...cut, payload.length]) {
        c.write(payload.subarray(from, at));
        from = at;
        if (cut.length > 10) await new Promise((r) => setImmediate(r));
      }
      expect(await got).toEqual(expected);
    }
  });

  it('shares keys with the memcached text port', async () => {
    const ports = await start();
    const t = await text(ports.text);
    expect(await oneShot(ports.json, json('SET', { key: 'foo', value: 'bär' }))).toEqual(OK());
    expect(await t.call('get foo\r\n')).toBe(`VALUE foo 0 4\r\n${Buffer.from('bär').toString('latin1')}\r\nEND\r\n`);
    expect(await t.call('set num 0 0 2\r\n41\r\n')).toBe('STORED\r\n');
    expect(await oneShot(ports.json, 'INCR num')).toEqual(Ok('42'));
    expect(await t.call('get num\r\n')).toBe('VALUE num 0 2\r\n42\r\nEND\r\n');
    const c = await client(ports.json);
    await c.sendRaw('START\nPUT tx 1\nPUT tx2 2\n', 3);
    expect(await t.call('get tx tx2\r\n')).toBe('END\r\n');
    expect(await c.send('COMMIT')).toEqual(Ok());
    expect(await t.call('get tx tx2\r\n')).toBe('VALUE tx 0 1\r\n1\r\nVALUE tx2 0 1\r\n2\r\nEND\r\n');
  });
});

describe('JSON-lines front: bad input', () => {
  it('answers an error and stays usable, storing nothing', async () => {
    const { json: port } = await start({ itemSizeMax: 1024 * 1024 });
    const c = await client(port);
    const bad = [
      '{"command": "SET", "args": {"key": "a", "value": "b"}',
      '{"command": "SET", "args": {"key": "a"}}',
      '{"command": "SET", "args": {"key": "a", "value": 5}}',
      '{"command": "SET", "args": {"key": 5, "value": "x"}}',
      '{"command": "SET", "args": {"key": "a", "value": "x", "ttl": "60"}}',
      '{"command": "SET", "args": {"key": "a", "value": "x", "ttl": -1}}',
      '{"command": "SET", "args": ["a", "b"]}',
      '{"command": "FROB"}',
      '{"args": {}}',
    ];
    for (const line of bad) expect(await c.send(line), line).toEqual(ERROR);
    for (const line of ['[1, 2]', 'FROB x', 'PUT a', 'GET', 'EXPIRE a soon', 'PING now']) expect(await c.send(line), line).toEqual(Error_);
    expect(await c.send(json('SET', { key: 'has space', value: 'x' }))).toEqual(ERROR);
    expect(await c.send(json('SET', { key: 'k'.repeat(251), value: 'x' }))).toEqual(ERROR);
    expect(await c.send(json('SET', { key: 'big', value: 'x'.repeat(1024 * 1024) }))).toEqual(ERROR);
    // a value of about -I fits a line; a line past the limit is answered, then skipped
    expect(await c.send(json('SET', { key: 'fits', value: 'y'.repeat(1024 * 1024 - 100) }))).toEqual(OK());
    const long = await c.sendRaw(`PUT long ${'z'.repeat(1200 * 1024)}\nGET long\n`, 2);
    expect(long[0]).toEqual(expect.objectContaining({ status: 'Error', mesg: expect.stringContaining('line too long') }));
    expect(long[1]).toEqual(Ok(null));
    expect(await c.send('GET a')).toEqual(Ok(null));
    expect(await c.send('PING')).toEqual(Ok('PONG'));
  });
});

describe('JSON-lines front: transactions', () => {
  it('nests: reads see the innermost write first; inner ROLLBACK drops, inner COMMIT merges; others see only committed data', async () => {
    const { json: port } = await start();
    const a = await client(port);
    const b = await client(port);
    await b.send('PUT k base');
    expect(await a.sendRaw('START\nPUT k 1\nSTART\nPUT k 2\nGET k\nSTART\nDEL k\nGET k\nROLLBACK\nGET k\n', 10)).toEqual([
      Ok(), Ok(), Ok(), Ok(), Ok('2'), Ok(), Ok(true), Ok(null), Ok(), Ok('2'),
    ]);
    expect(await b.send('GET k')).toEqual(Ok('base'));
    expect(await a.sendRaw('COMMIT\nGET k\n', 2)).toEqual([Ok(), Ok('2')]);
    expect(await b.send('GET k')).toEqual(Ok('base'));
    expect(await a.sendRaw('START\nROLLBACK\nGET k\nCOMMIT\n', 4)).toEqual([Ok(), Ok(), Ok('2'), Ok()]);
    expect(await b.send('GET k')).toEqual(Ok('2'));
    expect(await a.send('COMMIT')).toEqual(Error_);
  });

  it('rolls back when the client disconnects', async () => {
    const { json: port, text: tport } = await start();
    const a = await client(port);
    await a.sendRaw('START\nPUT gone 1\nSTART\nPUT gone2 2\n', 4);
    a.destroy();
    await a.closed;
    expect(await oneShot(port, 'GET gone')).toEqual(Ok(null));
    const t = await text(tport);
    expect(await t.call('stats\r\n')).toMatch(/STAT jsonl_tx_disconnected 1\r\n[^]*STAT jsonl_tx_open 0\r\n/);
  });

  it('fails COMMIT when another client (any front) changed a key it read or wrote, and discards every level', async () => {
    const { json: port, text: tport } = await start();
    const a = await client(port);
    const b = await client(port);
    const t = await text(tport);
    await b.send('PUT r 1');
    // a read-only key changed by a JSON client
    await a.sendRaw('START\nGET r\nPUT w 1\n', 3);
    await b.send('PUT r 2');
    expect(await a.send('COMMIT')).toEqual(expect.objectContaining({ status: 'Error', mesg: expect.stringContaining('conflict') }));
    expect(await a.send('GET w')).toEqual(Ok(null));
    // a written key changed through the memcached text port, read at an inner level rolled back
    await a.sendRaw('START\nSTART\nGET r\nROLLBACK\nPUT w 1\nSTART\nPUT x 1\n', 7);
    expect(await t.call('set r 0 0 1\r\n3\r\n')).toBe('STORED\r\n');
    expect(await a.send('COMMIT')).toEqual(Ok());
    expect(await a.send('COMMIT')).toEqual(expect.objectContaining({ mesg: expect.stringContaining('conflict') }));
    expect(await a.sendRaw('GET w\nGET x\nCOMMIT\n', 3)).toEqual([Ok(null), Ok(null), Error_]);
    // a key absent when first read and created meanwhile
    await a.sendRaw('START\nINCR fresh\n', 2);
    await oneShot(port, json('SET', { key: 'fresh', value: '10' }));
    expect(await a.send('COMMIT')).toEqual(expect.objectContaining({ mesg: expect.stringContaining('conflict') }));
    expect(await a.send('GET fresh')).toEqual(Ok('10'));
    // untouched keys changed meanwhile do not matter
    await a.sendRaw('START\nINCR fresh\n', 2);
    await b.send('PUT other 1');
    expect(await a.send('COMMIT')).toEqual(Ok());
    expect(await b.send('GET fresh')).toEqual(Ok('11'));
    expect(await t.call('stats\r\n')).toMatch(/STAT jsonl_tx_committed 1\r\n[^]*STAT jsonl_tx_conflicts 3\r\n/);
  });

  for (const clients of [2, 20]) {
    it(`keeps ${clients} concurrent clients' nested transfers atomic and isolated`, async () => {
      const { json: port } = await start();
      const ACCOUNTS = 5;
      for (let i = 0; i < ACCOUNTS; i++) await oneShot(port, `PUT acct${i} 100`);
      let committed = 0;
      let conflicts = 0;
      const observer = await client(port);
      let observing = true;
      const sums: number[] = [];
      const watch = (async () => {
        while (observing) {
          // a read-only transaction that commits saw a consistent state
          const r = await observer.sendRaw(`START\n${[...Array(ACCOUNTS).keys()].map((i) => `GET acct${i}\n`).join('')}`, ACCOUNTS + 1);
          await new Promise((res) => setImmediate(res));
          if ((await observer.send('COMMIT')).status === 'Ok') sums.push(r.slice(1).reduce((s, x) => s + Number(x.result), 0));
        }
      })();
      await Promise.all(
        [...Array(clients).keys()].map(async (id) => {
          const c = await client(port);
          for (let n = 0; n < 15; n++) {
            const from = (id + n) % ACCOUNTS;
            const to = (id + n + 1) % ACCOUNTS;
            // read, let the others run, then write what was read plus or minus one
            const r1 = await c.sendRaw(`START\nGET acct${from}\nSTART\nGET acct${to}\n`, 4);
            await new Promise((res) => setImmediate(res));
            const f = Number(r1[1]!.result) - 1;
            const t = Number(r1[3]!.result) + 1;
            const r = await c.sendRaw(`PUT acct${from} ${f}\nPUT acct${to} ${t}\nCOMMIT\nSTART\nPUT acct${from} 0\nROLLBACK\nCOMMIT\n`, 7);
            expect(r.slice(0, 6).every((x) => x.status === 'Ok')).toBe(true);
            if (r[6]!.status === 'Ok') committed++;
            else conflicts++;
          }
        }),
      );
      observing = false;
      await watch;
      const final = await Promise.all([...Array(ACCOUNTS).keys()].map((i) => oneShot(port, `GET acct${i}`)));
      expect(final.reduce((s, x) => s + Number(x.result), 0)).toBe(ACCOUNTS * 100);
      expect(sums.every((s) => s === ACCOUNTS * 100)).toBe(true);
      expect(committed + conflicts).toBe(clients * 15);
      expect(committed).toBeGreaterThan(0);
      if (clients === 20) expect(conflicts).toBeGreaterThan(0);
    });
  }

  it('bounds a transaction\'s memory with a clear error and stays usable', async () => {
    const { json: port } = await start({ itemSizeMax: 1024 * 1024 });
    const c = await client(port);
    await c.send('START');
    const value = 'v'.repeat(1000 * 1000);
    let refused = -1;
    for (let i = 0; i < 20 && refused < 0; i++) {
      const r = await c.send(`PUT k${i} ${value}`);
      if (r.status !== 'Ok') {
        expect(r.mesg).toMatch(/transaction too large/);
        refused = i;
      }
    }
    expect(refused).toBeGreaterThan(10);
    expect(await c.send('COMMIT')).toEqual(Ok());
    expect(await c.send(`GET k${refused - 1}`)).toEqual(Ok(value));
    expect(await c.send(`GET k${refused}`)).toEqual(Ok(null));
  });

  it('refuses changes with the reason while the journal cannot write, serves reads, keeps the transaction', async () => {
    const { json: port } = await start();
    const c = await client(port);
    await c.sendRaw('PUT a 1\nSTART\nPUT a 2\n', 3);
    daemon!.cache.setWriteRefusal('journal write failed: ENOSPC');
    expect(await oneShot(port, json('SET', { key: 'b', value: '1' }))).toEqual({ status: 'ERROR', message: expect.stringContaining('ENOSPC') });
    expect(await oneShot(port, 'INCR a')).toEqual(expect.objectContaining({ mesg: expect.stringContaining('ENOSPC') }));
    expect(await oneShot(port, 'GET a')).toEqual(Ok('1'));
    expect(await c.send('COMMIT')).toEqual(expect.objectContaining({ mesg: expect.stringContaining('still open') }));
    daemon!.cache.setWriteRefusal(null);
    expect(await c.send('COMMIT')).toEqual(Ok());
    expect(await oneShot(port, 'GET a')).toEqual(Ok('2'));
  });
});

describe('JSON-lines front: server rules', () => {
  it('obeys -c, -Y and the idle timeout', async () => {
    const dir = tempDir();
    const authFile = path.join(dir, 'auth');
    fs.writeFileSync(authFile, 'alice:secret\n');
    const { json: port } = await start({ maxConnections: 2, authFile, idleTimeout: 5 });
    const a = await client(port);
    expect(await a.send('GET x')).toEqual(expect.objectContaining({ mesg: expect.stringContaining('authentication required') }));
    expect(await a.send('AUTH alice wrong')).toEqual(Error_);
    expect(await a.send(json('AUTH', { username: 'alice', password: 'secret' }))).toEqual(OK());
    expect(await a.send('PUT x 1')).toEqual(Ok());
    const b = await client(port);
    await b.send('PING');
    const third = await JsonlClient.connect(port);
    await third.closed;
    expect(third.unasked.map((l) => JSON.parse(l))).toEqual([{ status: 'ERROR', message: 'too many open connections (-c)' }]);
    b.close();
    await b.closed;
    clock.advance(10);
    await a.closed;
  });
});

describe('JSON-lines front: COMMIT that cannot finish', () => {
  const MB = 1024 * 1024;

  it('puts back what a COMMIT changed when a store fails part way (-M, small -m), in the cache and in the journal', async () => {
    const dir = tempDir();
    const journalFile = path.join(dir, 'journal');
    const { json: port, text: tport } = await start({ memoryLimit: 2 * MB, noEvict: true, itemSizeMax: MB, journalFile, journalFsync: 'always' });
    const c = await client(port);
    const t = await text(tport);
    // small keys first (their slab class gets a page), then 400 KB values until -M refuses
    expect(await c.sendRaw('PUT a old-a\nPUT d old-d\nPUT e 7\n', 3)).toEqual([Ok(), Ok(), Ok()]);
    const big = (i: number) => String.fromCharCode(97 + i).repeat(400 * 1000);
    let full = -1;
    for (let i = 0; i < 10 && full < 0; i++) {
      const r = await c.send(`PUT big${i} ${big(i)}`);
      if (r.status !== 'Ok') {
        expect(r.mesg).toMatch(/out of memory/);
        full = i;
      }
    }
    expect(full).toBeGreaterThan(0);
    // a COMMIT whose last write cannot be stored: every earlier write of it is undone
    const r = await c.sendRaw(`START\nPUT a new-a\nDEL d\nPUT b new-b\nINCR e\nSTART\nPUT big0 ${big(9)}\nPUT c ${big(8)}\nCOMMIT\nCOMMIT\n`, 10);
    expect(r.slice(0, 9).every((x) => x.status === 'Ok')).toBe(true);
    expect(r[9]).toEqual(expect.objectContaining({ status: 'Error', mesg: expect.stringMatching(/out of memory.*nothing was applied/) }));
    expect(c.unasked).toEqual([]);
    const expected: Record<string, string | null> = { a: 'old-a', b: null, c: null, d: 'old-d', e: '7', big0: big(0) };
    for (let i = 1; i < full; i++) expected[`big${i}`] = big(i);
    for (const [k, v] of Object.entries(expected)) expect(await c.send(`GET ${k}`), k).toEqual(Ok(v));
    expect(await t.call('get a d e\r\n')).toBe('VALUE a 0 5\r\nold-a\r\nVALUE d 0 5\r\nold-d\r\nVALUE e 0 1\r\n7\r\nEND\r\n');
    expect(await c.send('START')).toEqual(Ok()); // the failed transaction is gone: a new one starts
    expect(await c.send('ROLLBACK')).toEqual(Ok());
    for (const x of open.splice(0)) x.close();
    await daemon!.stop('test');
    daemon = null;
    // the journal written meanwhile replays to the same state (the batch with its undo)
    const cache = newCache(new ManualClock(), 8);
    const o = openJournal(cache, journalFile, { log: captureLog(), fs: realJournalFs, useCas: true, itemSizeMax: MB });
    o.file.close();
    expect(o.result.movedAside).toEqual([]);
    expect(o.result.droppedBytes).toBe(0);
    for (const [k, v] of Object.entries(expected)) expect(peek(cache, k)?.value.toString() ?? null, `${k} replayed`).toBe(v);
  });
});

describe('JSON-lines front: conflicts with CAS off (-C)', () => {
  it('compares contents: a write through the memcached text port fails the outermost COMMIT', async () => {
    const { json: port, text: tport } = await start({ useCas: false });
    const a = await client(port);
    const t = await text(tport);
    expect(await t.call('set r 0 0 1\r\n1\r\n')).toBe('STORED\r\n');
    // a key read at an inner level (rolled back) and changed through the text port
    expect(await a.sendRaw('START\nPUT w 1\nSTART\nGET r\nROLLBACK\n', 5)).toEqual([Ok(), Ok(), Ok(), Ok('1'), Ok()]);
    expect(await t.call('set r 0 0 1\r\n2\r\n')).toBe('STORED\r\n');
    expect(await a.send('COMMIT')).toEqual(expect.objectContaining({ status: 'Error', mesg: expect.stringContaining('conflict') }));
    expect(await a.send('GET w')).toEqual(Ok(null));
    // only the flags changed (same bytes): still a change
    await a.sendRaw('START\nGET r\nPUT w 1\n', 3);
    expect(await t.call('set r 5 0 1\r\n2\r\n')).toBe('STORED\r\n');
    expect(await a.send('COMMIT')).toEqual(expect.objectContaining({ mesg: expect.stringContaining('conflict') }));
    // a written key appended to; a written key deleted; a key absent when read and added
    for (const [setup, change] of [
      ['PUT x 1', 'append x 0 0 1\r\n2\r\n'],
      ['PUT y 1', 'delete y\r\n'],
      ['', 'add z 0 0 1\r\n3\r\n'],
    ] as const) {
      if (setup !== '') await a.send(setup);
      const key = setup === '' ? 'z' : setup[4]!;
      await a.sendRaw(`START\nSTART\nINCR ${key}\nCOMMIT\n`, 4);
      expect(await t.call(change)).toMatch(/^(STORED|DELETED)\r\n$/);
      expect(await a.send('COMMIT'), change).toEqual(expect.objectContaining({ mesg: expect.stringContaining('conflict') }));
    }
    expect(await t.call('get x y z w\r\n')).toBe('VALUE x 0 2\r\n12\r\nVALUE z 0 1\r\n3\r\nEND\r\n');
    // a rewrite with the same contents is no change with -C; untouched keys do not matter
    await a.sendRaw('START\nINCR r\n', 2);
    expect(await t.call('set r 5 0 1\r\n2\r\nset other 0 0 1\r\n1\r\n')).toBe('STORED\r\nSTORED\r\n');
    expect(await a.send('COMMIT')).toEqual(Ok());
    expect(await t.call('get r\r\n')).toBe('VALUE r 5 1\r\n3\r\nEND\r\n');
    expect(await t.call('stats\r\n')).toMatch(/STAT jsonl_tx_committed 1\r\n[^]*STAT jsonl_tx_conflicts 5\r\n/);
  });
});
