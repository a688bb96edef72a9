// Fetch and mutation events for `watch`, from what a protocol knows after a command: the key,
// the item found or made, the outcome. Shared by text, meta and binary. Callers test
// `events.flags` (FETCHERS, MUTATIONS) first, so none of this runs without a watcher.
// memcached logs an item_get for every key lookup, stores and deletes included (do_item_get).
import { IF_FETCHED, Miss, NONE, OpStatus, Outcome, StoreMode, type CacheApi, type ItemId, type StoreRequest } from '../cache/api.js';
import { EVICTIONS } from '../logging/event-flags.js';
import { GetStatus, StoreStatus } from '../logging/event-lines.js';
import type { EventLog } from '../logging/event-log.js';

/** memcached's NREAD_* numbers, by StoreMode. */
const NREAD: Record<StoreMode, number> = {
  [StoreMode.Add]: 1,
  [StoreMode.Set]: 2,
  [StoreMode.Replace]: 3,
  [StoreMode.Append]: 4,
  [StoreMode.Prepend]: 5,
  [StoreMode.Cas]: 6,
};

const scratch = new OpStatus();

function missStatus(miss: Miss): GetStatus {
  return miss === Miss.Expired ? GetStatus.Expired : miss === Miss.Flushed ? GetStatus.Flushed : GetStatus.NotFound;
}

/** A get/gets/gat/mg result: `id` is the item returned, or NONE. */
export function fetched(ev: EventLog, cache: CacheApi, key: Uint8Array, off: number, len: number, id: ItemId, fd: number): void {
  if (id === NONE) ev.itemGet(missStatus(cache.lastMiss), key, off, len, 0, 0, fd);
  else ev.itemGet(GetStatus.Found, key, off, len, cache.itemClass(id), cache.itemValueLength(id), fd);
}

/**
 * The lookup a store, delete, incr/decr or touch makes before it changes anything: called
 * before the command, it looks the key up without counting it.
 */
export function lookedUp(ev: EventLog, cache: CacheApi, key: Uint8Array, off: number, len: number, fd: number): void {
  const id = cache.find(key, off, len, scratch);
  if (id === NONE) ev.itemGet(missStatus(scratch.miss), key, off, len, 0, 0, fd);
  else ev.itemGet(GetStatus.Found, key, off, len, cache.itemClass(id), cache.itemValueLength(id), fd);
}

/** A store's outcome; `st` is the status the store filled. */
export function stored(ev: EventLog, cache: CacheApi, r: StoreRequest, outcome: Outcome, st: OpStatus, fd: number): void {
  const now = cache.clock.now();
  const cmd = NREAD[r.mode];
  if (outcome === Outcome.TooLarge || outcome === Outcome.NoMemory) {
    // memcached logs these with no item: size and ttl 0
    const status = outcome === Outcome.TooLarge ? StoreStatus.TooLarge : StoreStatus.NoMemory;
    ev.itemStore(status, cmd, r.key, r.kOff, r.kLen, 0, 0, 0, fd);
    return;
  }
  if (outcome === Outcome.Stored && st.id !== NONE) {
    // the item made: an append's or prepend's holds both parts and keeps the old TTL
    const exp = cache.itemExptime(st.id);
    ev.itemStore(StoreStatus.Stored, cmd, r.key, r.kOff, r.kLen, exp === 0 ? 0 : exp - now, cache.itemClass(st.id), cache.itemValueLength(st.id), fd);
    return;
  }
  const status = outcome === Outcome.Exists ? StoreStatus.Exists : outcome === Outcome.NotFound ? StoreStatus.NotFound : outcome === Outcome.Stored ? StoreStatus.Stored : StoreStatus.NotStored;
  const exp = cache.absoluteExptime(r.exptime);
  ev.itemStore(status, cmd, r.key, r.kOff, r.kLen, exp === 0 ? 0 : exp - now, cache.classForItem(r.kLen, r.vLen, r.flags), r.vLen, fd);
}

/** The eviction observer the daemon gives the cache: one `type=eviction` line per item. */
export function evictionReporter(ev: EventLog, cache: CacheApi): (id: ItemId) => void {
  let key = Buffer.allocUnsafe(256);
  return (id) => {
    if ((ev.flags & EVICTIONS) === 0) return;
    const now = cache.clock.now();
    const kLen = cache.itemKeyLength(id);
    if (key.length < kLen) key = Buffer.allocUnsafe(kLen);
    cache.copyKey(id, key, 0);
    const exp = cache.itemExptime(id);
    ev.eviction(key, 0, kLen, (cache.itemIflags(id) & IF_FETCHED) !== 0, exp === 0 ? -1 : exp - now, now - cache.itemTime(id), cache.itemClass(id), cache.itemValueLength(id));
  };
}
