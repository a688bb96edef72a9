// Executes JSON-lines requests against the cache, inside or outside the connection's
// transaction, and writes each reply in its request's form. Outside a transaction every
// command applies at once; inside one, writes are buffered in the innermost level and the
// outermost COMMIT checks for conflicts and applies them all in one cache.batch().
import { StoreMode, Outcome, type CacheApi } from '../../cache/api.js';
import type { Output } from '../output.js';
import { addSigned, BAD_KEY, keyBytes, Kv } from './kv.js';
import { NO_RESULT, replyError, replyOk, type Result } from './replies.js';
import type { Request } from './request.js';
import type { JsonlStats } from './stats.js';
import { Transaction, type Entry, type Write } from './transaction.js';

/** The CAS store of INCR/DECR outside a transaction is retried this often on Exists. */
const ARITH_RETRIES = 16;

/** Why a command could not be done: the text of its error reply. */
class Refusal {
  constructor(readonly message: string) {}
}

export class Commands {
  readonly #kv: Kv;
  readonly #cache: CacheApi;
  readonly #out: Output;
  readonly #stats: JsonlStats;
  readonly #txLimit: number;
  #tx: Transaction | null = null;

  constructor(cache: CacheApi, out: Output, stats: JsonlStats, txLimit: number) {
    this.#cache = cache;
    this.#kv = new Kv(cache);
    this.#out = out;
    this.#stats = stats;
    this.#txLimit = txLimit;
  }

  get inTransaction(): boolean {
    return this.#tx !== null;
  }

  /** The connection closed: an open transaction is rolled back (it was never applied). */
  abandon(): void {
    if (this.#tx === null) return;
    this.#tx = null;
    this.#stats.txOpen--;
    this.#stats.txRolledBack++;
    this.#stats.txDisconnected++;
  }

  /** Execute one request and write its reply. */
  run(req: Request): void {
    try {
      const result = this.#execute(req);
      replyOk(this.#out, req.form, result);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      this.#stats.errors++;
      replyError(this.#out, req.form, err.message);
    }
  }

  #execute(req: Request): Result | typeof NO_RESULT {
    switch (req.verb) {
      case 'PING':
        return 'PONG';
      case 'START':
        return this.#start();
      case 'COMMIT':
        return this.#commit();
      case 'ROLLBACK':
        return this.#rollback();
      case 'EXIT':
      case 'AUTH':
        return NO_RESULT; // the session handles these
      default:
        break;
    }
    const key = keyBytes(req.key);
    if (key === null) throw new Refusal(BAD_KEY);
    switch (req.verb) {
      case 'GET':
        return this.get(req.key, key);
      case 'SET':
        return this.#set(req.key, key, req.value, req.ttl);
      case 'DELETE':
        return this.#delete(req.key, key);
      case 'INCR':
        return this.#arith(req.key, key, 1n);
      case 'DECR':
        return this.#arith(req.key, key, -1n);
      case 'EXPIRE':
        return this.#expire(req.key, key, req.ttl);
      case 'TTL':
        return this.#ttl(req.key, key);
    }
  }

  // ---- reads: the transaction's own writes first (innermost level first), then the cache ----

  /** What this client sees under the key (a read: recorded for the conflict check). */
  #read(name: string, key: Buffer, count: boolean): Entry | null {
    const tx = this.#tx;
    if (tx !== null) {
      const w = tx.lookup(name);
      if (w !== undefined) return live(w, this.#cache.clock.now());
      this.#see(tx, name, key);
    }
    return this.#kv.read(key, count);
  }

  #see(tx: Transaction, name: string, key: Buffer): void {
    if (tx.hasSeen(name)) return;
    if (!tx.see(name, this.#kv.seen(key))) throw new Refusal(this.#tooLarge(tx));
  }

  get(name: string, key: Buffer): string | null {
    const e = this.#read(name, key, true);
    return e === null ? null : e.value.toString('utf8');
  }

  #ttl(name: string, key: Buffer): number | null {
    const e = this.#read(name, key, false);
    if (e === null || e.exptime === 0) return null;
    // whole seconds from a whole-second clock: at least 1 while the key lives
    return Math.max(1, e.exptime - this.#cache.clock.now());
  }

  // ---- writes -------------------------------------------------------------------------------

  /** Buffer a write in the transaction, or apply it now when there is none. */
  #write(name: string, key: Buffer, w: Write): void {
    const tx = this.#tx;
    if (tx !== null) {
      this.#see(tx, name, key);
      if (!tx.write(name, w)) throw new Refusal(this.#tooLarge(tx));
      return;
    }
    this.#refuseIfReadOnly();
    if (w === null) this.#kv.remove(key);
    else this.#put(key, w);
  }

  #put(key: Buffer, e: Entry, mode: StoreMode = StoreMode.Set, cas = 0): Outcome {
    const out = this.#kv.put(key, e, mode, cas);
    if (out === Outcome.TooLarge) throw new Refusal(this.#valueTooLarge());
    if (out === Outcome.NoMemory) throw new Refusal('out of memory storing the value (-m is full and -M forbids eviction)');
    return out;
  }

  #set(name: string, key: Buffer, value: string, ttl: number): typeof NO_RESULT {
    const v = Buffer.from(value, 'utf8');
    if (!this.#kv.fits(key, v.length)) throw new Refusal(this.#valueTooLarge());
    this.#write(name, key, { value: v, flags: 0, exptime: ttl === 0 ? 0 : this.#cache.clock.now() + ttl });
    return NO_RESULT;
  }

  #delete(name: string, key: Buffer): boolean {
    if (this.#tx === null) {
      this.#refuseIfReadOnly();
      return this.#kv.remove(key);
    }
    const existed = this.#read(name, key, false) !== null;
    this.#write(name, key, null);
    return existed;
  }

  #expire(name: string, key: Buffer, ttl: number): boolean {
    if (this.#tx === null) {
      this.#refuseIfReadOnly();
      if (ttl <= 0) return this.#kv.remove(key);
      return this.#cache.touch(key, 0, key.length, this.#cache.clock.now() + ttl) === Outcome.Touched;
    }
    const e = this.#read(name, key, false);
    if (e === null) return false;
    this.#write(name, key, ttl <= 0 ? null : { ...e, exptime: this.#cache.clock.now() + ttl });
    return true;
  }

  /** INCR/DECR: signed 64-bit on the decimal string, an absent key counting as "0". */
  #arith(name: string, key: Buffer, delta: bigint): string {
    if (this.#tx !== null) {
      const e = this.#read(name, key, false);
      const next = addSigned(e === null ? null : e.value, delta);
      if (typeof next !== 'string') throw new Refusal(next.error);
      this.#write(name, key, { value: Buffer.from(next, 'latin1'), flags: e?.flags ?? 0, exptime: e?.exptime ?? 0 });
      return next;
    }
    this.#refuseIfReadOnly();
    const useCas = this.#cache.options.useCas;
    // read, compute, store if nothing changed in between (get + CAS store, retried)
    for (let i = 0; i < ARITH_RETRIES; i++) {
      const cas = this.#kv.casOf(key);
      const e = this.#kv.read(key, false);
      const next = addSigned(e === null ? null : e.value, delta);
      if (typeof next !== 'string') throw new Refusal(next.error);
      const entry = { value: Buffer.from(next, 'latin1'), flags: e?.flags ?? 0, exptime: e?.exptime ?? 0 };
      const mode = e === null ? StoreMode.Add : useCas ? StoreMode.Cas : StoreMode.Set;
      const out = this.#put(key, entry, mode, cas);
      if (out === Outcome.Stored) return next;
    }
    throw new Refusal('the key kept changing under INCR/DECR; try again');
  }

