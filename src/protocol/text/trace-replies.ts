// memcached's -vv lines for the text protocol: `<FD line` for each command and `>FD reply` for
// the replies memcached writes through out_string() (status lines, `sending key K` per value
// sent, END). Replies memcached streams or builds elsewhere (stats, dumps, meta results) get
// no line, as there. Only called at verbosity 2 and above.
import { trace } from '../../logging/trace.js';
import type { Output } from '../output.js';

const SILENT_HEADS = ['STAT ', 'key=', 'ITEM ', 'PREFIX '];
const META_SHOWN = /^(MN|ERROR|CLIENT_ERROR|SERVER_ERROR)/;

function startsWith(b: Buffer, at: number, end: number, word: string): boolean {
  if (end - at < word.length) return false;
  for (let i = 0; i < word.length; i++) if (b[at + i] !== word.charCodeAt(i)) return false;
  return true;
}

/** The command line, as memcached prints it before running it. */
export function traceCommand(fd: number, buf: Buffer, start: number, end: number): void {
  trace(`<${fd} ${buf.toString('latin1', start, end)}`);
}

/** The reply bytes a command appended to `out` since `mark` (from out.mark()). */
export function traceReplies(fd: number, out: Output, mark: number, meta: boolean): void {
  const len = out.mark() - mark;
  if (len <= 0) return;
  // one piece unless a value went out from its chunks (Output#pinValue)
  const inArena = out.hasParts ? null : out.buf;
  const b = inArena ?? out.bytesSince(mark);
  const end = inArena !== null ? out.pos : b.length;
  let p = end - len;
  for (const head of SILENT_HEADS) if (startsWith(b, p, end, head)) return;
  while (p < end) {
    let nl = b.indexOf(10, p);
    if (nl < 0 || nl >= end) nl = end;
    const lineEnd = nl > p && b[nl - 1] === 13 ? nl - 1 : nl;
    const line = b.toString('latin1', p, lineEnd);
    p = nl + 1;
    if (meta) {
      // meta replies are not written by out_string, except MN and the errors
      if (META_SHOWN.test(line)) trace(`>${fd} ${line}`);
      return;
    }
    if (line.startsWith('VALUE ')) {
      const parts = line.split(' ');
      trace(`>${fd} sending key ${parts[1] ?? ''}`);
      p += Number(parts[3] ?? 0) + 2;
      continue;
    }
    trace(`>${fd} ${line}`);
  }
}

/** A reply noreply held back: memcached still names it. */
export function traceNoreply(fd: number, line: string): void {
  trace(`>${fd} NOREPLY ${line}`);
}
