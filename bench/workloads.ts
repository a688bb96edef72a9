// The workloads the runner knows. Each is run against both servers with the same
// key space, seed and client settings. See bench/README.md for the why of each.
import type { SizeRange } from './lib/keyspace.js';
import type { KeyDist } from './lib/rng.js';

export interface LoadWorkload {
  kind: 'load';
  id: string;
  name: string;
  what: string;
  /** Server -m in MB. */
  memMB: number;
  /** Extra server arguments (both servers), e.g. a larger -I for big values. */
  serverArgs: string[];
  connections: number;
  depth: number;
  /** Keys per get request (1 = plain get). */
  multiGet: number;
  getRatio: number;
  keys: number;
  /** Key count under --quick, if different. */
  quickKeys?: number;
  keySize: SizeRange;
  valueSize: SizeRange;
  keyDist: KeyDist;
  /** Set every key before the run so gets hit. */
  preload: boolean;
  /** Report these `stats` counters (delta over the run, and final value). */
  serverCounters: string[];
  /** Protocol of the load; unset = the runner's --protocol (text by default). */
  protocol?: 'text' | 'binary';
}

export interface MemoryWorkload {
  kind: 'memory';
  id: string;
  name: string;
  what: string;
  memMB: number;
  serverArgs: string[];
  items: number;
  keySize: SizeRange;
  valueSize: SizeRange;
}

export type Workload = LoadWorkload | MemoryWorkload;

const KEY = { min: 10, max: 16 };
const V100 = { min: 100, max: 100 };
const UNIFORM: KeyDist = { kind: 'uniform' };

const MIXED_50C: LoadWorkload = {
  kind: 'load',
  id: 'a',
  name: 'mixed-50c',
  what: '50 connections, 90% get / 10% set, 100 B values, no pipelining',
  memMB: 1024,
  serverArgs: [],
  connections: 50,
  depth: 1,
  multiGet: 1,
  getRatio: 0.9,
  keys: 100_000,
  keySize: KEY,
  valueSize: V100,
  keyDist: UNIFORM,
  preload: true,
  serverCounters: [],
};

export const WORKLOADS: Workload[] = [
  MIXED_50C,
  {
    ...MIXED_50C,
    id: 'a-bin',
    name: 'mixed-50c-bin',
    what: 'workload a over the binary protocol (GetK and Set; preload too)',
    protocol: 'binary',
  },
  {
    kind: 'load',
    id: 'b',
    name: 'latency-1c',
    what: '1 connection, request/response (one request in flight), 90% get / 10% set, 100 B values',
    memMB: 1024,
    serverArgs: [],
    connections: 1,
    depth: 1,
    multiGet: 1,
    getRatio: 0.9,
    keys: 100_000,
    keySize: KEY,
    valueSize: V100,
    keyDist: UNIFORM,
    preload: true,
    serverCounters: [],
  },
  {
    kind: 'load',
    id: 'c',
    name: 'pipeline-16',
    what: '4 connections, 16 requests in flight on each, 90% get / 10% set, 100 B values',
    memMB: 1024,
    serverArgs: [],
    connections: 4,
    depth: 16,
    multiGet: 1,
    getRatio: 0.9,
    keys: 100_000,
    keySize: KEY,
    valueSize: V100,
    keyDist: UNIFORM,
    preload: true,
    serverCounters: [],
  },
  {
    kind: 'load',
    id: 'd',
    name: 'multiget-16',
    what: '4 connections, every request a get of 16 keys, 100 B values',
    memMB: 1024,
    serverArgs: [],
    connections: 4,
    depth: 1,
    multiGet: 16,
    getRatio: 1,
    keys: 100_000,
    keySize: KEY,
    valueSize: V100,
    keyDist: UNIFORM,
    preload: true,
    serverCounters: [],
  },
  {
    kind: 'load',
    id: 'e',
    name: 'values-1MiB',
    what: '4 connections, 90% get / 10% set, 1 MiB values over 200 keys (server -I 2m)',
    memMB: 1024,
    // A 1 MiB value plus the item header does not fit memcached's default 1 MB item limit.
    serverArgs: ['-I', '2m'],
    connections: 4,
    depth: 1,
    multiGet: 1,
    getRatio: 0.9,
    keys: 200,
    keySize: KEY,
    valueSize: { min: 1 << 20, max: 1 << 20 },
    keyDist: UNIFORM,
    preload: true,
    serverCounters: [],
  },
  {
    kind: 'load',
    id: 'f',
    name: 'evictions',
    what: '20 connections, 80% get / 20% set, 1000 B values, key space ~8x larger than -m 64',
    memMB: 64,
    serverArgs: [],
    connections: 20,
    depth: 1,
    multiGet: 1,
    getRatio: 0.8,
    keys: 500_000,
    quickKeys: 300_000,
    keySize: KEY,
    valueSize: { min: 1000, max: 1000 },
    keyDist: UNIFORM,
    preload: true,
    serverCounters: ['evictions'],
  },
  {
    kind: 'memory',
    id: 'm',
    name: 'rss-per-item',
    what: 'RSS growth per item after setting 1,000,000 items (10–16 B keys, 100 B values), -m 1024',
    memMB: 1024,
    serverArgs: [],
    items: 1_000_000,
    keySize: KEY,
    valueSize: V100,
  },
  // Hook for later: snapshot write/load speed. A `kind: 'snapshot'` workload would
  // load items like 'm', then time the daemon's snapshot write and a restart that
  // loads it (see postLoadHooks in run.ts). Not implemented: the daemon has no snapshots yet.
];
