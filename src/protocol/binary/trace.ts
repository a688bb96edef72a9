// memcached's -vv lines for the binary protocol (proto_bin.c): the request header as hex, a
// line naming the command, the response header as hex, and the text of each error sent.
// Only called at verbosity 2 and above.
import { trace } from '../../logging/trace.js';
import { readU32, readU64Big } from './header.js';
import { HEADER_LEN, Op } from './opcodes.js';

function hexLines(prefix: string, b: Buffer, at: number): string[] {
  const lines: string[] = [];
  for (let row = 0; row < HEADER_LEN; row += 4) {
    let s = prefix;
    for (let i = 0; i < 4; i++) s += ` 0x${b[at + row + i]!.toString(16).padStart(2, '0')}`;
    lines.push(s);
  }
  return lines;
}

/** The 24 request header bytes at `pos`, as they came (before byte-order conversion). */
export function traceRequestHeader(fd: number, buf: Buffer, pos: number): void {
  trace(`<${fd} Read binary protocol data:`);
  for (const l of hexLines(`<${fd}   `, buf, pos)) trace(l);
}

/**
 * The response header just written at b[at, at + 24). memcached fills in a get's or touch's CAS
 * after it has printed the header, so for those (loud opcode `cmd`) the printed CAS is 0.
 */
export function traceResponseHeader(fd: number, cmd: number, b: Buffer, at: number): void {
  trace(`>${fd} Writing bin response:`);
  let h = b;
  let o = at;
  if (cmd === Op.Get || cmd === Op.GetK || cmd === Op.Touch || cmd === Op.Gat || cmd === Op.GatK) {
    h = Buffer.from(b.subarray(at, at + HEADER_LEN));
    h.fill(0, 16, 24);
    o = 0;
  }
  for (const l of hexLines(`>${fd}  `, h, o)) trace(l);
}

export function traceError(fd: number, text: Buffer): void {
  trace(`>${fd} Writing an error: ${text.toString('latin1')}`);
}

/** The line memcached prints for the command (loud opcode `cmd`) of the request at `pos`. */
export function traceCommand(fd: number, cmd: number, buf: Buffer, pos: number, extLen: number, keyLen: number, bodyLen: number): void {
  const e = pos + HEADER_LEN;
  const key = buf.toString('latin1', e + extLen, e + extLen + keyLen);
  const vlen = bodyLen - keyLen - extLen;
  switch (cmd) {
    case Op.Set:
      trace(`<${fd} SET ${key} Value len is ${vlen}`);
      return;
    case Op.Add:
      trace(`<${fd} ADD ${key} Value len is ${vlen}`);
      return;
    case Op.Replace:
      trace(`<${fd} REPLACE ${key} Value len is ${vlen}`);
      return;
    case Op.Append:
    case Op.Prepend:
      trace(`Value len is ${vlen}`);
      return;
    case Op.Get:
    case Op.GetK:
      trace(`<${fd} GET ${key}`);
      return;
    case Op.Touch:
    case Op.Gat:
    case Op.GatK:
      trace(`<${fd} TOUCH ${key}`);
      return;
    case Op.Delete:
      trace(`Deleting ${key}`);
      return;
    case Op.Increment:
    case Op.Decrement:
      // memcached says incr for both
      if (extLen === 20) trace(`incr ${key} ${readU64Big(buf, e)}, ${readU64Big(buf, e + 8)}, ${readU32(buf, e + 16) | 0}`);
      return;
    case Op.Stat:
      trace(`<${fd} STATS ${key}`);
      return;
    default:
      return;
  }
}
