// In-process tests of the binary protocol session: header encode/decode, every opcode and
// its status codes, quiet variants, SASL, and the same input whole, byte by byte and cut at
// random points. A manual clock stands in for time; nothing sleeps.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Header, readU64Big, writeResponseHeader, writeU64Big } from '../src/protocol/binary/header.js';
import { Op, Status } from '../src/protocol/binary/opcodes.js';
import { credentialsMatch } from '../src/protocol/binary/sasl.js';
import { fake, splits } from './binary/fake.js';
import { incrExtras, parsePackets, request, u32, type Packet, type Req } from './binary/wire.js';

const set = (key: string, value: string | Buffer, flags = 0, exp = 0, extra: Partial<Req> = {}): Req => ({
  opcode: Op.Set,
  key,
  extras: u32(flags, exp),
  value,
  ...extra,
});
const get = (key: string, opcode: number = Op.Get, extra: Partial<Req> = {}): Req => ({ opcode, key, ...extra });
const noop = (opaque = 0): Req => ({ opcode: Op.Noop, opaque });
const bytesOf = (...reqs: Req[]): Buffer => Buffer.concat(reqs.map(request));

function one(f: ReturnType<typeof fake>, r: Req): Packet {
  const { packets } = f.send(request(r));
  expect(packets).toHaveLength(1);
  return packets[0]!;
}

describe('binary header', () => {
  it('encodes and decodes every field, big-endian', () => {
    const h = new Header();
    Object.assign(h, {
      magic: 0x80,
      opcode: 0x23,
      keyLen: 0x1234,
      extLen: 4,
      dataType: 0,
      vbucketOrStatus: 0xbeef,
      bodyLen: 0x01020304,
      opaque: 0xfffffffe,
      cas: 0x1_2345_6789_abcd,
    });
    const b = Buffer.alloc(24);
    h.encode(b, 0);
    expect(b.toString('hex')).toBe('8023123404' + '00' + 'beef' + '01020304' + 'fffffffe' + '000123456789abcd');
    const d = new Header().decode(b, 0);
    expect({ ...d }).toEqual({ ...h });
  });

  it('writes a response header with magic 0x81 and the status where the vbucket was', () => {
    const b = Buffer.alloc(30);
    expect(writeResponseHeader(b, 3, 0x05, 0x0081, 0, 2, 7, 0xdeadbeef, 2 ** 40 + 5)).toBe(27);
    const d = new Header().decode(b, 3);
    expect([d.magic, d.opcode, d.vbucketOrStatus, d.keyLen, d.bodyLen, d.opaque, d.cas]).toEqual([
      0x81, 0x05, 0x81, 2, 7, 0xdeadbeef, 2 ** 40 + 5,
    ]);
  });

  it('reads and writes 64-bit numbers beyond 2^53 exactly', () => {
    const b = Buffer.alloc(8);
    writeU64Big(b, 0, 0xfedc_ba98_7654_3210n);
    expect(b.toString('hex')).toBe('fedcba9876543210');
    expect(readU64Big(b, 0)).toBe(0xfedc_ba98_7654_3210n);
  });
});

