// The segmented LRU seen from outside, next to real memcached 1.6.18: the same sequence over
// sockets to both daemons, then `stats items` must have the same fields in the same order and
// both LRUs must reach the same state: the sets leave HOT for COLD, a key read twice moves to
// WARM, and `stats cachedump` lists the COLD keys in the same order. memcached's maintainer is a
// thread that works when it likes, so each state is polled for (never a fixed sleep).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../support/port-file-server.js';
import { startDaemonProcess } from '../support/daemon-process.js';
import { referenceAvailable, startReferenceServer } from '../support/reference-server.js';
import { request } from '../support/raw-client.js';

const RUN = referenceAvailable('segmented LRU vs memcached');
const endsWith = (s: string) => (t: string) => t.endsWith(s);

async function statsItems(port: number): Promise<Array<[string, string]>> {
  const text = await request(port, 'stats items\r\n', endsWith('END\r\n'));
  return [...text.matchAll(/^STAT (\S+) (\S+)\r$/gm)].map((m) => [m[1]!, m[2]!]);
}
async function itemsOf(port: number): Promise<Map<string, number>> {
  return new Map((await statsItems(port)).map(([k, v]) => [k.replace(/^items:1:/, ''), Number(v)]));
}
/** Polls `stats items` of class 1 until `ok` holds (memcached's maintainer runs when it likes). */
async function reach(port: number, ok: (s: Map<string, number>) => boolean, what: string): Promise<Map<string, number>> {
  const end = Date.now() + 10_000;
  for (;;) {
    const s = await itemsOf(port);
    if (ok(s)) return s;
    if (Date.now() > end) throw new Error(`${what}: not reached; last stats items: ${JSON.stringify([...s])}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const cachedumpKeys = async (port: number): Promise<string[]> =>
  [...(await request(port, 'stats cachedump 1 0\r\n', endsWith('END\r\n'))).matchAll(/^ITEM (\S+) /gm)].map((m) => m[1]!);

describe.skipIf(!RUN)('segmented LRU: memcached-ts next to memcached 1.6.18', () => {
  let ref: RunningServer;
  let ours: RunningServer;
  beforeAll(async () => {
    [ref, ours] = await Promise.all([startReferenceServer(['-m', '64']), startDaemonProcess(['-m', '64'])]);
  }, 30_000);
  afterAll(async () => {
    await Promise.all([ref?.stop(), ours?.stop()]);
  });

  it('stats items fields, HOT -> COLD, a double read -> WARM, cachedump of COLD', async () => {
    let sets = '';
    for (let i = 0; i < 10; i++) sets += `set lk${i} 0 0 1\r\nx\r\n`;
    for (const s of [ref, ours]) await request(s.port, sets, (t) => t.split('STORED\r\n').length === 11);

    const names = async (port: number) => (await statsItems(port)).map(([k]) => k);
    expect(await names(ours.port)).toEqual(await names(ref.port));

    // HOT drains into COLD: first past its share, then (a second on) by age
    const drained = (s: Map<string, number>) => s.get('number') === 10 && s.get('number_hot') === 0 && s.get('number_cold') === 10;
    const [r1, o1] = await Promise.all([reach(ref.port, drained, 'memcached'), reach(ours.port, drained, 'memcached-ts')]);
    expect(o1.get('moves_to_cold')).toBe(r1.get('moves_to_cold'));
    expect(await cachedumpKeys(ours.port)).toEqual(await cachedumpKeys(ref.port));

    // lk0 read twice: ACTIVE in COLD, moved to WARM by the maintainer
    for (const s of [ref, ours]) await request(s.port, 'get lk0\r\nget lk0\r\n', (t) => t.split('END\r\n').length === 3);
    const warmed = (s: Map<string, number>) => s.get('number_warm') === 1 && s.get('number_cold') === 9;
    const [r2, o2] = await Promise.all([reach(ref.port, warmed, 'memcached'), reach(ours.port, warmed, 'memcached-ts')]);
    for (const f of ['moves_to_warm', 'hits_to_cold', 'hits_to_warm', 'hits_to_hot', 'evicted']) expect(o2.get(f), f).toBe(r2.get(f));
    const coldKeys = await cachedumpKeys(ours.port);
    expect(coldKeys).not.toContain('lk0');
    expect(coldKeys).toEqual(await cachedumpKeys(ref.port));
  }, 60_000);
});
