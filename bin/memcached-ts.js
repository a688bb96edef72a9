#!/usr/bin/env node
// Entry point: the only place that calls process.exit. The CLI returns an exit code.
import { reexecWithMallocTuning } from '../dist/bundle/malloc-tuning.js';
import { tuneV8 } from '../dist/bundle/v8-tuning.js';

// returns unless the process is replaced by itself with malloc tuned (see that file)
reexecWithMallocTuning();
// Maglev off unless node's command line names it (see src/cli/v8-tuning.ts)
tuneV8();
const { main } = await import('../dist/bundle/main.js');

main(process.argv.slice(2)).then(
  (code) => {
    process.exit(code);
  },
  (err) => {
    process.stderr.write(`memcached-ts: fatal: ${err && err.stack ? err.stack : err}\n`);
    process.exit(70);
  },
);
