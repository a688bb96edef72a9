// What the daemon loads at start-up stays in its memory for good (bench/RESULTS-memory.md), so
// the modules reachable through static imports from the entry points must not include the
// ones kept out on purpose: yargs (the command line is parsed in a short-lived child) and
// node:http (imported only with --http-port). One value import of parse-args.ts from main.ts
// brought yargs back once and cost 5 MiB of idle RSS; this walks the import graph of src/, and
// that of dist/bundle, which is what bin/memcached-ts.js runs (esbuild can hoist a lazily
// imported module into a shared chunk that the entry imports statically).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/daemon-process.js';

const SRC = path.join(REPO_ROOT, 'src');
const BUNDLE = path.join(REPO_ROOT, 'dist', 'bundle');

/** Static value imports of a source file: `import type` and `import(...)` left out. */
function staticImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  const re = /^(?:import|export)\s+(?!type\s)([^;]*?)\s+from\s+'([^']+)';/gms;
  for (const m of text.matchAll(re)) {
    const names = m[1]!;
    // `import { type A, type B } from` is erased like `import type`
    const inner = /^\{([^}]*)\}$/.exec(names.trim());
    if (inner && inner[1]!.split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '))) continue;
    out.push(m[2]!);
  }
  for (const m of text.matchAll(/^import\s+'([^']+)';/gm)) out.push(m[1]!);
  return out;
}

/** Every module reachable by static imports from `entry`: source files and package names. */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!file.startsWith('/')) continue;
    for (const spec of staticImports(file)) {
      if (spec.startsWith('.')) stack.push(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      else seen.add(spec);
    }
  }
  return seen;
}

describe('start-up imports', () => {
  const graph = reachable(path.join(SRC, 'cli', 'main.ts'));

  it('walks the real graph (the daemon and the cache are in it)', () => {
    expect(graph.has(path.join(SRC, 'daemon.ts'))).toBe(true);
    expect(graph.has(path.join(SRC, 'cache', 'cache.ts'))).toBe(true);
  });

  it('loads neither yargs nor the parser that uses it', () => {
    expect([...graph].filter((m) => m === 'yargs' || m.startsWith('yargs/'))).toEqual([]);
    expect(graph.has(path.join(SRC, 'cli', 'parse-args.ts'))).toBe(false);
  });

  it('loads node:http only on demand', () => {
    expect([...graph].filter((m) => m === 'node:http' || m === 'node:https' || m === 'http')).toEqual([]);
  });

  it('sees a value import (the check would fail if main.ts imported the parser)', () => {
    expect(staticImports(path.join(SRC, 'cli', 'parse-child.ts'))).toContain('./parse-args.js');
    expect(reachable(path.join(SRC, 'cli', 'parse-child.ts')).has('yargs')).toBe(true);
  });
});

/** Static imports of a file esbuild wrote (double quotes; `import("...")` left out). */
function bundleImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out = [...text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s*"([^"]+)";/gms)].map((m) => m[1]!);
  for (const m of text.matchAll(/^import\s*"([^"]+)";/gm)) out.push(m[1]!);
  return out;
}

/** Every file and package reachable by static imports from a bundle entry. */
function bundleReachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [path.join(BUNDLE, entry)];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!file.startsWith('/')) continue;
    for (const spec of bundleImports(file)) stack.push(spec.startsWith('.') ? path.resolve(path.dirname(file), spec) : spec);
  }
  return seen;
}

describe('start-up imports of the bundle bin/ runs', () => {
  const graph = bundleReachable('main.js');

  it('bin/memcached-ts.js runs the bundle', () => {
    const bin = fs.readFileSync(path.join(REPO_ROOT, 'bin', 'memcached-ts.js'), 'utf8');
    expect(bin).toContain("import('../dist/bundle/main.js')");
  });

  it('loads neither yargs nor node:http at start', () => {
    expect([...graph].filter((m) => m === 'yargs' || m.startsWith('yargs/') || m === 'node:http' || m === 'node:https')).toEqual([]);
  });

  it('sees package imports through chunks (the parse child reaches yargs)', () => {
    expect(bundleReachable('parse-child.js').has('yargs')).toBe(true);
    expect(graph.has('node:net')).toBe(true);
  });
});
