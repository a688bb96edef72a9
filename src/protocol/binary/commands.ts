// The binary commands: one dispatch on the loud opcode, each command validated as memcached
// 1.6.18's dispatch_bin_command() does and mapped onto the Cache API; outcomes become
// status codes here (proto_bin.c complete_update_bin(), complete_incr_bin(), ...).
import { FETCHERS, MUTATIONS } from '../../logging/event-flags.js';
import { fetched, lookedUp, stored } from '../watch-events.js';
import { NONE, OpStatus, Outcome, StoreMode, StoreRequest, ArithRequest } from '../../cache/api.js';
import { PINNED_VALUE } from '../output.js';
import { CLOSE, NEED_MORE, refusalMessage } from '../types.js';
import { readU32, readU64Big, writeU32, writeU64Big } from './header.js';
import { HEADER_LEN, Op, Status } from './opcodes.js';
import { AUTH_FAILURE_LIMIT } from '../auth-file.js';
import { checkPlain, isPlain, MAX_SASL_MECH_LEN, SASL_MECHS } from './sasl.js';
import type { BinaryState } from './state.js';
import { stat } from './stats.js';
import { VERSION } from '../../version.js';

const VERSION_BYTES = Buffer.from(VERSION, 'latin1');
const AUTHENTICATED = Buffer.from('Authenticated', 'latin1');
const OOM_ITEM = Buffer.from('Out of memory allocating item', 'latin1');
const OOM_INCR = Buffer.from('Out of memory incrementing value', 'latin1');
const OOM_NEW = Buffer.from('Out of memory allocating new item', 'latin1');
/** An incr/decr expiration of all ones means "do not create a missing counter". */
const NO_AUTOVIVIFY = 0xffffffff;

/**
 * Handle the request at buf[pos] whose header, extras and key are in the buffer. Returns the
 * offset after what memcached consumes for it, NEED_MORE, or CLOSE.
 */
export function runCommand(s: BinaryState, buf: Buffer, pos: number, end: number): number {
  const h = s.req;
  const ext = h.extLen;
  const klen = h.keyLen;
  const body = h.bodyLen;
  const head = pos + HEADER_LEN + ext + klen;
  const noBody = ext === 0 && klen === 0 && body === 0;
  switch (s.cmd) {
    case Op.Version:
      if (!noBody) return s.protocolError();
      s.success(0, VERSION_BYTES);
      return head;
    case Op.Noop:
      if (!noBody) return s.protocolError();
      s.success(0);
      return head;
    case Op.Quit:
      if (!noBody) return s.protocolError();
      s.success(0);
      // a close the client asked for (memcached's NORMAL_CLOSE in `watch connevents`)
      s.ctx.closeAfterWrite = true;
      return CLOSE;
    case Op.Flush:
      if (klen !== 0 || body !== ext || (ext !== 0 && ext !== 4)) return s.protocolError();
      flush(s, buf, pos);
      return head;
    case Op.Set:
    case Op.Add:
    case Op.Replace:
      if (ext !== 8 || klen === 0 || body < klen + 8) return s.protocolError();
      return update(s, buf, pos, end);
    case Op.Append:
    case Op.Prepend:
      if (klen === 0 || ext !== 0) return s.protocolError();
      return update(s, buf, pos, end);
    case Op.Get:
    case Op.GetK:
      if (ext !== 0 || body !== klen || klen === 0) return s.protocolError();
      getOrTouch(s, buf, pos);
      return head;
    case Op.Touch:
    case Op.Gat:
    case Op.GatK:
      // memcached does not check the body length here: bytes past the key are read as
      // the next request
      if (ext !== 4 || klen === 0) return s.protocolError();
      getOrTouch(s, buf, pos);
      return head;
    case Op.Delete:
      if (klen === 0 || ext !== 0 || body !== klen) return s.protocolError();
      remove(s, buf, pos);
      return head;
    case Op.Increment:
    case Op.Decrement:
      if (klen === 0 || ext !== 20 || body !== klen + ext) return s.protocolError();
      arithmetic(s, buf, pos);
      return head;
    case Op.Stat:
      // as in memcached, a value after the key is not consumed
      if (ext !== 0) return s.protocolError();
      stat(s, buf, pos + HEADER_LEN, klen);
      return head;
    case Op.SaslListMechs:
      if (!noBody) return s.protocolError();
      if (!s.ctx.config.sasl) {
        s.error(Status.UnknownCommand);
        return head;
      }
      s.authenticated = false;
      s.saslAwaitingStep = false;
      s.success(0, SASL_MECHS);
      return head;
    case Op.SaslAuth:
    case Op.SaslStep:
      if (ext !== 0 || klen === 0) return s.protocolError();
      return saslAuth(s, buf, pos, end);
    default:
      // Unknown command; the body is skipped. memcached 1.6.18 skips bodylen bytes counted
      // after the extras and key (so too many when there are any); we skip exactly the body.
      s.error(Status.UnknownCommand);
      s.swallow(body - ext - klen);
      return head;
  }
}

