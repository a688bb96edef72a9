// While the journal cannot write, changes are refused: the text protocols answer a command
// that would change the cache with a SERVER_ERROR that says why (the server's own fault, not
// the client's), and change nothing. Reads go on.
import { refusalMessage } from '../types.js';
import type { TextState } from './handler.js';

/** True (and the error sent, unless noreply) when changes are refused right now. */
export function refusesWrites(s: TextState): boolean {
  const reason = s.ctx.cache.writeRefusal;
  if (reason === null) return false;
  s.replyText(refusalLine(reason));
  return true;
}

/** The text protocols' error line for a refused change. */
export function refusalLine(reason: string): string {
  return `SERVER_ERROR ${refusalMessage(reason)}`;
}
