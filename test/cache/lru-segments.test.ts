// The segmented LRU (HOT, WARM, COLD per slab class) and its maintainer, against memcached
// 1.6's rules (items.c): new items in HOT; HOT's tail to COLD past its share or age, or to WARM
// when read twice; COLD items read twice to WARM on the maintainer's next pass; WARM's inactive
// tail back to COLD; evictions from COLD's tail. Time is a ManualClock; the maintainer is
// driven by hand (tick), as its timer would.
import { describe, expect, it } from 'vitest';
import { Outcome } from '../../src/cache/api.js';
import { Cache } from '../../src/cache/cache.js';
import { RestoreRecord } from '../../src/cache/restore.js';
import { ManualClock } from '../../src/cache/clock.js';
import { IF_ACTIVE, IF_FETCHED, NONE } from '../../src/cache/item.js';
import { COLD, HOT, lruOf, LruTuning, segmentOf, WARM } from '../../src/cache/lru-segment.js';
import { itemsStats } from '../../src/protocol/stats-report.js';
import { storeValue } from '../support/cache-ops.js';
import { cacheOptions as opts } from '../helpers/fakes.js';
import { textHarness } from '../helpers/text-harness.js';

const MB = 1024 * 1024;

function setup(o: { memoryLimit?: number; lru?: LruTuning } = {}): { c: Cache; clock: ManualClock } {
  const clock = new ManualClock();
  return { c: new Cache(opts(o), clock), clock };
}
const key = (i: number): string => `k${String(i).padStart(6, '0')}`;
const idOf = (c: Cache, k: string): number => c.find(Buffer.from(k), 0, k.length);
const segOf = (c: Cache, k: string): number => segmentOf(c.itemIflags(idOf(c, k)));
const read = (c: Cache, k: string): boolean => c.get(Buffer.from(k), 0, k.length) !== NONE;
/** Items of 100-byte values under 7-byte keys: all in one class. */
function fill(c: Cache, from: number, to: number): void {
  for (let i = from; i < to; i++) expect(storeValue(c, key(i), 'x'.repeat(100))).toBe(Outcome.Stored);
}
const cls = (c: Cache): number => c.itemClass(idOf(c, key(0)));
const sizes = (c: Cache, k: number): number[] => [HOT, WARM, COLD].map((s) => c.lru.size[lruOf(k, s)]!);

