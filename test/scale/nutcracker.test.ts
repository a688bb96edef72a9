// Three memcached-ts processes behind twemproxy (Debian's nutcracker) on loopback, each with
// its own snapshot, two of them with a journal too: keys spread over all three; a daemon
// killed with kill -9 is ejected and the other two go on serving (its keys miss, then store
// on a survivor); restarted on its port it reloads its share from its own files (journal,
// snapshot written at SIGTERM, or last periodic snapshot), and once the proxy tries it again
// its keys read back through the proxy.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon, currItems, getMany, setMany, stats, textCall, waitFor } from './cluster.js';
import { spawnSync } from 'node:child_process';
import { CONTRIB_CONFIG, NUTCRACKER_BIN, Nutcracker, nutcrackerAvailable } from './nutcracker.js';

const SUITE = 'test/scale/nutcracker.test.ts (memcached-ts behind nutcracker)';
const KEYS = Array.from({ length: 600 }, (_, i) => `user:${i}`);
const valueOf = (key: string): string => `v-${key}`;
/** nutcracker tries an ejected server again after this long. */
const RETRY_MS = 1500;

describe.skipIf(!nutcrackerAvailable(SUITE))('three daemons behind nutcracker', () => {
  let dir: string;
  let daemons: Daemon[];
  let proxy: Nutcracker;
  /** key -> index of the daemon holding it, from asking each daemon directly. */
  const owner = new Map<string, number>();

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcts-scale-'));
    // d0 and d1 journal every write (fsync always); d2 has no journal, only a snapshot a second
    daemons = [new Daemon(dir, 'd0'), new Daemon(dir, 'd1'), new Daemon(dir, 'd2', { journal: false, snapshotIntervalS: 1 })];
    await Promise.all(daemons.map((d) => d.start()));
    proxy = await Nutcracker.start({
      servers: daemons.map((d) => `127.0.0.1:${d.port}`),
      // generous: a loaded machine must not get a live daemon ejected; a dead one refuses at once
      timeoutMs: 5000,
      retryMs: RETRY_MS,
      failureLimit: 1,
    });
  }, 60_000);

  /** Send requests for `key` (owned by the daemon at `addr`) until the proxy has ejected that daemon. */
  async function ejected(addr: string, key: string, ejectsBefore: number): Promise<void> {
    await waitFor(`the proxy to eject ${addr}`, 15_000, async () => {
      await textCall(proxy.port, `get ${key}\r\n`, (r) => r.endsWith('\r\n'));
      const s = await proxy.stats();
      return s.server_ejects > ejectsBefore && s.servers.get(addr)!.server_ejected_at > 0 ? true : undefined;
    });
  }

  /** For a failure message: each daemon's address and key count, the proxy's stats and log. */
  async function poolReport(counts: readonly number[]): Promise<string> {
    const raw = await proxy.rawStats().catch((e: unknown) => `(no stats: ${String(e)})`);
    const held = daemons.map((d, i) => `127.0.0.1:${d.port} ${counts[i]}`).join(', ');
    return `keys per daemon: ${held}\nnutcracker stats: ${raw}\nnutcracker log:\n${proxy.log()}`;
  }

  afterAll(async () => {
    await proxy?.stop();
    await Promise.all((daemons ?? []).map((d) => d.stop()));
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('contrib/nutcracker.yml (the README\'s config, run here with other ports and timings) is valid', () => {
    const check = spawnSync(NUTCRACKER_BIN!, ['-t', '-c', CONTRIB_CONFIG], { encoding: 'utf8' });
    expect(check.stderr).toContain('syntax is ok');
    expect(check.status).toBe(0);
  });

  it('spreads keys set through the proxy over all three daemons, each key on exactly one', async () => {
    const replies = await setMany(proxy.port, KEYS.map((k) => [k, valueOf(k)]));
    expect(new Set(replies)).toEqual(new Set(['STORED']));

    const counts = await Promise.all(daemons.map((d) => currItems(d.port)));
    // An even spread gives each a third. The keys differ only in their last digits, as real
    // keys often do; with a weak hash (nutcracker's 32-bit fnv1a_64) they bunch up on the
    // ring, and which daemon gets a bunch depends on the ports picked: in about one run in
    // ten one daemon got none, in two of five under a sixth. contrib's hash must not do that.
    const report = await poolReport(counts);
    for (const n of counts) expect(n, report).toBeGreaterThanOrEqual(KEYS.length / 6);
    expect(counts.reduce((a, b) => a + b, 0), report).toBe(KEYS.length);

    const held = await Promise.all(daemons.map((d) => getMany(d.port, KEYS)));
    for (const key of KEYS) {
      const on = held.flatMap((m, i) => (m.has(key) ? [i] : []));
      expect(on, key).toHaveLength(1);
      expect(held[on[0]!]!.get(key)).toBe(valueOf(key));
      owner.set(key, on[0]!);
    }
    held.forEach((m, i) => expect(m.size).toBe(counts[i]));

    const back = await getMany(proxy.port, KEYS);
    expect(back.size).toBe(KEYS.length);
    for (const key of KEYS) expect(back.get(key)).toBe(valueOf(key));
  }, 60_000);

  it('ejects a daemon killed with kill -9; the others keep serving and its keys store on them', async () => {
    const victim = 0;
    const victimAddr = `127.0.0.1:${daemons[victim]!.port}`;
    const victimKeys = KEYS.filter((k) => owner.get(k) === victim);
    const otherKeys = KEYS.filter((k) => owner.get(k) !== victim);
    expect(victimKeys.length).toBeGreaterThan(0);
    await daemons[victim]!.kill9();

    // the proxy notices on the first request routed to the dead daemon, and ejects it
    await ejected(victimAddr, victimKeys[0]!, 0);

    // keys of the survivors never move on a ketama ring: every one reads back, no errors
    const back = await getMany(proxy.port, otherKeys);
    expect(back.size).toBe(otherKeys.length);
    for (const key of otherKeys) expect(back.get(key)).toBe(valueOf(key));

    // the dead daemon's keys: a miss (or, while the proxy tries the dead server again after
    // server_retry_timeout, a SERVER_ERROR), then a set stores them on a survivor
    const sample = victimKeys.slice(0, 20);
    for (const key of sample) {
      const moved = `moved-${key}`;
      await waitFor(`${key} to store on a survivor`, 15_000, async () => {
        const got = await textCall(proxy.port, `get ${key}\r\n`, (r) => /(END|SERVER_ERROR[^\r]*)\r\n$/.test(r));
        if (got.startsWith('SERVER_ERROR')) return undefined;
        expect(got === 'END\r\n' || got.includes(moved)).toBe(true); // never the old value
        const [stored] = await setMany(proxy.port, [[key, moved]]);
        if (stored !== 'STORED') return undefined;
        const again = await textCall(proxy.port, `get ${key}\r\n`, (r) => /(END|SERVER_ERROR[^\r]*)\r\n$/.test(r));
        return again.includes(`\r\n${moved}\r\n`) ? true : undefined;
      });
    }
    const onSurvivors = await Promise.all(daemons.filter((_, i) => i !== victim).map((d) => getMany(d.port, sample)));
    for (const key of sample) {
      expect(onSurvivors.filter((m) => m.get(key) === `moved-${key}`), key).toHaveLength(1);
    }
  }, 90_000);

  it('a restarted daemon reloads its share from its own files, and the proxy routes its keys to it again', async () => {
    const victim = 0;
    const d = daemons[victim]!;
    const victimKeys = KEYS.filter((k) => owner.get(k) === victim);
    const port = d.port;
    await d.start();
    expect(d.port).toBe(port);

    // directly: everything it acknowledged before the kill is back (journal with fsync always)
    expect(await currItems(d.port)).toBe(victimKeys.length);
    const held = await getMany(d.port, victimKeys);
    for (const key of victimKeys) expect(held.get(key)).toBe(valueOf(key));

    // through the proxy, once it has tried the server again (server_retry_timeout)
    await waitFor('the proxy to route to the restarted daemon', 10 * RETRY_MS + 10_000, async () => {
      const got = await textCall(proxy.port, `get ${victimKeys[0]}\r\n`, (r) => /(END|SERVER_ERROR[^\r]*)\r\n$/.test(r));
      return got.includes(`\r\n${valueOf(victimKeys[0]!)}\r\n`) ? true : undefined;
    });
    // Every key of its share is served from it again, with the value it had before the kill:
    // the `moved-` values written to survivors during the outage are no longer seen (the usual
    // consequence of consistent hashing without replication; see the README).
    const back = await getMany(proxy.port, KEYS);
    expect(back.size).toBe(KEYS.length);
    for (const key of KEYS) expect(back.get(key)).toBe(valueOf(key));
    // and the proxy's own view agrees (its stats are aggregated every 100 ms)
    await waitFor('the proxy stats to show a connection to it', 5000, async () =>
      (await proxy.stats()).servers.get(`127.0.0.1:${port}`)!.server_connections > 0 ? true : undefined,
    );
  }, 90_000);

  it('a daemon stopped with SIGTERM saves its snapshot and reloads its share from it on restart', async () => {
    const which = 1;
    const d = daemons[which]!;
    const keys = KEYS.filter((k) => owner.get(k) === which);
    const addr = `127.0.0.1:${d.port}`;
    const ejectsBefore = (await proxy.stats()).server_ejects;
    const itemsBefore = await currItems(d.port); // its share, and keys moved to it in the outage above
    await d.stop();
    expect(fs.statSync(d.snapshotFile).size).toBeGreaterThan(keys.length * valueOf(keys[0]!).length);

    await ejected(addr, keys[0]!, ejectsBefore);
    await d.start();
    expect(await currItems(d.port)).toBe(itemsBefore);
    const held = await getMany(d.port, keys);
    for (const key of keys) expect(held.get(key)).toBe(valueOf(key));
    await waitFor('the proxy to route to the restarted daemon', 10 * RETRY_MS + 10_000, async () => {
      const back = await getMany(proxy.port, keys);
      return keys.every((k) => back.get(k) === valueOf(k)) ? true : undefined;
    });
  }, 90_000);

  it('a daemon without a journal killed with kill -9 comes back with its last periodic snapshot', async () => {
    const which = 2;
    const d = daemons[which]!;
    const keys = KEYS.filter((k) => owner.get(k) === which);
    const addr = `127.0.0.1:${d.port}`;
    const itemsBefore = await currItems(d.port);
    // nothing has been written to it for a while; two more completed saves mean at least one
    // snapshot started after the last write
    const saves = async (): Promise<number> => Number((await stats(d.port)).get('snapshot_saves'));
    const saves0 = await saves();
    await waitFor('two more periodic snapshots', 15_000, async () => ((await saves()) >= saves0 + 2 ? true : undefined));
    expect((await stats(d.port)).get('snapshot_last_items')).toBe(String(itemsBefore));

    const ejectsBefore = (await proxy.stats()).server_ejects;
    await d.kill9();
    await ejected(addr, keys[0]!, ejectsBefore);
    await d.start();
    expect(await currItems(d.port)).toBe(itemsBefore);
    expect((await stats(d.port)).get('snapshot_loaded_items')).toBe(String(itemsBefore));
    await waitFor('the proxy to route to the restarted daemon', 10 * RETRY_MS + 10_000, async () => {
      const back = await getMany(proxy.port, keys);
      return keys.every((k) => back.get(k) === valueOf(k)) ? true : undefined;
    });
  }, 90_000);
});
