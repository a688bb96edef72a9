// The Stat opcode: one response packet per statistic (key = name, value = text) and a
// packet with an empty key to end the list, with the groups memcached 1.6.18 serves over
// binary (process_bin_stat(), get_stats()). There is no `conns` group in binary.
import { bytesEqual, bytesStartWith } from '../types.js';
import { generalStats, itemsStats, sizesStats, slabsStats, type StatLines } from '../stats-report.js';
import { writeResponseHeader } from './header.js';
import { HEADER_LEN, Op, Status } from './opcodes.js';
import type { BinaryState } from './state.js';

function packet(s: BinaryState, key: string, value: string): void {
  const kl = Buffer.byteLength(key, 'latin1');
  const vl = Buffer.byteLength(value, 'latin1');
  const out = s.out;
  const b = out.ensure(HEADER_LEN + kl + vl);
  out.pos = writeResponseHeader(b, out.pos, Op.Stat, Status.Success, 0, kl, kl + vl, s.req.opaque, 0);
  out.pos += b.write(key, out.pos, 'latin1');
  out.pos += b.write(value, out.pos, 'latin1');
}

function send(s: BinaryState, lines: StatLines, terminate = true): void {
  for (const [k, v] of lines) packet(s, k, v);
  if (terminate) packet(s, '', '');
}

/** Stat with the group named by the key at buf[keyOff, keyOff+klen) (empty = general). */
export function stat(s: BinaryState, buf: Buffer, keyOff: number, klen: number): void {
  const { cache, config, server } = s.ctx;
  if (klen === 0) {
    send(s, generalStats(cache, config, server));
    return;
  }
  // memcached matches these three by prefix (strncmp), the get_stats groups exactly
  if (bytesStartWith(buf, keyOff, klen, 'reset')) {
    cache.resetStats();
    server.resetStats();
    send(s, []);
    return;
  }
  if (bytesStartWith(buf, keyOff, klen, 'settings')) {
    send(s, server.settingsStats());
    return;
  }
  if (bytesStartWith(buf, keyOff, klen, 'detail')) {
    const sub = keyOff + 6;
    const subLen = klen - 6;
    if (bytesStartWith(buf, sub, subLen, ' dump')) {
      send(s, [['detailed', cache.detailDump()]]);
    } else if (bytesStartWith(buf, sub, subLen, ' on') || bytesStartWith(buf, sub, subLen, ' off')) {
      cache.setDetail(bytesStartWith(buf, sub, subLen, ' on'));
      send(s, []);
    } else {
      s.error(Status.KeyNotFound);
    }
    return;
  }
  if (bytesEqual(buf, keyOff, klen, 'items')) send(s, itemsStats(cache));
  else if (bytesEqual(buf, keyOff, klen, 'slabs')) send(s, slabsStats(cache));
  else if (bytesEqual(buf, keyOff, klen, 'sizes')) send(s, sizesStats(cache, config));
  else if (bytesEqual(buf, keyOff, klen, 'sizes_enable')) {
    // memcached sends these two groups without the terminating packet
    if (!cache.options.useCas) {
      send(s, [['sizes_status', 'error'], ['sizes_error', 'cas_support_disabled']], false);
    } else {
      config.trackSizes = true;
      send(s, [['sizes_status', 'enabled']], false);
    }
  } else if (bytesEqual(buf, keyOff, klen, 'sizes_disable')) {
    config.trackSizes = false;
    send(s, [['sizes_status', 'disabled']], false);
  } else s.error(Status.KeyNotFound);
}
