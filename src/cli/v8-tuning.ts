// V8 settings for a long-running daemon, set by bin/memcached-ts.js before the daemon starts.
//
// Maglev, the compiler between V8's baseline tier and TurboFan (built into Node 24 and on by
// default there; Node 20 and 22 are built without it, so there the flag changes nothing),
// makes code fast sooner after start-up. A daemon runs for days, its hot paths end in TurboFan
// either way, and Maglev's code and compile-time memory stay with the process: with 1,000,000
// items loaded, Node 24.21 held 232.3 MiB of RSS with Maglev and 225.3 with this setting (1.20x
// and 1.17x of memcached's), and saturated throughput did not move beyond the run-to-run spread
// (bench/RESULTS-memory.md, "Maglev off"). So the daemon turns it off, unless the operator
// named a Maglev flag on node's command line (`node --maglev bin/memcached-ts.js` keeps it).
import v8 from 'node:v8';

/** The flags to set, given node's own command-line flags (process.execArgv). */
export function v8FlagsFor(execArgv: readonly string[]): string[] {
  const named = execArgv.some((a) => /^--(no-)?maglev(=|$)/.test(a));
  return named ? [] : ['--no-maglev'];
}

/** Set them in this process; V8 reads them when it next decides which compiler to use. */
export function tuneV8(): void {
  for (const flag of v8FlagsFor(process.execArgv)) v8.setFlagsFromString(flag);
}
