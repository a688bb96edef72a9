// memcached's meta commands (mg, ms, md, ma, mn, me), dispatched from the text protocol's
// verb table. protocol.txt, "Meta Commands"; replies as memcached 1.6.18.
import type { Handler } from '../handler.js';
import { ma } from './meta-arithmetic.js';
import { me } from './meta-debug.js';
import { md } from './meta-delete.js';
import { mg } from './meta-get.js';
import { ms } from './meta-set.js';

const MN = Buffer.from('MN\r\n', 'latin1');

/**
 * `mn`: a no-op whose reply marks the end of a pipeline of quiet meta commands. Any tokens
 * after it are ignored. (memcached also flushes its output here; ours leaves with every
 * batch of input anyway.)
 */
const mn: Handler = (s, _buf, _t, next) => {
  s.out.raw(MN);
  return next;
};

export const metaHandlers: Array<[string, Handler]> = [
  ['mg', mg],
  ['ms', ms],
  ['md', md],
  ['ma', ma],
  ['mn', mn],
  ['me', me],
];
