// THE list of intended differences between memcached-ts and memcached 1.6.18 on the text protocol.
// differences.md explains each entry; cases refer to entries by id, and the normaliser implements
// the "normalised" ones. Add an entry here (and to differences.md) before expecting a new difference.

export interface Difference {
  readonly summary: string;
  /** How the suite deals with it: by normalising both replies, or by a per-case expectation. */
  readonly handling: 'normalised' | 'expected-reply';
}

export const DIFFERENCES = {
  'cas-values': {
    summary: 'CAS numbers come from a different counter; only their equality pattern is compared',
    handling: 'normalised',
  },
  'stat-values': {
    summary: 'stats values (pid, time, memory, slab geometry…) differ; stats cases compare names and order',
    handling: 'normalised',
  },
  'memory-capacity': {
    summary: 'how many items fit in -m before -M refuses depends on per-item overhead',
    handling: 'normalised',
  },
  'multiget-line-bound': {
    summary: 'a get/gets line longer than 1 MiB without a newline closes the connection (memcached: unbounded)',
    handling: 'expected-reply',
  },
} as const satisfies Record<string, Difference>;

export type DifferenceId = keyof typeof DIFFERENCES;

/** What memcached-ts is expected to send instead of memcached's reply, for an `expected-reply` entry. */
export interface ExpectedDifference {
  readonly id: DifferenceId;
  /** The normalised reply memcached-ts must send (sentinel included, if it gets that far). */
  readonly oursReply: string;
  /** Whether memcached-ts closes the connection. */
  readonly oursCloses: boolean;
}