/** One request and status for every store and incr/decr (each completes before the next). */
const req = new StoreRequest();
const arith = new ArithRequest();
const status = new OpStatus();

/** True (and the error sent) when changes are refused right now: the journal cannot write. */
function refused(s: BinaryState): boolean {
  const reason = s.cache.writeRefusal;
  if (reason === null) return false;
  s.error(Status.TemporaryFailure, Buffer.from(refusalMessage(reason), 'latin1'));
  return true;
}

function flush(s: BinaryState, buf: Buffer, pos: number): void {
  if (!s.ctx.config.flushEnabled) {
    // memcached -F: flush is refused with the auth error
    s.error(Status.AuthError);
    return;
  }
  if (refused(s)) return;
  const delay = s.req.extLen === 4 ? readU32(buf, pos + HEADER_LEN) : 0;
  s.cache.flushAll(delay);
  s.success(0);
}

/** Set/Add/Replace (extras: flags, exptime) and Append/Prepend (no extras). */
function update(s: BinaryState, buf: Buffer, pos: number, end: number): number {
  const h = s.req;
  const cache = s.cache;
  const keyOff = pos + HEADER_LEN + h.extLen;
  const klen = h.keyLen;
  const vlen = h.bodyLen - h.extLen - klen;
  const after = keyOff + klen;
  // memcached allocates the item before reading the value, so a value that can never fit
  // is refused at once and its bytes are discarded as they come (binary does not count
  // store_too_large in 1.6.18; only the text protocol does)
  if (refused(s)) {
    s.swallow(vlen);
    return after;
  }
  const earlyFlags = h.extLen === 8 && end - pos >= HEADER_LEN + 4 ? readU32(buf, pos + HEADER_LEN) : 0;
  if (!cache.fits(klen, vlen, earlyFlags)) {
    // memcached unlinks the old value so stale data does not outlive a failed set
    if (s.cmd === Op.Set) cache.refuseTooLarge(buf, keyOff, klen, false);
    s.error(Status.TooLarge);
    s.swallow(vlen);
    return after;
  }
  if (end - pos < HEADER_LEN + h.bodyLen) {
    s.wantBytes = HEADER_LEN + h.bodyLen;
    return NEED_MORE;
  }
  // with CAS disabled (-C) items carry no CAS, so memcached ignores the header's
  const cas = cache.options.useCas ? h.cas : 0;
  let mode: StoreMode;
  let flags = 0;
  let exptime = 0;
  switch (s.cmd) {
    case Op.Append:
      mode = StoreMode.Append;
      break;
    case Op.Prepend:
      mode = StoreMode.Prepend;
      break;
    default:
      flags = readU32(buf, pos + HEADER_LEN);
      exptime = readU32(buf, pos + HEADER_LEN + 4);
      // a non-zero CAS turns Set, Add and Replace into memcached's cas command
      mode = cas !== 0 ? StoreMode.Cas : s.cmd === Op.Add ? StoreMode.Add : s.cmd === Op.Set ? StoreMode.Set : StoreMode.Replace;
  }
  const r = req;
  r.mode = mode;
  r.key = buf;
  r.kOff = keyOff;
  r.kLen = klen;
  r.flags = flags;
  r.exptime = exptime;
  r.value = buf;
  r.vOff = after;
  r.vLen = vlen;
  r.cas = cas;
  const ev = s.events;
  if (ev.flags & FETCHERS) lookedUp(ev, cache, buf, keyOff, klen, s.fd);
  const outcome = cache.store(r, status);
  if (ev.flags & MUTATIONS) stored(ev, cache, r, outcome, status, s.fd);
  switch (outcome) {
    case Outcome.Stored:
      s.success(status.cas);
      break;
    case Outcome.Exists:
      s.error(Status.KeyExists);
      break;
    case Outcome.NotFound:
      s.error(Status.KeyNotFound);
      break;
    case Outcome.NoMemory:
      if (mode === StoreMode.Append || mode === StoreMode.Prepend) s.error(Status.NotStored);
      else s.error(Status.OutOfMemory, OOM_ITEM);
      break;
    default:
      // NotStored (and TooLarge): reported as the failure the command implies
      if (mode === StoreMode.Add) s.error(Status.KeyExists);
      else if (mode === StoreMode.Replace) s.error(Status.KeyNotFound);
      else s.error(Status.NotStored);
  }
  return after + vlen;
}

