// The CAS counter: every modification gives an item the next number (0 for all with -C).
// Numbers stay below 2^53 so they are exact in a JS number.

export class CasSequence {
  #cas = 0;
  readonly #enabled: boolean;

  constructor(enabled: boolean) {
    this.#enabled = enabled;
  }

  next(): number {
    return this.#enabled ? ++this.#cas : 0;
  }
  get current(): number {
    return this.#cas;
  }
  get enabled(): boolean {
    return this.#enabled;
  }
  /** Continue the sequence above `cas` (snapshot and journal load). */
  raise(cas: number): void {
    if (cas > this.#cas) this.#cas = cas;
  }
}
