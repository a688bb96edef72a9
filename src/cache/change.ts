// The change hook: one listener, registered at startup, sees every change the cache applies
// on behalf of a client, in the order applied. The journal is that listener.
//
// What a listener may rely on:
// - Order: changes arrive synchronously, inside the command that made them, in the order the
//   cache applied them; no change is applied between a command's change and its report.
// - Content: for Item and Meta the item under the key is `id`, readable through the
//   ItemReader passed along (value, client flags, absolute exptime, CAS, item flags) until the
//   listener returns. Item means the whole item is new (any store, incr/decr, autovivify);
//   Meta means only its exptime, CAS or item flags changed (touch, gat, mg T/N, mg win
//   tokens, md invalidation, ms of a stale CAS). Delete carries the key. Flush carries the
//   delay as sent and the resulting oldestLive/oldestCas.
// - Atomicity: a multi-key operation (a JSON-lines transaction) is reported between a
//   BatchBegin and a BatchEnd, with nothing of other clients in between; a listener that
//   persists the batch as one record makes it replay all or nothing.
// - Not reported: reads and LRU bumps, fetched/active marks, evictions, expired or flushed
//   items reclaimed lazily or by the crawler, page moves, snapshot restores, stats. Replaying
//   the reported changes with the same exptimes gives the same visible contents, modulo
//   evictions (which a bigger or equal -m does not need) and expiry (which is absolute time).
// - Cost: with no listener the cache checks one field per change and builds nothing.
import type { ItemId } from './item.js';

export const ChangeKind = { Item: 1, Meta: 2, Delete: 3, Flush: 4, BatchBegin: 5, BatchEnd: 6 } as const;
export type ChangeKind = (typeof ChangeKind)[keyof typeof ChangeKind];

/** One applied change; the cache reuses the object, so a listener copies what it keeps. */
export class Change {
  kind: ChangeKind = ChangeKind.Item;
  key: Uint8Array = Buffer.alloc(0);
  keyOff = 0;
  keyLen = 0;
  /** Item and Meta: the item now under the key. */
  id: ItemId = 0;
  /** Flush: the delay as sent, and the flush point it set. */
  delay = 0;
  oldestLive = 0;
  oldestCas = 0;
}

/** Read access to an item's contents, for listeners. */
export interface ItemReader {
  itemFlags(id: ItemId): number;
  itemValueLength(id: ItemId): number;
  itemKeyLength(id: ItemId): number;
  itemExptime(id: ItemId): number;
  itemIflags(id: ItemId): number;
  itemCas(id: ItemId): number;
  itemTime(id: ItemId): number;
  copyKey(id: ItemId, dst: Uint8Array, off: number): number;
  copyValue(id: ItemId, dst: Uint8Array, off: number): number;
}

export interface ChangeListener {
  onChange(change: Readonly<Change>, items: ItemReader): void;
}

/**
 * What a listener that makes changes durable (the journal with fsync always) offers the
 * connections: a client is told a change happened only once the change is on disk.
 */
export interface DurabilityGate {
  /** Changes recorded so far; a connection compares it before and after its requests. */
  readonly appended: number;
  /** Call `done` once every change up to `upTo` is durable, or with why it never will be. */
  whenDurable(upTo: number, done: (error: string | null) => void): void;
}

const NO_KEY = Buffer.alloc(0);
const NO_ITEM: ItemId = 0xffffffff;

/**
 * Where the cache reports changes: the listener, if any, and one reused Change. Callers test
 * `listener !== null` before calling, so a cache without a listener builds nothing.
 */
export class ChangeHook {
  listener: ChangeListener | null = null;
  readonly #change = new Change();
  readonly #items: ItemReader;

  constructor(items: ItemReader) {
    this.#items = items;
  }

  /** Item or Meta: the item now under its key. */
  item(kind: ChangeKind, id: ItemId): void {
    this.#report(kind, id, NO_KEY, 0, 0);
  }

  deleted(key: Uint8Array, off: number, len: number): void {
    this.#report(ChangeKind.Delete, NO_ITEM, key, off, len);
  }

  flushed(delay: number, oldestLive: number, oldestCas: number): void {
    const c = this.#change;
    c.delay = delay;
    c.oldestLive = oldestLive;
    c.oldestCas = oldestCas;
    this.#report(ChangeKind.Flush, NO_ITEM, NO_KEY, 0, 0);
  }

  /** BatchBegin or BatchEnd. */
  bracket(kind: ChangeKind): void {
    this.#report(kind, NO_ITEM, NO_KEY, 0, 0);
  }

  #report(kind: ChangeKind, id: ItemId, key: Uint8Array, off: number, len: number): void {
    const c = this.#change;
    c.kind = kind;
    c.id = id;
    c.key = key;
    c.keyOff = off;
    c.keyLen = len;
    this.listener!.onChange(c, this.#items);
  }
}