/** Get/GetK (and quiet), Touch, GAT/GATK (and quiet). */
function getOrTouch(s: BinaryState, buf: Buffer, pos: number): void {
  const h = s.req;
  const cache = s.cache;
  const cmd = s.cmd;
  const keyOff = pos + HEADER_LEN + h.extLen;
  const klen = h.keyLen;
  let id: number;
  if (cmd === Op.Get || cmd === Op.GetK) {
    id = cache.get(buf, keyOff, klen);
    if (s.events.flags & FETCHERS) fetched(s.events, cache, buf, keyOff, klen, id, s.fd);
  } else {
    if (refused(s)) return;
    // memcached counts a binary touch/GAT as a touch only (touch_cmds, touch_hits/misses);
    // the item is looked up first so one touched into the past is still returned this time
    id = cache.find(buf, keyOff, klen);
    if (s.events.flags & FETCHERS) fetched(s.events, cache, buf, keyOff, klen, id, s.fd);
    cache.touch(buf, keyOff, klen, readU32(buf, pos + HEADER_LEN));
  }
  const withKey = cmd === Op.GetK || cmd === Op.GatK;
  if (id === NONE) {
    if (s.quiet) return;
    if (withKey) {
      const b = s.head(Status.KeyNotFound, 0, klen, klen, 0);
      s.out.pos += buf.copy(b, s.out.pos, keyOff, keyOff + klen);
    } else {
      s.error(Status.KeyNotFound);
    }
    return;
  }
  const vlen = cmd === Op.Touch ? 0 : cache.itemValueLength(id);
  const rk = withKey ? klen : 0;
  const pinned = vlen >= PINNED_VALUE;
  // room in the reply for the body, less a value sent from its chunks
  const b = s.head(Status.Success, 4, rk, 4 + rk + vlen, cache.itemCas(id), 4 + rk + (pinned ? 0 : vlen));
  let p = s.out.pos;
  writeU32(b, p, cache.itemFlags(id));
  p += 4;
  if (rk > 0) p += buf.copy(b, p, keyOff, keyOff + rk);
  if (vlen > 0 && !pinned) p = cache.copyValueToView(id, s.out.view, p);
  s.out.pos = p;
  // sent from the item's chunks, not copied (output.ts)
  if (pinned) s.out.pinValue(cache, id);
}

function remove(s: BinaryState, buf: Buffer, pos: number): void {
  if (refused(s)) return;
  if (s.events.flags & FETCHERS) lookedUp(s.events, s.cache, buf, pos + HEADER_LEN, s.req.keyLen, s.fd);
  const outcome = s.cache.delete(buf, pos + HEADER_LEN, s.req.keyLen, s.req.cas);
  if (outcome === Outcome.Deleted) s.success(0);
  else if (outcome === Outcome.Exists) s.error(Status.KeyExists);
  else s.error(Status.KeyNotFound);
}

