// Other memcached servers written in JavaScript, published on npm, run as extra
// columns with `--peers`. They live in bench/peers/ with their own package.json and
// package-lock.json (exact versions), so they never enter the main package's
// dependencies, and are installed there on first use.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface PeerDef {
  /** Column label. */
  name: string;
  /** npm package name, when it differs from the label (a second way to run one package). */
  pkg?: string;
  /** Server command (see ServerProcess): {port} is a free port; the launcher binds 127.0.0.1.
   *  A workload's server arguments (-I 2m) are not passed: the peers have no such limits. */
  command: string;
  /** Workload ids it is run in: the ones it can serve. */
  workloads: string[];
  /** Protocols it speaks. */
  protocols: ('text' | 'binary')[];
  /** What the runner cannot see from its replies, for the report. */
  remarks: string[];
  /**
   * Run as `npm install` gives it. Only such peers count for the 10x target: the issue names
   * the servers on npm. A peer we changed to run faster is shown beside them, not measured
   * against.
   */
  published: boolean;
}

export const PEERS_DIR = 'bench/peers';

export const PEERS: PeerDef[] = [
  {
    name: 'memcached-njs (TCP_NODELAY added)',
    pkg: 'memcached-njs',
    // --nodelay: see remarks. Without it, it is about 30x slower than memcached in workload a,
    // for a reason that has nothing to do with its cache; this row shows how fast its cache
    // and parser are once that is fixed.
    command: `node ${PEERS_DIR}/launch.cjs memcached-njs -p {port} --nodelay`,
    // Not f (evictions) nor m (memory): it has no memory limit and never evicts (-m is ignored).
    workloads: ['a', 'b', 'c', 'd', 'e'],
    protocols: ['text'],
    remarks: [
      'text protocol only; no memory limit, no eviction, no expiry (exptime is stored, never checked); `stats` is a stub',
      'the published package\'s `main` (dist/index.js) is missing, so the launcher loads `src/lib/memcached-server.js`',
      'run with a silent logger: its default logger console.logs every command and every get',
      'run with TCP_NODELAY set by the launcher (`--nodelay`): it does not set it, writes each get reply in four pieces, and Nagle then holds them for the client\'s delayed ACK (p50 ≈ 44 ms in workload a as published). A changed peer: shown, not counted for the target',
    ],
    published: false,
  },
  {
    // the package as its users get it: no TCP_NODELAY
    name: 'memcached-njs',
    command: `node ${PEERS_DIR}/launch.cjs memcached-njs -p {port}`,
    workloads: ['a', 'b', 'c', 'd', 'e'],
    protocols: ['text'],
    remarks: [
      'text protocol only; no memory limit, no eviction, no expiry (exptime is stored, never checked); `stats` is a stub',
      'the published package\'s `main` (dist/index.js) is missing, so the launcher loads `src/lib/memcached-server.js`; run with a silent logger (its default one console.logs every command)',
      'as `npm install memcached-njs` gives it otherwise: no TCP_NODELAY',
    ],
    published: true,
  },
  {
    name: 'nodecached',
    command: `node ${PEERS_DIR}/launch.cjs nodecached -p {port}`,
    // It cannot serve any workload correctly (see remarks); a shows how it fails.
    workloads: ['a'],
    protocols: ['text'],
    remarks: [
      'text protocol only; one cache per connection (a key set on one connection is a miss on every other)',
      'values are decoded as UTF-8 strings (binary values come back altered), a `get` of several keys answers ERROR, and each socket read is taken as at most one command line plus one data line (pipelined requests are lost)',
    ],
    published: true,
  },
];

/** name → pinned version, from bench/peers/package.json. */
export function pinnedVersions(root: string): Record<string, string> {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, PEERS_DIR, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  return pkg.dependencies ?? {};
}

function installedVersion(root: string, name: string): string | null {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, PEERS_DIR, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? null;
  } catch {
    return null;
  }
}

/**
 * Make sure bench/peers/node_modules holds the pinned versions; run `npm ci` there
 * (`npm install` if there is no lock file) when it does not. Returns name → version.
 */
export function ensurePeersInstalled(root: string, log: (s: string) => void): Record<string, string> {
  const pinned = pinnedVersions(root);
  const stale = Object.entries(pinned).filter(([n, v]) => installedVersion(root, n) !== v);
  if (stale.length > 0) {
    const dir = path.join(root, PEERS_DIR);
    const hasLock = fs.existsSync(path.join(dir, 'package-lock.json'));
    const args = [hasLock ? 'ci' : 'install', '--prefix', dir, '--no-audit', '--no-fund'];
    log(`installing peers (${stale.map(([n, v]) => `${n}@${v}`).join(', ')}): npm ${args.join(' ')}`);
    const r = spawnSync('npm', args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 });
    if (r.status !== 0) throw new Error(`npm ${args[0]} in ${PEERS_DIR} failed (${r.error?.message ?? `exit ${r.status}`})`);
  }
  const out: Record<string, string> = {};
  for (const n of Object.keys(pinned)) {
    const v = installedVersion(root, n);
    if (v !== pinned[n]) throw new Error(`${PEERS_DIR}: ${n} is ${v ?? 'missing'} after install, pinned ${pinned[n]}`);
    out[n] = v;
  }
  return out;
}
