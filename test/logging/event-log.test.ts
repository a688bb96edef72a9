// The event stream in memory: flags, line formats (logger.c's), gids, the per-watcher budget
// and the skipped report, the watcher limit. Sinks here are fakes whose backlog the test sets.
import { describe, expect, it } from 'vitest';
import { CONNEVENTS, EVICTIONS, FETCHERS, MUTATIONS, SYSEVENTS, watchFlags } from '../../src/logging/event-flags.js';
import { CloseReason, GetStatus, StoreStatus, uriEncode } from '../../src/logging/event-lines.js';
import { EventLog, WATCHER_LIMIT } from '../../src/logging/event-log.js';
import type { WatchSink } from '../../src/logging/watcher.js';

class FakeSink implements WatchSink {
  lines: string[] = [];
  backlog = 0;
  closed = false;
  /** Bytes written count against the backlog until drain() (a socket the kernel does not take). */
  stuck = false;
  write(line: string): void {
    this.lines.push(line);
    if (this.stuck) this.backlog += line.length;
  }
  drain(): void {
    this.backlog = 0;
  }
}

const key = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('watch arguments', () => {
  it('are memcached 1.6.18 words; none means fetchers; an unknown one is refused', () => {
    expect(watchFlags([])).toBe(FETCHERS);
    expect(watchFlags(['fetchers', 'mutations', 'evictions', 'connevents', 'sysevents'])).toBe(FETCHERS | MUTATIONS | EVICTIONS | CONNEVENTS | SYSEVENTS);
    expect(watchFlags(['rawcmds', 'proxyreqs', 'proxyevents', 'proxyuser'])).toBeGreaterThan(0);
    expect(watchFlags(['fetchers', 'deletions'])).toBe(-1);
    expect(watchFlags(['noreply'])).toBe(-1);
  });
});

