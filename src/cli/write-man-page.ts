// Rewrites man/memcached-ts.1 from the option table (`npm run man`, run from the package root).
import { writeFileSync } from 'node:fs';
import { renderManPage } from './man-page.js';

const target = process.argv[2] ?? 'man/memcached-ts.1';
writeFileSync(target, renderManPage());
process.stdout.write(`wrote ${target}\n`);
