// Closed-loop load generator: N connections, each keeping up to `depth` requests
// in flight. Every 'data' event is parsed in place; the requests it completed are
// replaced by new ones, written with one socket write (writev when a big value is
// attached). Latency = time from the write of a request's batch to the arrival of
// the bytes that completed it, recorded in nanoseconds in an HDR histogram.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import type { Keyspace } from './keyspace.js';
import { BatchWriter, OP_GET, OP_SET, Request, type ProtocolDriver, type ReplyParser, type ReplySink } from './protocol.js';
import { Rng, makeKeyChooser, type KeyChooser, type KeyDist } from './rng.js';

/** Fills `req` with the next request; false when there is no more work. */
export type RequestSource = (req: Request, rng: Rng) => boolean;

/** The usual source: get (of `multiGet` keys) with probability getRatio, else set. */
export function mixedSource(ks: Keyspace, getRatio: number, multiGet: number, dist: KeyDist): RequestSource {
  const chooser: KeyChooser = makeKeyChooser(dist, ks.count);
  return (req, rng) => {
    if (rng.next() < getRatio) {
      req.kind = OP_GET;
      req.nkeys = multiGet;
      for (let i = 0; i < multiGet; i++) req.keys[i] = chooser.next(rng);
    } else {
      req.kind = OP_SET;
      req.nkeys = 1;
      req.keys[0] = chooser.next(rng);
    }
    return true;
  };
}

/** Sets keys [from, to) once each, in order, shared across all connections. */
export function sequentialSetSource(from: number, to: number): RequestSource {
  let next = from;
  return (req) => {
    if (next >= to) return false;
    req.kind = OP_SET;
    req.nkeys = 1;
    req.keys[0] = next++;
    return true;
  };
}

export interface LoadSpec {
  host: string;
  port: number;
  connections: number;
  /** Requests kept in flight per connection (1 = request/response). */
  depth: number;
  /** Largest number of keys a request may carry (sizes the request objects). */
  maxKeys: number;
  source: RequestSource;
  /** 'timed': warm-up then a measured window. 'exhaust': run until the source is empty, all measured. */
  mode: 'timed' | 'exhaust';
  warmupMs: number;
  durationMs: number;
  /** Hard limit for 'exhaust' mode. */
  timeoutMs?: number;
  seed: number;
  /** Compare value bytes of every Nth hit (0 = never). Flags and length are checked on every hit. */
  verifyEvery: number;
  /**
   * Fail the run when requests are in flight but no reply has completed one for this
   * long (a server that stopped answering, or that swallowed a request). Default 10 s.
   */
  stallMs?: number;
}

export type Phase = 'connect' | 'warmup' | 'measure' | 'drain';

export interface ProgressInfo {
  phase: Phase;
  /** 0..1 through the whole run (for 'exhaust', through the source). */
  fraction: number;
  /** Completions per second over the last progress interval. */
  recentOpsPerSec: number;
}

export interface LoadHooks {
  onMeasureStart?(): void;
  onMeasureEnd?(): void;
  onProgress?(p: ProgressInfo): void;
  /** For 'exhaust' mode progress: how far the source is (0..1). */
  exhaustFraction?(): number;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface LoadResult {
  seconds: number;
  ops: number;
  gets: number;
  sets: number;
  keysRequested: number;
  hits: number;
  misses: number;
  errors: number;
  errorSamples: string[];
  valuesVerified: number;
  verifyFailures: number;
  verifySamples: string[];
  opsPerSec: number;
  keysPerSec: number;
  /** Microseconds. */
  latency: LatencySummary;
  clientCpuSec: number;
}

class Stats {
  ops = 0;
  gets = 0;
  sets = 0;
  keys = 0;
  hits = 0;
  misses = 0;
  errors = 0;
  errorSamples: string[] = [];
  verified = 0;
  verifyFailures = 0;
  verifySamples: string[] = [];
  clientCpu = 0;
  hist = hdr.build({ numberOfSignificantValueDigits: 3, bitBucketSize: 32, autoResize: true });
}

class Run {
  phase: Phase = 'connect';
  recording = false;
  issuing = false;
  /** Timestamp of the data event being processed. */
  now = 0;
  totalCompleted = 0;
  /** performance.now() of the last data event that completed a request (or of the start). */
  lastCompletionAt = performance.now();
  hitCounter = 0;
  stats = new Stats();
  failure: Error | null = null;
  conns: Conn[] = [];
  onIdle: (() => void) | null = null;
  onFail: ((e: Error) => void) | null = null;

