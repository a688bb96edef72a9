// Splits a request line into space-separated tokens the way memcached's tokenize_command()
// does: offsets into the read buffer (no copies), at most 23 tokens plus a terminal that
// marks whether the line had more. A NUL byte ends the line, as C string handling does.

export const MAX_TOKENS = 24;

export class Tokens {
  readonly start = new Int32Array(MAX_TOKENS);
  readonly len = new Int32Array(MAX_TOKENS);
  /** memcached's ntokens: real tokens plus the terminal one. */
  ntokens = 0;
  /** Offset of the untokenized rest of the line, or -1 when the whole line was read. */
  rest = -1;
  /** Effective end of the line (first NUL or the line end). */
  end = 0;

  tokenize(buf: Uint8Array, from: number, to: number): void {
    let n = 0;
    let s = from;
    let e = from;
    this.rest = -1;
    let lineEnd = to;
    for (; e < lineEnd; e++) {
      const c = buf[e]!;
      if (c === 0x20) {
        if (s !== e) {
          this.start[n] = s;
          this.len[n] = e - s;
          n++;
          if (n === MAX_TOKENS - 1) {
            e++;
            s = e;
            break;
          }
        }
        s = e + 1;
      } else if (c === 0) {
        lineEnd = e;
        break;
      }
    }
    if (s < e && e <= lineEnd) {
      this.start[n] = s;
      this.len[n] = e - s;
      n++;
    }
    if (e < lineEnd) {
      this.rest = e;
      // the line stops at its first NUL even past the tokens, as memcached's C string does
      // (searched within the line only: a search to the buffer's end would cover every later
      // pipelined line again)
      const nul = buf.subarray(e, lineEnd).indexOf(0);
      if (nul >= 0) lineEnd = e + nul;
    }
    this.start[n] = e;
    this.len[n] = 0;
    this.ntokens = n + 1;
    this.end = lineEnd;
  }

  /** Token i equals the ASCII string s. */
  is(buf: Uint8Array, i: number, s: string): boolean {
    const len = this.len[i]!;
    if (len !== s.length) return false;
    const st = this.start[i]!;
    for (let k = 0; k < len; k++) if (buf[st + k] !== s.charCodeAt(k)) return false;
    return true;
  }

  /** Token i begins with the ASCII string s. */
  startsWith(buf: Uint8Array, i: number, s: string): boolean {
    const len = this.len[i]!;
    if (len < s.length) return false;
    const st = this.start[i]!;
    for (let k = 0; k < s.length; k++) if (buf[st + k] !== s.charCodeAt(k)) return false;
    return true;
  }

  text(buf: Buffer, i: number): string {
    const st = this.start[i]!;
    return buf.toString('latin1', st, st + this.len[i]!);
  }
}
