// The JSON-lines front's counters, shared by its sessions and shown by `stats` (through the
// daemon's extra stats lines).

export class JsonlStats {
  /** Requests handled (both forms, errors included). */
  commands = 0;
  /** Requests answered with an error. */
  errors = 0;
  /** Outermost transactions opened, committed, rolled back (by ROLLBACK or by disconnecting). */
  txStarted = 0;
  txCommitted = 0;
  txRolledBack = 0;
  /** Outermost COMMITs refused because another client changed a key the transaction used. */
  txConflicts = 0;
  /** Transactions rolled back because their connection closed (also in txRolledBack). */
  txDisconnected = 0;
  /** Transactions open right now. */
  txOpen = 0;

  lines(): Array<[string, string]> {
    return [
      ['jsonl_commands', String(this.commands)],
      ['jsonl_errors', String(this.errors)],
      ['jsonl_tx_started', String(this.txStarted)],
      ['jsonl_tx_committed', String(this.txCommitted)],
      ['jsonl_tx_rolled_back', String(this.txRolledBack)],
      ['jsonl_tx_conflicts', String(this.txConflicts)],
      ['jsonl_tx_disconnected', String(this.txDisconnected)],
      ['jsonl_tx_open', String(this.txOpen)],
    ];
  }
}
