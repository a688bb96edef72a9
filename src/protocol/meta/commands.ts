// memcached's meta commands (mg, ms, md, ma, mn, me), dispatched from the text protocol.
import type { Handler } from '../text/handler.js';

const MN = Buffer.from('MN\r\n', 'latin1');

/** `mn`: a no-op whose reply marks the end of a pipeline of quiet meta commands. */
const mn: Handler = (s, _buf, _t, next) => {
  s.out.raw(MN);
  return next;
};

export const metaHandlers: Array<[string, Handler]> = [['mn', mn]];
