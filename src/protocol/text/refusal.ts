// While the journal cannot write, changes are refused: the text protocols answer a command
// that would change the cache with a SERVER_ERROR that says why (the server's own fault, not
// the client's), and change nothing. Reads go on.
import type { TextState } from './handler.js';

/** True (and the error sent, unless noreply) when changes are refused right now. */
export function refusesWrites(s: TextState): boolean {
  const reason = s.ctx.cache.writeRefusal;
  if (reason === null) return false;
  s.replyText(`SERVER_ERROR ${reason}; writes are refused until it works again`);
  return true;
}
