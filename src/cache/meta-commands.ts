// The meta commands' extras over the plain commands: autovivify (mg/ma N), TTL changes on a
// fetched item (mg/ma T), win tokens and stale items (mg R/W/X/Z, ms I, md I), and mg's own
// counting. As memcached 1.6.18's proto_text.c process_m*_command() and do_store_item().
import type { MetaDeleteRequest, OpStatus, StoreRequest } from './api.js';
import { ChangeKind, type ChangeHook } from './change.js';
import { IF_KEY_BINARY, IF_STALE, IF_WIN_SENT, NONE, type ItemId } from './item.js';
import type { ItemMemory } from './item-memory.js';
import type { Linkage } from './linkage.js';
import { Miss, Outcome, StoreMode } from './outcome.js';

/** What the meta commands need of the cache's plain commands. */
export interface MetaHost {
  find(key: Uint8Array, off: number, len: number): ItemId;
  store(r: StoreRequest, st: OpStatus): Outcome;
  insertNew(key: Uint8Array, off: number, len: number, value: Uint8Array, vOff: number, vLen: number): ItemId;
  absoluteExptime(exptime: number): number;
  nextCas(): number;
}

export class MetaCommands {
  readonly #host: MetaHost;
  readonly #mem: ItemMemory;
  readonly #links: Linkage;
  readonly #hook: ChangeHook;

  constructor(host: MetaHost, mem: ItemMemory, links: Linkage, hook: ChangeHook) {
    this.#host = host;
    this.#mem = mem;
    this.#links = links;
    this.#hook = hook;
  }

  /**
   * mg N / ma N: link a new item holding `value` under the key, client flags 0, no expiry.
   * Counted as no store, as memcached's autovivify is not. NONE when out of memory.
   */
  vivify(key: Uint8Array, off: number, len: number, value: Uint8Array, vOff: number, vLen: number): ItemId {
    const id = this.#host.insertNew(key, off, len, value, vOff, vLen);
    if (id !== NONE && this.#hook.listener !== null) this.#hook.item(ChangeKind.Item, id);
    return id;
  }

  /** mg T, mg N, ma T/N: set a live item's exptime (as sent on the wire); CAS unchanged. */
  setItemTtl(id: ItemId, exptime: number): void {
    this.#mem.setExptime(id, this.#host.absoluteExptime(exptime));
    if (this.#hook.listener !== null) this.#hook.item(ChangeKind.Meta, id);
  }

  /** mg W: this client won the right to recache the item; later readers see Z. */
  markWinSent(id: ItemId): void {
    this.#mem.setIflags(id, this.#mem.iflags(id) | IF_WIN_SENT);
    if (this.#hook.listener !== null) this.#hook.item(ChangeKind.Meta, id);
  }

  /** memcached's do_item_get() counts lookups that found an expired or flushed item. */
  countMissReason(miss: Miss): void {
    if (miss === Miss.Expired) this.#links.stats.get_expired++;
    else if (miss === Miss.Flushed) this.#links.stats.get_flushed++;
  }

  /**
   * The counters of one mg: a miss (id NONE), a hit that changed the TTL (counted as a touch)
   * or a plain hit, as memcached's process_mget_command().
   */
  countMetaGet(id: ItemId, touched: boolean): void {
    const st = this.#links.stats;
    if (id === NONE) {
      st.cmd_get++;
      st.get_misses++;
      return;
    }
    const cs = this.#links.classStats[this.#mem.slabClass(id)]!;
    if (touched) {
      st.cmd_touch++;
      st.touch_hits++;
      cs.touch_hits++;
    } else {
      st.cmd_get++;
      st.get_hits++;
      cs.get_hits++;
    }
  }

  /**
   * ms: store() plus the meta extras of memcached's do_store_item(). With `invalidate` and a
   * CAS compare (StoreMode.Cas), a CAS older than the item's still stores, but as a stale
   * item that keeps the old TTL and win-sent mark (CAS_STALE). `keyBinary` marks the new
   * item's key as sent in base64, except for append/prepend, whose merged item memcached
   * allocates without that mark.
   */
  storeMeta(r: StoreRequest, st: OpStatus): Outcome {
    const { key, kOff, kLen, mode, cas } = r;
    let stale = false;
    let oldExp = 0;
    let oldIflags = 0;
    if (r.invalidate && mode === StoreMode.Cas && cas !== 0) {
      const old = this.#host.find(key, kOff, kLen);
      if (old !== NONE && cas < this.#mem.cas(old)) {
        stale = true;
        oldExp = this.#mem.exptime(old);
        oldIflags = this.#mem.iflags(old);
      }
    }
    if (stale) r.mode = StoreMode.Set;
    // the item's final state is reported once, below
    const hook = this.#hook;
    const listener = hook.listener;
    hook.listener = null;
    let outcome: Outcome;
    try {
      outcome = this.#host.store(r, st);
    } finally {
      hook.listener = listener;
      r.mode = mode;
    }
    if (outcome !== Outcome.Stored) return outcome;
    const id = st.id;
    let fl = this.#mem.iflags(id);
    if (stale) {
      this.#mem.setExptime(id, oldExp);
      fl |= IF_STALE | (oldIflags & IF_WIN_SENT);
      this.#links.stats.cas_hits++;
      this.#links.classStats[this.#mem.slabClass(id)]!.cas_hits++;
    }
    if (r.keyBinary && mode !== StoreMode.Append && mode !== StoreMode.Prepend) fl |= IF_KEY_BINARY;
    this.#mem.setIflags(id, fl);
    if (listener !== null) hook.item(ChangeKind.Item, id);
    return outcome;
  }

  /**
   * md: delete the item, or with `invalidate` keep it as stale: new CAS, win token released
   * for the next reader, and the TTL replaced when `exptime` (as sent) is not null. With
   * `hasCas` the item's CAS must equal `cas`. Deleted (HD), NotFound (NF) or Exists (EX).
   */
  deleteMeta(r: MetaDeleteRequest): Outcome {
    const { key, keyOff: off, keyLen: len } = r;
    const id = this.#host.find(key, off, len);
    if (id === NONE || (r.hasCas && this.#mem.cas(id) !== r.cas)) {
      this.#links.stats.delete_misses++;
      return id === NONE ? Outcome.NotFound : Outcome.Exists;
    }
    if (r.invalidate) {
      if (r.exptime !== null) this.#mem.setExptime(id, this.#host.absoluteExptime(r.exptime));
      this.#mem.setIflags(id, (this.#mem.iflags(id) | IF_STALE) & ~IF_WIN_SENT);
      this.#mem.setCas(id, this.#host.nextCas());
      if (this.#hook.listener !== null) this.#hook.item(ChangeKind.Meta, id);
      return Outcome.Deleted;
    }
    this.#links.stats.delete_hits++;
    this.#links.classStats[this.#mem.slabClass(id)]!.delete_hits++;
    this.#links.unlink(id);
    if (this.#hook.listener !== null) this.#hook.deleted(key, off, len);
    return Outcome.Deleted;
  }
}
