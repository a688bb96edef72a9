// Client-side hashing: memjs 1.3.2 given three memcached-ts processes
// ("127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3") places each key on the server its getServer()
// picks (hashCode(key) % 3), with no proxy in between. A daemon killed with kill -9: its keys
// fail (or, with memjs's failover option, go to the next server in the list) while the others
// serve; restarted on its port it reloads its share from its own journal. memjs never calls
// back when a server closes mid-request, so every call here has a deadline on the test side.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import memjs from 'memjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon, currItems, getMany } from './cluster.js';

const quiet = { log: () => {} };
const KEYS = Array.from({ length: 300 }, (_, i) => `session:${i}`);
const valueOf = (key: string): string => `v-${key}`;

/** `p`, or a rejection after `ms` (memjs can leave a promise pending forever). */
function within<T>(p: Promise<T>, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`memjs: no answer in ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e as Error);
      },
    );
  });
}

describe('memjs hashing keys over three daemons', () => {
  let dir: string;
  let daemons: Daemon[];
  let servers: string;
  const clients: memjs.Client[] = [];
  const client = (options: memjs.ClientOptions & memjs.ServerOptions = {}): memjs.Client => {
    const c = memjs.Client.create(servers, { logger: quiet, timeout: 1, retries: 1, ...options });
    clients.push(c);
    return c;
  };
  /** The index memjs picks for `key` (its typings say string; it is the number of a server). */
  const pick = (c: memjs.Client, key: string): number => Number(c.getServer(key));

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcts-memjs-multi-'));
    daemons = [0, 1, 2].map((i) => new Daemon(dir, `d${i}`));
    await Promise.all(daemons.map((d) => d.start()));
    servers = daemons.map((d) => `127.0.0.1:${d.port}`).join(',');
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all((daemons ?? []).map((d) => d.stop()));
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores each key on the one daemon memjs picks for it, and reads every value back', async () => {
    const c = client();
    for (const key of KEYS) expect(await within(c.set(key, valueOf(key))), key).toBe(true);

    const counts = await Promise.all(daemons.map((d) => currItems(d.port)));
    for (const n of counts) expect(n).toBeGreaterThan(0);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(KEYS.length);
    const held = await Promise.all(daemons.map((d) => getMany(d.port, KEYS)));
    for (const key of KEYS) {
      const on = held.flatMap((m, i) => (m.has(key) ? [i] : []));
      expect(on, key).toEqual([pick(c, key)]);
    }

    const fresh = client();
    for (const key of KEYS) expect((await within(fresh.get(key))).value?.toString(), key).toBe(valueOf(key));
  }, 60_000);

  it('after kill -9 of one daemon the others serve; its keys fail, or fail over with failover: true', async () => {
    const dead = 2;
    const plain = client();
    const failover = client({ failover: true, failoverTime: 60 });
    await daemons[dead]!.kill9();

    const deadKeys = KEYS.filter((k) => pick(plain, k) === dead);
    const liveKeys = KEYS.filter((k) => pick(plain, k) !== dead);
    expect(deadKeys.length).toBeGreaterThan(0);
    for (const key of liveKeys) expect((await within(plain.get(key))).value?.toString(), key).toBe(valueOf(key));
    for (const key of deadKeys.slice(0, 5)) await expect(within(plain.get(key))).rejects.toThrow(/ECONNREFUSED/);

    // with failover memjs marks the server down for failoverTime and uses the next one in the list
    const next = (dead + 1) % daemons.length;
    const sample = deadKeys.slice(0, 20);
    for (const key of sample) {
      expect((await within(failover.get(key))).value).toBeNull();
      expect(await within(failover.set(key, `moved-${key}`))).toBe(true);
      expect((await within(failover.get(key))).value?.toString()).toBe(`moved-${key}`);
    }
    const onNext = await getMany(daemons[next]!.port, sample);
    for (const key of sample) expect(onNext.get(key), key).toBe(`moved-${key}`);
  }, 60_000);

  it('a restarted daemon reloads its share from its journal, and memjs reads it there again', async () => {
    const dead = 2;
    const d = daemons[dead]!;
    const port = d.port;
    await d.start();
    expect(d.port).toBe(port);
    const c = client();
    const share = KEYS.filter((k) => pick(c, k) === dead);
    expect(await currItems(d.port)).toBe(share.length);
    for (const key of share) expect((await within(c.get(key))).value?.toString(), key).toBe(valueOf(key));
  }, 60_000);
});