describe('binary commands', () => {
  it('get family: hits carry flags, CAS and (for K) the key; quiet misses are silent', () => {
    const f = fake();
    expect(one(f, get('a')).status).toBe(Status.KeyNotFound);
    const miss = one(f, get('a', Op.GetK));
    expect([miss.status, miss.key.toString(), miss.value.length]).toEqual([Status.KeyNotFound, 'a', 0]);
    expect(f.send(bytesOf(get('a', Op.GetQ), get('a', Op.GetKQ))).packets).toEqual([]);
    const s = one(f, set('a', 'hello', 0xcafe));
    expect(s.status).toBe(0);
    for (const op of [Op.Get, Op.GetQ, Op.GetK, Op.GetKQ]) {
      const p = one(f, get('a', op, { opaque: 99 }));
      expect(p.opcode).toBe(op);
      expect(p.opaque).toBe(99);
      expect(p.cas).toBe(s.cas);
      expect(p.extras.readUInt32BE(0)).toBe(0xcafe);
      expect(p.value.toString()).toBe('hello');
      expect(p.key.toString()).toBe(op === Op.GetK || op === Op.GetKQ ? 'a' : '');
    }
  });

  it('add, replace, append, prepend statuses (append on a miss is Not stored)', () => {
    const f = fake();
    expect(one(f, { ...set('k', 'x'), opcode: Op.Replace }).status).toBe(Status.KeyNotFound);
    expect(one(f, { opcode: Op.Append, key: 'k', value: 'x' }).status).toBe(Status.NotStored);
    expect(one(f, { opcode: Op.Prepend, key: 'k', value: 'x' }).status).toBe(Status.NotStored);
    expect(one(f, { ...set('k', 'mid', 5), opcode: Op.Add }).status).toBe(0);
    expect(one(f, { ...set('k', 'again'), opcode: Op.Add }).status).toBe(Status.KeyExists);
    expect(f.send(bytesOf({ opcode: Op.AppendQ, key: 'k', value: '>' }, { opcode: Op.PrependQ, key: 'k', value: '<' })).packets).toEqual([]);
    const g = one(f, get('k'));
    expect([g.value.toString(), g.extras.readUInt32BE(0)]).toEqual(['<mid>', 5]);
    expect(one(f, { ...set('k', 'r', 6), opcode: Op.Replace }).status).toBe(0);
  });

  it('a non-zero CAS makes set/add/replace a compare-and-swap; delete and append compare it too', () => {
    const f = fake();
    expect(one(f, set('c', 'v', 0, 0, { cas: 77 })).status).toBe(Status.KeyNotFound);
    const s = one(f, set('c', 'v1'));
    expect(one(f, set('c', 'v2', 0, 0, { cas: s.cas + 1 })).status).toBe(Status.KeyExists);
    const s2 = one(f, set('c', 'v2', 0, 0, { cas: s.cas }));
    expect(s2.status).toBe(0);
    expect(s2.cas).not.toBe(s.cas);
    expect(one(f, { ...set('c', 'v3'), opcode: Op.Add, cas: s2.cas }).status).toBe(0);
    const cur = one(f, get('c')).cas;
    expect(one(f, { opcode: Op.Append, key: 'c', value: '!', cas: cur + 1 }).status).toBe(Status.KeyExists);
    expect(one(f, { opcode: Op.Delete, key: 'c', cas: cur + 1 }).status).toBe(Status.KeyExists);
    expect(one(f, { opcode: Op.Delete, key: 'c', cas: cur }).status).toBe(0);
    expect(one(f, { opcode: Op.Delete, key: 'c' }).status).toBe(Status.KeyNotFound);
    expect(f.send(request({ opcode: Op.DeleteQ, key: 'c' })).packets[0]!.status).toBe(Status.KeyNotFound);
  });

  it('with CAS disabled (-C) the header CAS of a set is ignored', () => {
    const f = fake({ useCas: false });
    const s = one(f, set('c', 'v', 0, 0, { cas: 1234 }));
    expect([s.status, s.cas]).toEqual([0, 0]);
  });

  it('incr/decr: initial value, "fail if missing" expiration, 64-bit results, wrap, floor, non-numeric', () => {
    const f = fake();
    const num = (p: Packet): bigint => p.value.readBigUInt64BE(0);
    expect(one(f, { opcode: Op.Increment, key: 'n', extras: incrExtras(1n, 5n, 0xffffffff) }).status).toBe(Status.KeyNotFound);
    const created = one(f, { opcode: Op.Increment, key: 'n', extras: incrExtras(1n, 0x1_0000_0000n, 0) });
    expect([created.status, num(created)]).toEqual([0, 0x1_0000_0000n]);
    expect(created.cas).toBeGreaterThan(0);
    expect(num(one(f, { opcode: Op.Increment, key: 'n', extras: incrExtras(3n, 0n, 0) }))).toBe(0x1_0000_0003n);
    expect(num(one(f, { opcode: Op.Decrement, key: 'n', extras: incrExtras(2n ** 40n, 0n, 0) }))).toBe(0n);
    expect(num(one(f, { opcode: Op.Increment, key: 'n', extras: incrExtras(2n ** 64n - 1n, 0n, 0) }))).toBe(2n ** 64n - 1n);
    expect(num(one(f, { opcode: Op.Increment, key: 'n', extras: incrExtras(2n, 0n, 0) }))).toBe(1n);
    expect(f.send(request({ opcode: Op.IncrementQ, key: 'n', extras: incrExtras(1n, 0n, 0) })).packets).toEqual([]);
    expect(f.send(request({ opcode: Op.DecrementQ, key: 'n', extras: incrExtras(1n, 0n, 0) })).packets).toEqual([]);
    one(f, set('t', 'text'));
    expect(one(f, { opcode: Op.Increment, key: 't', extras: incrExtras(1n, 0n, 0) }).status).toBe(Status.DeltaBadValue);
    const cas = one(f, get('n')).cas;
    expect(one(f, { opcode: Op.Increment, key: 'n', extras: incrExtras(1n, 0n, 0), cas: cas + 1 }).status).toBe(Status.KeyExists);
  });

  it('touch and GAT set a new expiry on the manual clock; Touch returns flags only', () => {
    const f = fake();
    one(f, set('t', 'val', 9, 10));
    const t = one(f, { opcode: Op.Touch, key: 't', extras: u32(100) });
    expect([t.status, t.extLen, t.bodyLen, t.extras.readUInt32BE(0)]).toEqual([0, 4, 4, 9]);
    f.clock.advance(50);
    const g = one(f, { opcode: Op.GatK, key: 't', extras: u32(20) });
    expect([g.key.toString(), g.value.toString()]).toEqual(['t', 'val']);
    f.clock.advance(21);
    expect(one(f, get('t')).status).toBe(Status.KeyNotFound);
    expect(f.send(bytesOf({ opcode: Op.GatQ, key: 't', extras: u32(1) }, { opcode: Op.GatKQ, key: 't', extras: u32(1) })).packets).toEqual([]);
    const m = one(f, { opcode: Op.GatK, key: 't', extras: u32(1) });
    expect([m.status, m.key.toString()]).toEqual([Status.KeyNotFound, 't']);
    expect(one(f, { opcode: Op.Touch, key: 't', extras: u32(1) }).value.toString()).toBe('Not found');
  });

  it('flush, flush with a delay, flushq, and -F refusing flush with the auth error', () => {
    const f = fake();
    one(f, set('a', '1'));
    expect(one(f, { opcode: Op.Flush }).status).toBe(0);
    expect(one(f, get('a')).status).toBe(Status.KeyNotFound);
    f.clock.advance(2);
    one(f, set('a', '1'));
    expect(f.send(request({ opcode: Op.FlushQ, extras: u32(10) })).packets).toEqual([]);
    expect(one(f, get('a')).status).toBe(0);
    f.clock.advance(11);
    expect(one(f, get('a')).status).toBe(Status.KeyNotFound);
    expect(one(fake({ flushEnabled: false }), { opcode: Op.Flush }).status).toBe(Status.AuthError);
  });

  it('version, noop, quit, quitq', () => {
    const f = fake();
    expect(one(f, { opcode: Op.Version }).value.toString()).toMatch(/^1\.6\./);
    expect(one(f, noop(5)).opaque).toBe(5);
    const q = f.send(request({ opcode: Op.Quit }));
    expect([q.packets.length, q.closed]).toEqual([1, true]);
    const qq = fake().send(request({ opcode: Op.QuitQ }));
    expect([qq.packets.length, qq.closed]).toEqual([0, true]);
  });

  it('stat: one packet per stat, an empty-key terminator, groups, and Not found for others', () => {
    const f = fake();
    const general = f.send(request({ opcode: Op.Stat, opaque: 3 })).packets;
    expect(general.length).toBeGreaterThan(20);
    expect(general.every((p) => p.opcode === Op.Stat && p.status === 0 && p.opaque === 3)).toBe(true);
    expect(general.find((p) => p.key.toString() === 'cmd_get')).toBeDefined();
    expect(general.at(-1)!.bodyLen).toBe(0);
    for (const g of ['settings', 'items', 'slabs', 'sizes', 'reset', 'detail on', 'detail dump']) {
      const ps = f.send(request({ opcode: Op.Stat, key: g })).packets;
      expect(ps.at(-1)!.keyLen, g).toBe(0);
    }
    expect(one(f, { opcode: Op.Stat, key: 'conns' }).status).toBe(Status.KeyNotFound);
    expect(f.send(request({ opcode: Op.Stat, key: 'sizes_enable' })).packets.map((p) => p.key.toString())).toEqual(['sizes_status']);
  });

  it('unserved opcodes (Verbosity 0x1b, the R* range) get Unknown command and their body is skipped', () => {
    const f = fake();
    for (const opcode of [0x1b, 0x30, 0x3c, 0x25, 0xff]) expect(one(f, { opcode }).status).toBe(Status.UnknownCommand);
    const r = f.send(bytesOf({ opcode: 0x1b, extras: u32(1), key: 'k', value: 'v' }, noop(8)));
    expect(r.packets.map((p) => [p.status, p.opaque])).toEqual([
      [Status.UnknownCommand, 0],
      [0, 8],
    ]);
  });

  it('malformed headers: the status, then close', () => {
    const cases: Array<[Req, number]> = [
      [{ opcode: Op.Get, key: 'x'.repeat(251) }, Status.InvalidArguments],
      [{ opcode: Op.Get, key: 'abc', bodyLen: 1 }, Status.UnknownCommand],
      [{ opcode: Op.Set, key: 'abc', value: 'v' }, Status.InvalidArguments],
      [{ opcode: Op.GetQ, key: 'a', extras: u32(0) }, Status.InvalidArguments],
      [{ opcode: Op.Increment, key: 'a', extras: u32(0) }, Status.InvalidArguments],
      [{ opcode: Op.Noop, value: 'x' }, Status.InvalidArguments],
    ];
    for (const [r, status] of cases) {
      const got = fake().send(bytesOf(r, noop()));
      expect(got.packets.map((p) => p.status)).toEqual([status]);
      expect(got.closed).toBe(true);
    }
    expect(fake().send(request({ opcode: Op.Get, key: 'a', magic: 0x81 }))).toEqual({ packets: [], closed: true });
  });

  it('a too-large value is refused at once, its bytes skipped as they arrive, and the old value dropped', () => {
    const f = fake({ itemSizeMax: 1024 });
    one(f, set('big', 'old'));
    const wire = bytesOf(set('big', Buffer.alloc(2000, 0x61)), get('big'), noop(1));
    const r = f.feed(splits(wire)[2]![1]);
    expect(parsePackets(r.bytes).packets.map((p) => p.status)).toEqual([Status.TooLarge, Status.KeyNotFound, 0]);
    expect(f.session.wantBytes).toBe(0);
  });

  it('thousands of quiet requests in one write produce only the replies that matter', () => {
    const f = fake();
    const reqs: Req[] = [];
    for (let i = 0; i < 5000; i++) reqs.push(set(`k${i}`, `v${i}`, i, 0, { opcode: Op.SetQ, opaque: i }));
    for (let i = 0; i < 5000; i += 1) reqs.push(get(`k${i * 2}`, Op.GetKQ, { opaque: i }));
    reqs.push(noop(0xabcdef));
    const { packets } = f.send(bytesOf(...reqs));
    expect(packets).toHaveLength(2501);
    expect(packets[0]!.key.toString()).toBe('k0');
    expect(packets.at(-2)!.value.toString()).toBe('v4998');
    expect(packets.at(-1)!.opaque).toBe(0xabcdef);
  });
});

