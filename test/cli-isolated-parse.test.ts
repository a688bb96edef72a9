// The command line parsed in a child process (src/cli/isolated-parse.ts): the same result as
// parseArgs() in process, and a fallback to it whenever the child cannot give one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommandLine, parseInChild } from '../src/cli/isolated-parse.js';
import { parseArgs } from '../src/cli/parse-args.js';
import { REPO_ROOT } from './support/daemon-process.js';

/** The built child (npm run pretest builds dist/ before the tests run). */
const CHILD = path.join(REPO_ROOT, 'dist/src/cli/parse-child.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcts-parse-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, body);
  return file;
}

const CASES: string[][] = [
  [],
  ['-p', '-1', '-m', '128', '-c', '10', '-vv'],
  ['-o', 'slab_chunk_max=512k,no_lru_crawler', '-f', '1.5', '-n', '64'],
  ['-k'],
  ['--version'],
  ['--help'],
  ['-U', '1'],
  ['-m'],
  ['--no-such-option'],
  ['stray'],
];

describe('parseCommandLine', () => {
  it.each(CASES.map((argv) => [argv.join(' ') || '(none)', argv]))('%s: the child gives what parseArgs gives', async (_, argv) => {
    const fromChild = parseInChild(argv as string[], CHILD);
    expect(fromChild).not.toBeNull();
    expect(fromChild).toEqual(parseArgs(argv as string[]));
    expect(await parseCommandLine(argv as string[], CHILD)).toEqual(fromChild);
  });

  it('takes the result from the child when it gives one', async () => {
    const fake = { kind: 'exit', code: 42, stdout: 'from the child\n' };
    const child = script('fake.mjs', `import fs from 'node:fs';\nfs.writeSync(1, Buffer.from('${v8.serialize(fake).toString('base64')}', 'base64'));\n`);
    expect(await parseCommandLine(['-p', '-1'], child)).toEqual(fake);
  });

  it('parses in process when the child fails, prints garbage, prints nothing or is missing', async () => {
    const argv = ['-p', '-1', '-m', '32'];
    const expected = parseArgs(argv);
    const children = [
      script('fails.mjs', 'process.exit(3);\n'),
      script('garbage.mjs', "process.stdout.write('not a serialized result');\n"),
      script('wrong.mjs', `import fs from 'node:fs';\nimport v8 from 'node:v8';\nfs.writeSync(1, v8.serialize({ kind: 'other' }));\n`),
      script('silent.mjs', '\n'),
      path.join(dir, 'missing.mjs'),
    ];
    for (const child of children) expect(await parseCommandLine(argv, child), child).toEqual(expected);
  });
});