describe('segmented LRU', () => {
  it('links new items at the head of HOT; the maintainer moves HOT past its 20% share to COLD, oldest first', () => {
    const { c } = setup();
    fill(c, 0, 100);
    const k = cls(c);
    expect(sizes(c, k)).toEqual([100, 0, 0]);
    expect(c.lru.head[lruOf(k, HOT)]).toBe(idOf(c, key(99)));
    c.maintainer.tick();
    // HOT keeps floor(100 * 20%) items: the newest
    expect(sizes(c, k)).toEqual([20, 0, 80]);
    expect(segOf(c, key(79))).toBe(COLD);
    expect(segOf(c, key(80))).toBe(HOT);
    expect(c.lru.tail[lruOf(k, COLD)]).toBe(idOf(c, key(0)));
    expect(c.stats.moves_to_cold).toBe(80);
    expect(c.classStats[k]!.moves_to_cold).toBe(80);
  });

  it('HOT also drains by age: items older than hot_max_factor times the COLD tail age move on', () => {
    const { c, clock } = setup();
    fill(c, 0, 10);
    c.maintainer.tick();
    expect(sizes(c, cls(c))).toEqual([2, 0, 8]);
    clock.advance(10);
    fill(c, 10, 12);
    // COLD tail is 10 s old: HOT may hold items up to 2 s old; the two from before are 10 s old
    c.maintainer.tick();
    expect(segOf(c, key(8))).toBe(COLD);
    expect(segOf(c, key(9))).toBe(COLD);
    expect(segOf(c, key(10))).toBe(HOT);
    expect(segOf(c, key(11))).toBe(HOT);
  });

  it('a read sets FETCHED, a second ACTIVE; neither moves the item between lists', () => {
    const { c } = setup();
    fill(c, 0, 10);
    c.maintainer.tick();
    const id = idOf(c, key(0));
    expect(segOf(c, key(0))).toBe(COLD);
    expect(read(c, key(0))).toBe(true);
    expect(c.itemIflags(id) & (IF_FETCHED | IF_ACTIVE)).toBe(IF_FETCHED);
    expect(read(c, key(0))).toBe(true);
    expect(c.itemIflags(id) & (IF_FETCHED | IF_ACTIVE)).toBe(IF_FETCHED | IF_ACTIVE);
    // queued for the maintainer, still COLD
    expect(segOf(c, key(0))).toBe(COLD);
    expect(c.stats.moves_to_warm).toBe(0);
  });

  it('moves a COLD item read twice to WARM on the next maintainer pass (moves_to_warm), clearing ACTIVE', () => {
    const { c, clock } = setup();
    fill(c, 0, 10);
    c.maintainer.tick();
    clock.advance(5);
    read(c, key(0));
    read(c, key(0));
    c.maintainer.tick();
    const k = cls(c);
    expect(segOf(c, key(0))).toBe(WARM);
    expect(c.itemIflags(idOf(c, key(0))) & IF_ACTIVE).toBe(0);
    expect(c.itemTime(idOf(c, key(0)))).toBe(clock.now());
    expect(c.stats.moves_to_warm).toBe(1);
    expect(c.classStats[k]!.moves_to_warm).toBe(1);
    expect(c.lruHits[lruOf(k, COLD)]).toBe(2);
  });

  it('a HOT item read twice goes to WARM when it reaches HOT tail', () => {
    const { c } = setup();
    fill(c, 0, 10);
    read(c, key(0));
    read(c, key(0));
    expect(c.lruHits[lruOf(cls(c), HOT)]).toBe(2);
    c.maintainer.tick();
    expect(segOf(c, key(0))).toBe(WARM);
    expect(segOf(c, key(1))).toBe(COLD);
  });

  it("WARM's tail: an ACTIVE item is bumped within WARM (moves_within_lru), an inactive one past the share goes to COLD", () => {
    const { c } = setup();
    fill(c, 0, 10);
    c.maintainer.tick();
    // five COLD items to WARM: 5 of 10 is past WARM's 40% share
    for (let i = 0; i < 5; i++) {
      read(c, key(i));
      read(c, key(i));
    }
    // drain the queue only: no juggling yet
    c.links.drainBumps();
    const k = cls(c);
    expect(c.lru.size[lruOf(k, WARM)]).toBe(5);
    expect(c.lru.tail[lruOf(k, WARM)]).toBe(idOf(c, key(0)));
    // key0 read again: ACTIVE in WARM
    read(c, key(0));
    expect(c.itemIflags(idOf(c, key(0))) & IF_ACTIVE).toBe(IF_ACTIVE);
    c.maintainer.tick();
    expect(c.stats.moves_within_lru).toBe(1);
    expect(segOf(c, key(0))).toBe(WARM);
    expect(c.itemIflags(idOf(c, key(0))) & IF_ACTIVE).toBe(0);
    // WARM keeps floor(10 * 40%) = 4: key1, the tail after key0's bump, went to COLD
    expect(c.lru.size[lruOf(k, WARM)]).toBe(4);
    expect(segOf(c, key(1))).toBe(COLD);
  });

  it('evicts from the COLD tail: items read twice survive a scan many times the cache size', () => {
    const { c } = setup({ memoryLimit: MB });
    fill(c, 0, 100);
    c.maintainer.tick();
    for (let i = 0; i < 20; i++) {
      read(c, key(i));
      read(c, key(i));
    }
    c.maintainer.tick();
    // a scan: 40,000 items never read, in a 1 MB cache (about 5,400 fit)
    for (let i = 1000; i < 41_000; i++) {
      expect(storeValue(c, key(i), 'x'.repeat(100))).toBe(Outcome.Stored);
      if (i % 5000 === 0) c.maintainer.tick();
    }
    expect(c.stats.evictions).toBeGreaterThan(30_000);
    for (let i = 0; i < 20; i++) expect(read(c, key(i)), key(i)).toBe(true);
    for (let i = 20; i < 100; i++) expect(read(c, key(i)), key(i)).toBe(false);
    expect(c.stats.evicted_active).toBe(0);
  });

  it('flat (-o no_lru_maintainer): everything on COLD, a read only marks, the tail gives read items a second chance', () => {
    const tuning = new LruTuning();
    tuning.maintainer = false;
    tuning.segmented = false;
    const { c } = setup({ memoryLimit: 2 * MB, lru: tuning });
    fill(c, 0, 100);
    const k = cls(c);
    expect(sizes(c, k)).toEqual([0, 0, 100]);
    read(c, key(0));
    expect(c.itemIflags(idOf(c, key(0))) & IF_ACTIVE).toBe(IF_ACTIVE);
    // about 13,800 fit (152-byte chunks): key0 reaches the tail once, and goes back to the
    // head instead of out
    for (let i = 1000; i < 20_000; i++) storeValue(c, key(i), 'x'.repeat(100));
    expect(c.stats.evictions).toBeGreaterThan(5000);
    expect(read(c, key(0))).toBe(true);
    expect(read(c, key(1))).toBe(false);
    expect(sizes(c, k)[0]! + sizes(c, k)[1]!).toBe(0);
    expect(c.stats.moves_to_cold + c.stats.moves_to_warm).toBe(0);
  });

  it('lru mode flat drains HOT and WARM into COLD', () => {
    const h = textHarness();
    let s = '';
    for (let i = 0; i < 10; i++) s += `set ${key(i)} 0 0 1\r\nx\r\n`;
    h.send(s);
    h.send(`get ${key(0)}\r\nget ${key(0)}\r\n`);
    expect(h.send('lru mode flat\r\n')).toBe('OK\r\n');
    h.cache.maintainer.tick();
    expect(sizes(h.cache, 1)).toEqual([0, 0, 10]);
  });

  it('stats items: memcached\'s fields, with the lists\' counts, ages and moves', () => {
    const { c, clock } = setup();
    fill(c, 0, 10);
    c.maintainer.tick();
    clock.advance(7);
    read(c, key(9));
    read(c, key(0));
    read(c, key(0));
    c.maintainer.tick();
    const k = cls(c);
    const lines = itemsStats(c);
    expect(lines.map(([n]) => n.replace(`items:${k}:`, ''))).toEqual([
      'number', 'number_hot', 'number_warm', 'number_cold', 'age_hot', 'age_warm', 'age', 'mem_requested',
      'evicted', 'evicted_nonzero', 'evicted_time', 'outofmemory', 'tailrepairs', 'reclaimed', 'expired_unfetched',
      'evicted_unfetched', 'evicted_active', 'crawler_reclaimed', 'crawler_items_checked', 'lrutail_reflocked',
      'moves_to_cold', 'moves_to_warm', 'moves_within_lru', 'direct_reclaims', 'hits_to_hot', 'hits_to_warm',
      'hits_to_cold', 'hits_to_temp',
    ]);
    const v = new Map(lines.map(([n, x]) => [n.replace(`items:${k}:`, ''), x]));
    // the first tick made HOT 2 (key8, key9) and COLD 8; 7 s later COLD's tail is 7 s old, so
    // HOT may hold items up to 1 s old: key8 and key9 go to COLD, key0 to WARM
    expect([v.get('number'), v.get('number_hot'), v.get('number_warm'), v.get('number_cold')]).toEqual(['10', '0', '1', '9']);
    expect(v.get('age_warm')).toBe('0');
    expect(v.get('age')).toBe('7');
    expect(v.get('moves_to_cold')).toBe('10');
    expect(v.get('moves_to_warm')).toBe('1');
    expect([v.get('hits_to_hot'), v.get('hits_to_cold')]).toEqual(['1', '2']);
  });

  it('stats cachedump lists COLD only, head first', () => {
    const h = textHarness();
    let s = '';
    for (let i = 0; i < 10; i++) s += `set ${key(i)} 0 0 1\r\nx\r\n`;
    h.send(s);
    expect(h.send('stats cachedump 1 0\r\n')).toBe('END\r\n');
    h.cache.maintainer.tick();
    let want = '';
    for (let i = 7; i >= 0; i--) want += `ITEM ${key(i)} [1 b; 0 s]\r\n`;
    expect(h.send('stats cachedump 1 0\r\n')).toBe(`${want}END\r\n`);
    // the metadump lists every list: HOT, WARM, then COLD
    expect(h.send('lru_crawler metadump 1\r\n').split('\n').filter((l) => l.startsWith('key=')).length).toBe(10);
  });

  it('a restore puts an item back on the segment it was saved on (flat: COLD)', () => {
    const { c } = setup();
    fill(c, 0, 10);
    c.maintainer.tick();
    read(c, key(0));
    read(c, key(0));
    c.maintainer.tick();
    const saved = [0, 5, 9].map((i) => ({ k: key(i), iflags: c.itemIflags(idOf(c, key(i))) }));
    expect(saved.map((x) => segmentOf(x.iflags))).toEqual([WARM, COLD, HOT]);
    for (const flat of [false, true]) {
      const tuning = new LruTuning();
      tuning.segmented = !flat;
      const { c: d } = setup({ lru: tuning });
      for (const x of saved) {
        const rec = new RestoreRecord();
        rec.key = Buffer.from(x.k);
        rec.kLen = x.k.length;
        rec.value = Buffer.from('x');
        rec.vLen = 1;
        rec.iflags = x.iflags;
        expect(d.restorer.restore(rec)).toBe(Outcome.Stored);
      }
      expect(saved.map((x) => segOf(d, x.k))).toEqual(flat ? [COLD, COLD, COLD] : [WARM, COLD, HOT]);
    }
  });
});
