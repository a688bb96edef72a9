// A one-line progress bar on stderr, drawn only when stderr is a terminal
// (so logs and CI output stay clean). Redrawn at most every 100 ms.

export class ProgressBar {
  private readonly enabled: boolean;
  private lastDraw = 0;
  private drawn = false;
  prefix = '';

  constructor(private readonly width = 28) {
    this.enabled = process.stderr.isTTY === true && process.env.NO_PROGRESS === undefined;
  }

  update(fraction: number, text: string): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const f = Math.max(0, Math.min(1, fraction));
    const full = Math.round(f * this.width);
    const bar = '#'.repeat(full) + '-'.repeat(this.width - full);
    const cols = process.stderr.columns || 100;
    const line = `${this.prefix}[${bar}] ${(f * 100).toFixed(0).padStart(3)}% ${text}`;
    process.stderr.write(`\r\x1b[K${line.slice(0, cols - 1)}`);
    this.drawn = true;
  }

  clear(): void {
    if (this.enabled && this.drawn) process.stderr.write('\r\x1b[K');
    this.drawn = false;
    this.lastDraw = 0;
  }

  /** Print a line above the bar. */
  log(line: string): void {
    this.clear();
    process.stderr.write(line + '\n');
  }
}