describe('EventLog', () => {
  it('builds nothing while no watcher asked for the kind', () => {
    let clockReads = 0;
    const log = new EventLog({ now: () => (clockReads++, 1_700_000_000_000_001) });
    log.itemGet(GetStatus.Found, key('a'), 0, 1, 1, 3, 7);
    const sink = new FakeSink();
    log.addWatcher(sink, MUTATIONS);
    log.itemGet(GetStatus.Found, key('a'), 0, 1, 1, 3, 7);
    log.eviction(key('a'), 0, 1, false, -1, 0, 1, 3);
    expect(clockReads).toBe(0);
    expect(sink.lines).toEqual([]);
    expect(log.stats.written).toBe(0);
  });

  it("writes logger.c's lines with the ts=SEC.USEC gid=N head (usec not zero-padded, as %d)", () => {
    const log = new EventLog({ now: () => 1_700_000_000_000_042 });
    const sink = new FakeSink();
    log.addWatcher(sink, FETCHERS | MUTATIONS | EVICTIONS | CONNEVENTS | SYSEVENTS);
    log.itemGet(GetStatus.Found, key('foo'), 0, 3, 1, 3, 28);
    log.itemGet(GetStatus.Expired, key('x y'), 0, 3, 0, 0, 28);
    log.itemStore(StoreStatus.Stored, 2, key('foo'), 0, 3, 100, 1, 3, 28);
    log.itemStore(StoreStatus.Exists, 6, key('foo'), 0, 3, -1, 1, 3, 28);
    log.eviction(key('k0'), 0, 2, true, -1, 5, 12, 1000);
    const peer = { ip: '127.0.0.1', port: 4000, transport: 'tcp' as const };
    log.connNew(peer, 9);
    log.connClose(peer, CloseReason.IdleTimeout, 9);
    log.connClose({ ip: 'unix', port: 0, transport: 'local' }, CloseReason.Normal, 10);
    log.slabMove(3, 7);
    expect(sink.lines).toEqual([
      'ts=1700000000.42 gid=2 type=item_get key=foo status=found clsid=1 cfd=28 size=3\n',
      'ts=1700000000.42 gid=3 type=item_get key=x%20y status=expired clsid=0 cfd=28 size=0\n',
      'ts=1700000000.42 gid=4 type=item_store key=foo status=stored cmd=set ttl=100 clsid=1 cfd=28 size=3\n',
      'ts=1700000000.42 gid=5 type=item_store key=foo status=exists cmd=cas ttl=4294967295 clsid=1 cfd=28 size=3\n',
      'ts=1700000000.42 gid=6 type=eviction key=k0 fetch=yes ttl=-1 la=5 clsid=12 size=1000\n',
      'ts=1700000000.42 gid=7 type=conn_new rip=127.0.0.1 rport=4000 transport=tcp cfd=9\n',
      'ts=1700000000.42 gid=8 type=conn_close rip=127.0.0.1 rport=4000 transport=tcp reason=idle_timeout cfd=9\n',
      'ts=1700000000.42 gid=9 type=conn_close rip=unix rport=0 transport=local reason=normal cfd=10\n',
      'ts=1700000000.42 gid=10 type=slab_move src=3 dst=7\n',
    ]);
  });

  it('uri-encodes keys as memcached: alphanumerics and -._~ stay, the rest is %XX', () => {
    expect(uriEncode(key('aZ9-._~ %/\x01\xff'), 0, 12)).toBe('aZ9-._~%20%25%2F%01%FF');
  });

  it('sends each line only to the watchers of its kind', () => {
    const log = new EventLog({ now: () => 1 });
    const fetch = new FakeSink();
    const mutate = new FakeSink();
    log.addWatcher(fetch, FETCHERS);
    log.addWatcher(mutate, MUTATIONS);
    log.itemGet(GetStatus.NotFound, key('a'), 0, 1, 0, 0, 1);
    log.itemStore(StoreStatus.Stored, 2, key('a'), 0, 1, 0, 1, 1, 1);
    expect(fetch.lines.map((l) => /type=(\w+)/.exec(l)![1])).toEqual(['item_get']);
    expect(mutate.lines.map((l) => /type=(\w+)/.exec(l)![1])).toEqual(['item_store']);
    log.removeWatcher(fetch);
    expect(log.flags).toBe(MUTATIONS);
    log.removeWatcher(mutate);
    expect(log.flags).toBe(0);
  });

  it('drops lines a watcher has no room for, never queues past its budget, then reports skipped=N once', () => {
    const budget = 4096;
    const log = new EventLog({ now: () => 1, budget });
    const slow = new FakeSink();
    slow.stuck = true;
    const fast = new FakeSink();
    log.addWatcher(slow, FETCHERS);
    log.addWatcher(fast, FETCHERS);
    for (let i = 0; i < 1000; i++) log.itemGet(GetStatus.Found, key(`key${i}`), 0, `key${i}`.length, 1, 3, 5);
    expect(slow.backlog).toBeLessThanOrEqual(budget);
    const sentSlow = slow.lines.length;
    expect(sentSlow).toBeGreaterThan(10);
    expect(sentSlow).toBeLessThan(1000);
    // the other watcher got every line
    expect(fast.lines.length).toBe(1000);
    expect(log.stats.skipped).toBe(1000 - sentSlow);
    expect(log.stats.sent).toBe(1000 + sentSlow);
    slow.drain();
    log.itemGet(GetStatus.Found, key('after'), 0, 5, 1, 3, 5);
    expect(slow.lines.slice(sentSlow)).toEqual([`skipped=${1000 - sentSlow}\n`, expect.stringContaining('key=after ')]);
    log.itemGet(GetStatus.Found, key('next'), 0, 4, 1, 3, 5);
    expect(slow.lines.at(-1)).toContain('key=next ');
    expect(slow.lines.filter((l) => l.startsWith('skipped=')).length).toBe(1);
  });

  it(`takes at most ${WATCHER_LIMIT} watchers`, () => {
    const log = new EventLog();
    for (let i = 0; i < WATCHER_LIMIT; i++) expect(log.addWatcher(new FakeSink(), FETCHERS)).toBe(true);
    expect(log.addWatcher(new FakeSink(), FETCHERS)).toBe(false);
    expect(log.watchers).toBe(WATCHER_LIMIT);
  });
});
