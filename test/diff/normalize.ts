// Rewrites the parts of a text-protocol reply that must differ between two servers (CAS numbers,
// version strings, stats values) so the rest can be compared byte for byte. Nothing else is touched.

export interface NormaliseOptions {
  /** Replace the value of every `STAT <name> <value>` line with `*` (stats cases only). */
  readonly statValues?: boolean;
  /** Keep one line of each run of identical reply lines (capacity cases, see differences.md). */
  readonly collapseRepeats?: boolean;
}

const VALUE_LINE = /^VALUE (\S+) (\d+) (\d+)(?: (\d+))?$/;
const VERSION_LINE = /^VERSION .*$/;
const STAT_LINE = /^STAT (\S+) .*$/;

/**
 * Walks the reply line by line, skipping over value data blocks (so data is never rewritten), and:
 * - maps each distinct non-zero CAS in a `VALUE` line to c1, c2… in order of first appearance
 *   (0 is kept: with -C both servers must send 0);
 * - replaces the text after `VERSION ` with `<version>` (both report 1.6.18, but the reference
 *   memcached installed may be another 1.6 release);
 * - with `statValues`, replaces STAT values with `*`;
 * - with `collapseRepeats`, keeps one line of each run of identical lines.
 */
export function normaliseReply(reply: Buffer, opts: NormaliseOptions = {}): Buffer {
  const out: Buffer[] = [];
  const casNames = new Map<string, string>();
  let pos = 0;
  let previousLine: string | null = null;
  while (pos < reply.length) {
    const nl = reply.indexOf(0x0a, pos);
    if (nl < 0) {
      out.push(reply.subarray(pos)); // a trailing partial line: keep as is
      break;
    }
    const hasCr = nl > pos && reply[nl - 1] === 0x0d;
    const line = reply.subarray(pos, hasCr ? nl - 1 : nl).toString('latin1');
    const ending = hasCr ? '\r\n' : '\n';
    pos = nl + 1;

    let text = line;
    let dataBytes = -1;
    const value = VALUE_LINE.exec(line);
    if (value) {
      const [, key, flags, bytes, cas] = value;
      dataBytes = Number(bytes);
      if (cas !== undefined && cas !== '0') {
        let name = casNames.get(cas);
        if (name === undefined) {
          name = `c${casNames.size + 1}`;
          casNames.set(cas, name);
        }
        text = `VALUE ${key} ${flags} ${bytes} ${name}`;
      }
    } else if (VERSION_LINE.test(line)) {
      text = 'VERSION <version>';
    } else if (opts.statValues) {
      const stat = STAT_LINE.exec(line);
      if (stat) text = `STAT ${stat[1]} *`;
    }

    const rendered = text + ending;
    if (opts.collapseRepeats && dataBytes < 0 && rendered === previousLine) continue;
    out.push(Buffer.from(rendered, 'latin1'));
    previousLine = rendered;

    if (dataBytes >= 0) {
      // The data block and its \r\n are copied verbatim (or whatever arrived of them).
      const end = Math.min(reply.length, pos + dataBytes + 2);
      out.push(reply.subarray(pos, end));
      pos = end;
      previousLine = null;
    }
  }
  return Buffer.concat(out);
}