  constructor(
    readonly spec: LoadSpec,
    readonly driver: ProtocolDriver,
  ) {}

  fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    this.issuing = false;
    for (const c of this.conns) c.socket.destroy();
    this.onFail?.(e);
  }

  checkIdle(): void {
    if (this.onIdle && this.conns.every((c) => c.inFlight === 0)) this.onIdle();
  }
}

class Conn implements ReplySink {
  readonly socket: net.Socket;
  private readonly parser: ReplyParser;
  private readonly ring: Request[];
  private headIdx = 0;
  inFlight = 0;
  private completedNow = 0;
  private readonly writer = new BatchWriter();
  private readonly rng: Rng;

  constructor(
    private readonly run: Run,
    index: number,
    socket: net.Socket,
  ) {
    const spec = run.spec;
    this.socket = socket;
    this.rng = new Rng(spec.seed * 7919 + index);
    this.ring = [];
    for (let i = 0; i < spec.depth; i++) this.ring.push(new Request(spec.maxKeys));
    this.parser = run.driver.newParser(this);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => run.fail(new Error(`connection ${index}: ${e.message}`)));
    socket.on('close', () => {
      if (run.phase !== 'drain' || this.inFlight > 0) run.fail(new Error(`connection ${index} closed by server`));
    });
  }

  private onData(chunk: Buffer): void {
    const run = this.run;
    run.now = performance.now();
    this.completedNow = 0;
    this.parser.feed(chunk);
    if (run.failure) return;
    if (this.completedNow > 0) {
      run.lastCompletionAt = run.now;
      if (run.issuing) this.issue(this.completedNow);
      if (this.inFlight === 0) run.checkIdle();
    }
  }

  /** Queue up to n new requests and write them as one batch. */
  issue(n: number): void {
    const { spec, driver } = this.run;
    const depth = spec.depth;
    let made = 0;
    let inline = 0;
    while (made < n && this.inFlight < depth) {
      const req = this.ring[(this.headIdx + this.inFlight) % depth]!;
      if (!spec.source(req, this.rng)) break;
      inline += driver.inlineSize(req);
      this.inFlight++;
      made++;
    }
    if (made === 0) return;
    const w = this.writer;
    w.begin(inline);
    const first = this.headIdx + this.inFlight - made;
    const t = performance.now();
    for (let j = 0; j < made; j++) {
      const req = this.ring[(first + j) % depth]!;
      req.sentAt = t;
      driver.encode(req, w);
    }
    const chunks = w.finish();
    if (chunks.length === 1) {
      this.socket.write(chunks[0]!);
    } else {
      this.socket.cork();
      for (const c of chunks) this.socket.write(c);
      this.socket.uncork();
    }
  }

  // ReplySink
  head(): Request | undefined {
    return this.inFlight > 0 ? this.ring[this.headIdx] : undefined;
  }

  complete(hits: number, misses: number, failed: boolean): void {
    const run = this.run;
    const req = this.ring[this.headIdx]!;
    this.headIdx = (this.headIdx + 1) % run.spec.depth;
    this.inFlight--;
    this.completedNow++;
    run.totalCompleted++;
    if (!run.recording) return;
    const s = run.stats;
    s.ops++;
    if (req.kind === OP_GET) {
      s.gets++;
      s.keys += req.nkeys;
      s.hits += hits;
      s.misses += misses;
    } else {
      s.sets++;
    }
    if (failed) s.errors++;
    const ns = Math.round((run.now - req.sentAt) * 1e6);
    s.hist.recordValue(ns > 0 ? ns : 1);
  }

  errorReply(text: string): void {
    const s = this.run.stats;
    if (s.errorSamples.length < 5 && !s.errorSamples.includes(text)) s.errorSamples.push(text);
  }

  shouldVerify(): boolean {
    const every = this.run.spec.verifyEvery;
    return every > 0 && ++this.run.hitCounter % every === 0;
  }

  verified(ok: boolean, detail?: string): void {
    const s = this.run.stats;
    s.verified++;
    if (!ok) {
      s.verifyFailures++;
      if (s.verifySamples.length < 5 && detail) s.verifySamples.push(detail);
    }
  }

  desync(detail: string): void {
    this.run.fail(new Error(`protocol desync: ${detail}`));
  }
}

