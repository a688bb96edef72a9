// The kinds of event a `watch` client can ask for, as memcached 1.6.18's logger.h numbers them,
// and the words of the `watch` command that select them (proto_text.c process_watch_command).

export const SYSEVENTS = 1 << 1;
export const FETCHERS = 1 << 2;
export const MUTATIONS = 1 << 3;
export const CONNEVENTS = 1 << 5;
export const EVICTIONS = 1 << 6;
export const RAWCMDS = 1 << 9;
export const PROXYREQS = 1 << 10;
export const PROXYEVENTS = 1 << 11;
export const PROXYUSER = 1 << 12;

/**
 * `watch` arguments. rawcmds and the proxy kinds are accepted as memcached accepts them, and
 * produce nothing here, as in a memcached built without the proxy (1.6.18 logs no raw commands).
 */
const WORDS: ReadonlyMap<string, number> = new Map([
  ['rawcmds', RAWCMDS],
  ['evictions', EVICTIONS],
  ['fetchers', FETCHERS],
  ['mutations', MUTATIONS],
  ['sysevents', SYSEVENTS],
  ['connevents', CONNEVENTS],
  ['proxyreqs', PROXYREQS],
  ['proxyevents', PROXYEVENTS],
  ['proxyuser', PROXYUSER],
]);

/** The flags `watch w1 w2 ...` asks for: fetchers alone with no word, -1 for an unknown word. */
export function watchFlags(words: readonly string[]): number {
  if (words.length === 0) return FETCHERS;
  let f = 0;
  for (const w of words) {
    const bit = WORDS.get(w);
    if (bit === undefined) return -1;
    f |= bit;
  }
  return f;
}
