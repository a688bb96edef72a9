#!/usr/bin/env node
// Entry point: the only place that calls process.exit. The CLI returns an exit code.
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exit(code);
  },
  (err) => {
    process.stderr.write(`memcached-ts: fatal: ${err && err.stack ? err.stack : err}\n`);
    process.exit(70);
  },
);