  // ---- transactions -------------------------------------------------------------------------

  #start(): typeof NO_RESULT {
    if (this.#tx === null) {
      this.#tx = new Transaction(this.#txLimit);
      this.#stats.txStarted++;
      this.#stats.txOpen++;
    } else if (!this.#tx.begin()) {
      throw new Refusal(this.#tooLarge(this.#tx));
    }
    return NO_RESULT;
  }

  #rollback(): typeof NO_RESULT {
    const tx = this.#tx;
    if (tx === null) throw new Refusal('no transaction: ROLLBACK without START');
    if (tx.depth > 1) {
      tx.dropInner();
      return NO_RESULT;
    }
    this.#end();
    this.#stats.txRolledBack++;
    return NO_RESULT;
  }

  #commit(): typeof NO_RESULT {
    const tx = this.#tx;
    if (tx === null) throw new Refusal('no transaction: COMMIT without START');
    if (tx.depth > 1) {
      tx.mergeInner();
      return NO_RESULT;
    }
    for (const [name, then] of tx.seen) {
      if (this.#kv.changedSince(Buffer.from(name, 'utf8'), then)) {
        this.#end();
        this.#stats.txConflicts++;
        throw new Refusal(`conflict: another client changed "${name}" after this transaction first used it; the transaction was discarded and nothing was applied`);
      }
    }
    const refusal = this.#cache.writeRefusal;
    if (refusal !== null && tx.outermost.size > 0) {
      // the transaction stays open: COMMIT may be retried once the journal writes again
      throw new Refusal(`writes are refused (${refusal}); nothing was applied and the transaction is still open: COMMIT again later or ROLLBACK`);
    }
    const failure = this.#apply(tx);
    this.#end();
    if (failure !== null) throw new Refusal(`${failure}; nothing was applied and the transaction was discarded`);
    this.#stats.txCommitted++;
    return NO_RESULT;
  }

  /**
   * Apply the outermost level's writes as one batch (one journal record, replayed all or
   * nothing). A store that fails part way (out of memory with -M) puts back what the batch
   * had changed, so nothing partial stays; returns why it failed, or null.
   */
  #apply(tx: Transaction): string | null {
    const kv = this.#kv;
    return this.#cache.batch(() => {
      const undo: Array<[Buffer, Entry | null]> = [];
      for (const [name, w] of tx.outermost) {
        const key = Buffer.from(name, 'utf8');
        undo.push([key, kv.read(key, false)]);
        if (w === null) {
          kv.remove(key);
          continue;
        }
        const out = kv.put(key, w);
        if (out === Outcome.Stored) continue;
        for (let i = undo.length - 1; i >= 0; i--) {
          const [k, before] = undo[i]!;
          if (before === null) kv.remove(k);
          else kv.put(k, before);
        }
        return out === Outcome.TooLarge ? this.#valueTooLarge() : 'out of memory storing a value (-m is full and -M forbids eviction)';
      }
      return null;
    });
  }

  #end(): void {
    this.#tx = null;
    this.#stats.txOpen--;
  }

  #refuseIfReadOnly(): void {
    const refusal = this.#cache.writeRefusal;
    if (refusal !== null) throw new Refusal(`writes are refused: ${refusal}`);
  }

  #valueTooLarge(): string {
    return `value too large: an item (key, value and about 50 bytes) may hold at most -I = ${this.#cache.options.itemSizeMax} bytes`;
  }

  #tooLarge(tx: Transaction): string {
    return `transaction too large: it would hold more than ${tx.limit} bytes of writes and keys read; this request was not done, COMMIT or ROLLBACK`;
  }
}

/** A buffered write as a read sees it: deleted or expired reads as absent. */
function live(w: Write, now: number): Entry | null {
  if (w === null) return null;
  return w.exptime !== 0 && w.exptime <= now ? null : w;
}