describe('binary input framing', () => {
  const script = bytesOf(
    set('a', 'alpha', 1, 0, { opaque: 1 }),
    { opcode: Op.SetQ, key: 'b', extras: u32(2, 0), value: Buffer.alloc(3000, 0x62) },
    get('a', Op.GetK),
    get('zz', Op.GetQ),
    { opcode: Op.Add, key: 'a', extras: u32(0, 0), value: 'x' },
    { opcode: Op.Replace, key: 'a', extras: u32(0, 0), value: 'y' },
    { opcode: Op.Append, key: 'a', value: '+' },
    { opcode: Op.Prepend, key: 'a', value: '-' },
    { opcode: Op.Increment, key: 'n', extras: incrExtras(1n, 7n, 0) },
    { opcode: Op.Decrement, key: 'n', extras: incrExtras(1n, 7n, 0) },
    { opcode: Op.Touch, key: 'a', extras: u32(50) },
    { opcode: Op.Gat, key: 'b', extras: u32(50) },
    { opcode: Op.GatK, key: 'a', extras: u32(50) },
    { opcode: Op.Delete, key: 'a' },
    { opcode: Op.Version },
    { opcode: Op.Stat, key: 'detail on' },
    { opcode: 0x1b, extras: u32(1) },
    { opcode: Op.SaslListMechs },
    { opcode: Op.Flush },
    get('b', Op.GetK),
    noop(9),
    { opcode: Op.Quit },
  );

  it.each(splits(script, 7))('gives the same replies fed %s', (_name, chunks) => {
    const whole = fake().feed([script]);
    const cut = fake().feed(chunks);
    expect(cut.closed).toBe(true);
    expect(cut.bytes.equals(whole.bytes)).toBe(true);
    const statuses = parsePackets(whole.bytes).packets.map((p) => p.status);
    expect(statuses).toEqual([0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x81, 0x81, 0, 1, 0, 0]);
  });

  it('asks for the whole request in wantBytes while a value is arriving', () => {
    const f = fake();
    const b = request(set('w', Buffer.alloc(10_000)));
    f.feed([b.subarray(0, 100)]);
    expect(f.session.wantBytes).toBe(b.length);
  });
});

