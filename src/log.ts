// One-line log messages to stderr, filtered by the -v level (0: warnings and errors only).

export interface Logger {
  /** Always printed: problems an operator must see. */
  warn(msg: string): void;
  /** Printed with -v and above. */
  info(msg: string): void;
  /** Printed with -vv and above. */
  debug(msg: string): void;
}

export function stderrLogger(verbosity: () => number): Logger {
  const write = (msg: string): void => {
    process.stderr.write(`${msg}\n`);
  };
  return {
    warn: write,
    info: (m) => {
      if (verbosity() >= 1) write(m);
    },
    debug: (m) => {
      if (verbosity() >= 2) write(m);
    },
  };
}

export const silentLogger: Logger = { warn: () => {}, info: () => {}, debug: () => {} };
