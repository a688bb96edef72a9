// The child process of isolated-parse.ts: parses the command line it is given and writes the
// ParseResult to stdout in V8's serialization format, then exits.
import fs from 'node:fs';
import v8 from 'node:v8';
import { parseArgs } from './parse-args.js';

fs.writeSync(1, v8.serialize(parseArgs(process.argv.slice(2))));