function connect(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`connect to ${host}:${port} timed out`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.setNoDelay(true);
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

function summarize(h: hdr.Histogram): LatencySummary {
  const us = (ns: number): number => ns / 1000;
  if (h.totalCount === 0) return { p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
  return {
    p50: us(h.getValueAtPercentile(50)),
    p90: us(h.getValueAtPercentile(90)),
    p99: us(h.getValueAtPercentile(99)),
    p999: us(h.getValueAtPercentile(99.9)),
    max: us(h.maxValue),
    mean: us(h.mean),
  };
}

const DRAIN_TIMEOUT_MS = 10_000;

export async function runLoad(spec: LoadSpec, driver: ProtocolDriver, hooks: LoadHooks = {}): Promise<LoadResult> {
  if (spec.connections < 1 || spec.depth < 1) throw new Error('connections and depth must be >= 1');
  const run = new Run(spec, driver);
  const sockets = await Promise.all(Array.from({ length: spec.connections }, () => connect(spec.host, spec.port, 5000))).catch(
    (e: unknown) => {
      throw new Error(`cannot connect to ${spec.host}:${spec.port}: ${(e as Error).message}`);
    },
  );
  run.conns = sockets.map((s, i) => new Conn(run, i, s));

  const timers: NodeJS.Timeout[] = [];
  let cpu0 = process.cpuUsage();
  let tStart = 0;
  let tEnd = 0;
  const startAll = performance.now();

  const done = new Promise<void>((resolve, reject) => {
    run.onFail = reject;
    const beginMeasure = (): void => {
      run.phase = 'measure';
      hooks.onMeasureStart?.();
      cpu0 = process.cpuUsage();
      tStart = performance.now();
      run.recording = true;
    };
    const endMeasure = (): void => {
      run.recording = false;
      run.issuing = false;
      tEnd = performance.now();
      const cpu1 = process.cpuUsage(cpu0);
      run.stats.clientCpu = (cpu1.user + cpu1.system) / 1e6;
      hooks.onMeasureEnd?.();
      run.phase = 'drain';
    };
    const drain = (): void => {
      run.onIdle = () => {
        run.onIdle = null;
        resolve();
      };
      run.checkIdle();
      timers.push(
        setTimeout(() => run.fail(new Error(`server did not answer ${run.conns.reduce((a, c) => a + c.inFlight, 0)} requests within ${DRAIN_TIMEOUT_MS} ms`)), DRAIN_TIMEOUT_MS),
      );
    };

    run.issuing = true;
    run.lastCompletionAt = performance.now();
    if (spec.mode === 'timed') {
      run.phase = spec.warmupMs > 0 ? 'warmup' : 'measure';
      if (spec.warmupMs > 0) timers.push(setTimeout(beginMeasure, spec.warmupMs));
      else beginMeasure();
      timers.push(
        setTimeout(() => {
          endMeasure();
          drain();
        }, spec.warmupMs + spec.durationMs),
      );
    } else {
      beginMeasure();
      // Finished when every connection ran dry and has nothing in flight.
      run.onIdle = () => {
        run.onIdle = null;
        endMeasure();
        resolve();
      };
      const limit = spec.timeoutMs ?? 300_000;
      timers.push(setTimeout(() => run.fail(new Error(`load did not finish within ${limit} ms`)), limit));
    }
    for (const c of run.conns) c.issue(spec.depth);
    if (spec.mode === 'exhaust') run.checkIdle();
  });

  let lastCount = 0;
  let lastT = performance.now();
  const progress = setInterval(() => {
    const t = performance.now();
    const rate = ((run.totalCompleted - lastCount) * 1000) / Math.max(1, t - lastT);
    lastCount = run.totalCompleted;
    lastT = t;
    const fraction =
      spec.mode === 'timed'
        ? Math.min(1, (t - startAll) / (spec.warmupMs + spec.durationMs))
        : (hooks.exhaustFraction?.() ?? 0);
    hooks.onProgress?.({ phase: run.phase, fraction, recentOpsPerSec: rate });
    const stallMs = spec.stallMs ?? 10_000;
    const inFlight = run.conns.reduce((a, c) => a + c.inFlight, 0);
    if (inFlight > 0 && t - run.lastCompletionAt > stallMs) {
      run.fail(new Error(`server stopped answering: no request completed for ${(stallMs / 1000).toFixed(0)} s with ${inFlight} in flight (${spec.mode === 'exhaust' ? 'loading' : `phase ${run.phase}`})`));
    }
  }, 200);

  try {
    await done;
  } finally {
    clearInterval(progress);
    for (const t of timers) clearTimeout(t);
    run.phase = 'drain';
    for (const c of run.conns) c.socket.destroy();
  }

  const s = run.stats;
  const seconds = (tEnd - tStart) / 1000;
  return {
    seconds,
    ops: s.ops,
    gets: s.gets,
    sets: s.sets,
    keysRequested: s.keys,
    hits: s.hits,
    misses: s.misses,
    errors: s.errors,
    errorSamples: s.errorSamples,
    valuesVerified: s.verified,
    verifyFailures: s.verifyFailures,
    verifySamples: s.verifySamples,
    opsPerSec: s.ops / seconds,
    keysPerSec: (s.keys + s.sets) / seconds,
    latency: summarize(s.hist),
    clientCpuSec: s.clientCpu,
  };
}

/** Set every key of the key space once (pipelined), e.g. before a read-heavy run. */
export async function preload(
  host: string,
  port: number,
  ks: Keyspace,
  driver: ProtocolDriver,
  opts: { connections?: number; depth?: number; seed?: number; timeoutMs?: number; onProgress?: (p: ProgressInfo) => void } = {},
): Promise<LoadResult> {
  let issued = 0;
  const seq = sequentialSetSource(0, ks.count);
  const source: RequestSource = (req, rng) => {
    const ok = seq(req, rng);
    if (ok) issued++;
    return ok;
  };
  // Keep roughly 4 MiB in flight whatever the value size.
  const avgValue = (ks.valueSize.min + ks.valueSize.max) / 2;
  const depth = opts.depth ?? Math.max(1, Math.min(64, Math.floor((1 << 20) / (avgValue + 64))));
  return runLoad(
    {
      host,
      port,
      connections: opts.connections ?? 4,
      depth,
      maxKeys: 1,
      source,
      mode: 'exhaust',
      warmupMs: 0,
      durationMs: 0,
      timeoutMs: opts.timeoutMs ?? 300_000,
      seed: opts.seed ?? 1,
      verifyEvery: 0,
    },
    driver,
    { onProgress: opts.onProgress, exhaustFraction: () => issued / ks.count },
  );
}