describe('binary SASL PLAIN (-S with a -Y credentials file)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcsasl-'));
  const file = path.join(dir, 'auth');
  fs.writeFileSync(file, 'alice:wonder land\r\nbob:b:colon\n');
  const plain = (u: string, p: string, authz = ''): Buffer => Buffer.from(`${authz}\0${u}\0${p}`);

  it('refuses work before authentication with 0x20 and closes; Version and SASL are allowed', () => {
    const f = fake({ sasl: true, authFile: file });
    expect(one(f, { opcode: Op.Version }).status).toBe(0);
    expect(one(f, { opcode: Op.SaslListMechs }).value.toString()).toBe('PLAIN');
    const r = f.send(bytesOf(get('a'), noop()));
    expect([r.packets.map((p) => p.status), r.closed]).toEqual([[Status.AuthError], true]);
  });

  it('authenticates PLAIN, with wrong credentials refused without closing', () => {
    const f = fake({ sasl: true, authFile: file });
    const bad = one(f, { opcode: Op.SaslAuth, key: 'PLAIN', value: plain('alice', 'wrong') });
    expect([bad.status, bad.value.toString()]).toEqual([Status.AuthError, 'Auth failure.']);
    expect(one(f, { opcode: Op.SaslAuth, key: 'CRAM-MD5', value: 'x' }).status).toBe(Status.AuthError);
    const ok = one(f, { opcode: Op.SaslAuth, key: 'PLAIN', value: plain('alice', 'wonder land') });
    expect([ok.status, ok.value.toString()]).toEqual([0, 'Authenticated']);
    expect(one(f, set('a', '1')).status).toBe(0);
    expect(f.cache.stats.auth_cmds).toBe(3);
    expect(f.cache.stats.auth_errors).toBe(2);
  });

  it('PLAIN without an initial response continues (0x21) and takes the credentials in a step', () => {
    const f = fake({ sasl: true, authFile: file });
    expect(one(f, { opcode: Op.SaslStep, key: 'PLAIN', value: plain('bob', 'b:colon') }).status).toBe(Status.AuthError);
    expect(one(f, { opcode: Op.SaslAuth, key: 'PLAIN' }).status).toBe(Status.AuthContinue);
    expect(one(f, { opcode: Op.SaslStep, key: 'PLAIN', value: plain('bob', 'b:colon', 'bob') }).status).toBe(0);
    expect(one(f, get('x')).status).toBe(Status.KeyNotFound);
  });

  it('a mechanism name over 32 bytes is Invalid arguments, its data skipped, the connection kept', () => {
    const f = fake({ sasl: true, authFile: file });
    const r = f.send(bytesOf({ opcode: Op.SaslAuth, key: 'M'.repeat(33), value: 'data' }, { opcode: Op.Version }));
    expect([r.packets.map((p) => p.status), r.closed]).toEqual([[Status.InvalidArguments, 0], false]);
  });

  it('without -S the SASL opcodes are unknown commands', () => {
    const f = fake();
    expect(one(f, { opcode: Op.SaslListMechs }).status).toBe(Status.UnknownCommand);
    expect(one(f, { opcode: Op.SaslAuth, key: 'PLAIN', value: plain('alice', 'wonder land') }).status).toBe(Status.UnknownCommand);
  });

  it('matches credential lines exactly (user and whole password, CR ignored)', () => {
    const text = Buffer.from('a:1\nab:22\r\nc:\n');
    const m = (u: string, p: string): boolean => credentialsMatch(text, Buffer.from(u), Buffer.from(p));
    expect([m('a', '1'), m('ab', '22'), m('a', '22'), m('ab', '2'), m('c', ''), m('', '1')]).toEqual([true, true, false, false, true, false]);
  });
});
