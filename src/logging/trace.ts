// memcached's -vv lines (`<FD command`, `>FD reply`, connection notes) on stderr. Callers test
// the verbosity before they build a line; the lines of one event-loop turn leave in one write
// at the end of the turn, in the order they were made.

let pending: string[] = [];
let scheduled = false;
let sink: (text: string) => void = (text) => {
  process.stderr.write(text);
};

function flush(): void {
  scheduled = false;
  const text = pending.join('');
  pending = [];
  sink(text);
}

/** One line (no newline in `s`). */
export function trace(s: string): void {
  pending.push(s, '\n');
  if (!scheduled) {
    scheduled = true;
    queueMicrotask(flush);
  }
}

/** Send the lines somewhere else than stderr (tests); returns the previous destination. */
export function setTraceSink(next: (text: string) => void): (text: string) => void {
  const prev = sink;
  sink = next;
  return prev;
}
