// Text-protocol authentication with -Y (memcached 1.6.18's try_read_command_asciiauth()):
// until a client authenticates, its only useful command is `set <any> <any> <any> <n>`
// followed by n bytes of `user pass` and CRLF. Everything else gets
// `CLIENT_ERROR unauthenticated`. Credentials come from the same file as binary SASL.
// Unlike memcached, the AUTH_FAILURE_LIMIT-th wrong password closes the connection.
import { AUTH_FAILURE_LIMIT, checkCredentials } from '../auth-file.js';
import { CLOSE } from '../types.js';
import { LINE_LIMIT, type TextState } from './handler.js';
import { R } from './replies.js';
import { Tokens } from './tokens.js';

const UNAUTHENTICATED = Buffer.from('CLIENT_ERROR unauthenticated\r\n', 'latin1');
const FAILURE = Buffer.from('CLIENT_ERROR authentication failure\r\n', 'latin1');
const BAD_TOKEN = Buffer.from('CLIENT_ERROR bad authentication token format\r\n', 'latin1');
const BAD_TERMINATION = Buffer.from('CLIENT_ERROR bad command line termination\r\n', 'latin1');

/**
 * memcached reads the token into its 16 KiB read buffer and drops the connection when it
 * does not fit; here a larger announced size closes at once, before any bytes are held.
 */
const TOKEN_LIMIT = 16 * 1024;

export class AsciiAuth {
  readonly #authFile: string;
  readonly #tokens = new Tokens();
  authenticated = false;
  /** Bytes of `user pass\r\n` awaited after the set line; -1 while waiting for the line. */
  #need = -1;
  /** Wrong credentials so far; AUTH_FAILURE_LIMIT of them close the connection. */
  #failures = 0;

  constructor(authFile: string) {
    this.#authFile = authFile;
  }

  /**
   * Handle auth requests from buf[pos, end); returns the offset reached (stopping once the
   * client is authenticated, or when more bytes are needed) or CLOSE.
   */
  consume(s: TextState, buf: Buffer, pos: number, end: number): number {
    while (!this.authenticated && pos < end) {
      if (s.out.full) break;
      if (this.#need < 0) {
        // "impossible for the auth command to be this short"
        if (end - pos < 2) break;
        const nl = buf.indexOf(10, pos);
        if (nl < 0 || nl >= end) {
          // as for any command line: no newline within LINE_LIMIT bytes closes
          if (end - pos > LINE_LIMIT) return CLOSE;
          break;
        }
        let el = nl;
        if (el > pos && buf[el - 1] === 13) el--;
        const t = this.#tokens;
        t.tokenize(buf, pos, el);
        pos = nl + 1;
        const size = t.ntokens >= 6 && t.is(buf, 0, 'set') ? strtoul32(buf, t.start[4]!, t.len[4]!) : null;
        if (size === null) {
          s.out.raw(UNAUTHENTICATED);
          continue;
        }
        // C arithmetic: a uint32 size plus two
        this.#need = (size + 2) >>> 0;
        if (this.#need > TOKEN_LIMIT) return CLOSE;
      }
      if (end - pos < this.#need) {
        s.wantBytes = this.#need;
        break;
      }
      const need = this.#need;
      this.#need = -1;
      const token = pos;
      pos += need;
      if (need < 2 || buf[token + need - 2] !== 13 || buf[token + need - 1] !== 10) {
        s.out.raw(BAD_TERMINATION);
        continue;
      }
      const t = this.#tokens;
      t.tokenize(buf, token, token + need - 2);
      if (t.ntokens < 3) {
        s.out.raw(BAD_TOKEN);
        continue;
      }
      const user = buf.subarray(t.start[0]!, t.start[0]! + t.len[0]!);
      const pass = buf.subarray(t.start[1]!, t.start[1]! + t.len[1]!);
      const ok = checkCredentials(this.#authFile, user, pass);
      s.ctx.cache.countAuth(!ok);
      if (ok) {
        this.authenticated = true;
        s.out.raw(R.STORED);
      } else {
        s.out.raw(FAILURE);
        if (++this.#failures >= AUTH_FAILURE_LIMIT) return CLOSE;
      }
    }
    return pos;
  }
}

/**
 * memcached's safe_strtoul() on a whole token: decimal, an optional sign, below 2^64;
 * a negative value is refused; the result is kept modulo 2^32 as the C code stores it.
 */
function strtoul32(buf: Buffer, start: number, len: number): number | null {
  let i = start;
  const end = start + len;
  let negative = false;
  if (i < end && (buf[i] === 0x2b || buf[i] === 0x2d)) negative = buf[i++] === 0x2d;
  if (i === end) return null;
  let n = 0n;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) return null;
    n = n * 10n + BigInt(c - 0x30);
    if (n >= 1n << 64n) return null;
  }
  if (negative && n !== 0n) return null;
  return Number(n & 0xffffffffn);
}