/** Increment/Decrement: extras delta u64, initial u64, exptime u32; the reply is a u64. */
function arithmetic(s: BinaryState, buf: Buffer, pos: number): void {
  const h = s.req;
  const cache = s.cache;
  const e = pos + HEADER_LEN;
  const keyOff = e + 20;
  const klen = h.keyLen;
  if (refused(s)) return;
  const delta = readU64Big(buf, e);
  const a = arith;
  a.key = buf;
  a.keyOff = keyOff;
  a.keyLen = klen;
  a.incr = s.cmd === Op.Increment;
  a.delta = delta;
  a.cas = h.cas;
  const ev = s.events;
  if (ev.flags & FETCHERS) lookedUp(ev, cache, buf, keyOff, klen, s.fd);
  const outcome = cache.incrDecr(a, status);
  switch (outcome) {
    case Outcome.Stored:
      sendNumber(s, status.number, status.cas);
      return;
    case Outcome.NonNumeric:
      s.error(Status.DeltaBadValue);
      return;
    case Outcome.Exists:
      s.error(Status.KeyExists);
      return;
    case Outcome.NoMemory:
      s.error(Status.OutOfMemory, OOM_INCR);
      return;
    default:
      break;
  }
  // a miss creates the counter with the initial value, unless the expiration says not to
  const exptime = readU32(buf, e + 16);
  if (exptime === NO_AUTOVIVIFY) {
    s.error(Status.KeyNotFound);
    return;
  }
  const initial = readU64Big(buf, e + 8);
  const text = Buffer.from(initial.toString(), 'latin1');
  const r = req;
  r.mode = StoreMode.Add;
  r.key = buf;
  r.kOff = keyOff;
  r.kLen = klen;
  r.flags = 0;
  r.exptime = exptime;
  r.value = text;
  r.vOff = 0;
  r.vLen = text.length;
  r.cas = 0;
  // memcached looks the key up again as it adds the counter
  if (ev.flags & FETCHERS) lookedUp(ev, cache, buf, keyOff, klen, s.fd);
  const added = cache.store(r, status);
  if (ev.flags & MUTATIONS) stored(ev, cache, r, added, status, s.fd);
  if (added === Outcome.Stored) sendNumber(s, initial, status.cas);
  else if (added === Outcome.NoMemory) s.error(Status.OutOfMemory, OOM_NEW);
  else s.error(Status.NotStored);
}

function sendNumber(s: BinaryState, value: bigint, cas: number): void {
  if (s.quiet) return;
  const b = s.head(Status.Success, 0, 0, 8, cas);
  writeU64Big(b, s.out.pos, value);
  s.out.pos += 8;
}

/** SASL auth/step: PLAIN with the credentials in the auth data or in one following step. */
function saslAuth(s: BinaryState, buf: Buffer, pos: number, end: number): number {
  const h = s.req;
  const keyOff = pos + HEADER_LEN;
  const klen = h.keyLen;
  const vlen = h.bodyLen - klen;
  const after = keyOff + klen;
  if (!s.ctx.config.sasl) {
    s.error(Status.UnknownCommand);
    s.swallow(vlen);
    return after;
  }
  if (klen > MAX_SASL_MECH_LEN) {
    s.error(Status.InvalidArguments);
    s.swallow(vlen);
    return after;
  }
  if (end - pos < HEADER_LEN + h.bodyLen) {
    s.wantBytes = HEADER_LEN + h.bodyLen;
    return NEED_MORE;
  }
  // as memcached's init_sasl_conn(): any exchange starts unauthenticated
  s.authenticated = false;
  let ok = false;
  if (s.cmd === Op.SaslAuth) {
    s.saslAwaitingStep = false;
    if (isPlain(buf, keyOff, klen)) {
      if (vlen === 0) {
        // PLAIN without an initial response: ask for it with an empty challenge
        s.saslAwaitingStep = true;
        s.head(Status.AuthContinue, 0, 0, 0, 0);
        return after;
      }
      ok = checkPlain(s.ctx.config.authFile, buf, after, vlen);
    }
  } else if (s.saslAwaitingStep) {
    s.saslAwaitingStep = false;
    ok = checkPlain(s.ctx.config.authFile, buf, after, vlen);
  }
  s.cache.countAuth(!ok);
  if (ok) {
    s.authenticated = true;
    s.success(0, AUTHENTICATED);
  } else {
    s.error(Status.AuthError);
    // memcached keeps the connection; here a few failures cost a reconnect (auth-file.ts)
    if (++s.authFailures >= AUTH_FAILURE_LIMIT) return CLOSE;
  }
  return after + vlen;
}
