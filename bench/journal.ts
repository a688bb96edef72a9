// What the journal costs: memaslap (C, one thread, 50 connections) drives memcached-ts to its
// full CPU with no journal, and with --journal-fsync no, everysec and always, alternating, a
// fresh server and journal per run; then the restart time with 1,000,000 items from a
// snapshot plus a journal. Results go to bench/RESULTS-journal.md.
//   node dist/bench/journal.js [--reps 3] [--seconds 6] [--items 1000000] [--out FILE]
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/cli.js';
import { findMemaslap, memaslapField, runMemaslap } from './lib/memaslap.js';
import { ServerProcess, splitCommand, RUN_AS } from './lib/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOST = '127.0.0.1';

const USAGE = `usage: node dist/bench/journal.js [options]
What the journal costs (memaslap load with each --journal-fsync), and the restart time.
  --reps N          runs per setting, alternating (default 3)
  --seconds S       measured seconds per run (default 6)
  --items N         items for the restart measurement (default 1000000)
  --dir DIR         where the journals and snapshots go (default a new temporary directory)
  --out FILE        the markdown report (default bench/RESULTS-journal.md; "-" = stdout only)`;

const a = benchArgs(USAGE, {
  reps: { type: 'string', default: '3' },
  seconds: { type: 'string', default: '6' },
  items: { type: 'string', default: '1000000' },
  dir: { type: 'string' },
  out: { type: 'string', default: 'bench/RESULTS-journal.md' },
});
const reps = Number(a.reps);
const seconds = Number(a.seconds);
const items = Number(a.items);

interface Config {
  label: string;
  args: (dir: string) => string;
}
const CONFIGS: Config[] = [
  { label: 'no journal', args: () => '' },
  { label: 'no', args: (d) => `--journal-file ${d}/journal --journal-fsync no` },
  { label: 'everysec', args: (d) => `--journal-file ${d}/journal --journal-fsync everysec` },
  { label: 'always', args: (d) => `--journal-file ${d}/journal --journal-fsync always` },
];

interface Workload {
  id: string;
  what: string;
  /** memaslap's cmd distribution: set share. */
  setShare: number;
}
const WORKLOADS: Workload[] = [
  { id: 'a', what: '90% get / 10% set, 100 B values (the suite\'s workload a)', setShare: 0.1 },
  { id: 'w', what: '50% get / 50% set, 100 B values', setShare: 0.5 },
];

function memaslap(bin: string, port: number, cfgFile: string): Promise<string> {
  return runMemaslap(bin, ['-s', `${HOST}:${port}`, '-T', '1', '-c', '50', '-t', `${seconds}s`, '-F', cfgFile], seconds + 30);
}

const field = memaslapField;
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const num = (x: number): string => Math.round(x).toLocaleString('en-US');

async function throughput(bin: string, base: string): Promise<string[]> {
  const rows: string[] = [];
  for (const w of WORKLOADS) {
    const cfgFile = path.join(base, `memaslap-${w.id}.cfg`);
    fs.writeFileSync(cfgFile, `key\n16 16 1\nvalue\n100 100 1\ncmd\n0 ${w.setShare}\n1 ${1 - w.setShare}\n`);
    const runs = new Map<string, Array<{ tps: number; perCpu: number; fsyncs: number }>>(CONFIGS.map((c) => [c.label, []]));
    for (let r = 0; r < reps; r++) {
      const order = r % 2 === 0 ? CONFIGS : [...CONFIGS].reverse();
      for (const c of order) {
        const dir = fs.mkdtempSync(path.join(base, 'run-'));
        const cmd = `node bin/memcached-ts.js${RUN_AS} -p {port} -U 0 -l ${HOST} -m {mem} ${c.args(dir)}`;
        const srv = await ServerProcess.start({ argv: splitCommand(cmd), cwd: ROOT }, { label: c.label, memMB: 1024, extraArgs: [], cpu: null, host: HOST });
        let run: { tps: number; perCpu: number; fsyncs: number };
        try {
          const cpu0 = srv.cpuSeconds();
          const out = await memaslap(bin, srv.port, cfgFile);
          const cpu = srv.cpuSeconds() - cpu0;
          const stats = await srv.stats();
          run = { tps: field(out, 'TPS'), perCpu: field(out, 'Ops') / cpu, fsyncs: Number(stats.journal_fsyncs ?? 0) };
        } finally {
          await srv.stop();
          fs.rmSync(dir, { recursive: true, force: true });
        }
        runs.get(c.label)!.push(run);
        process.stderr.write(`  ${w.id} ${c.label.padEnd(10)} ${num(run.tps)} ops/s, ${num(run.perCpu)} ops per server CPU-s, ${run.fsyncs} fsyncs\n`);
      }
    }
    const baseTps = median(runs.get('no journal')!.map((x) => x.tps));
    const basePerCpu = median(runs.get('no journal')!.map((x) => x.perCpu));
    for (const c of CONFIGS) {
      const rs = runs.get(c.label)!;
      const tps = median(rs.map((x) => x.tps));
      rows.push(
        `| ${w.id} | ${c.label} | ${num(tps)} | ${num(Math.min(...rs.map((x) => x.tps)))}–${num(Math.max(...rs.map((x) => x.tps)))} | ${(tps / baseTps).toFixed(2)}× | ${num(median(rs.map((x) => x.perCpu)))} | ${(median(rs.map((x) => x.perCpu)) / basePerCpu).toFixed(2)}× | ${num(median(rs.map((x) => x.fsyncs)) / seconds)} |`,
      );
    }
  }
  return rows;
}

/** Pipelined noreply sets of keys [from, to) with 100-byte values, then a round trip. */
async function fill(port: number, from: number, to: number): Promise<void> {
  const sock = net.connect(port, HOST);
  await new Promise((r) => sock.once('connect', r));
  const value = 'v'.repeat(100);
  for (let i = from; i < to; ) {
    let batch = '';
    const end = Math.min(to, i + 2000);
    for (; i < end; i++) batch += `set key:${i} 0 0 100 noreply\r\n${value}\r\n`;
    if (!sock.write(batch)) await new Promise((r) => sock.once('drain', r));
  }
  sock.write('version\r\n');
  await new Promise<void>((r) => sock.on('data', (d) => d.toString().includes('VERSION') && r()));
  sock.destroy();
}

async function restartTime(base: string): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(base, 'restart-'));
  const args = `-U 0 -l ${HOST} -m 1024 --snapshot-file ${dir}/snap --journal-file ${dir}/journal --journal-fsync everysec`;
  const start = (label: string, extra = ''): Promise<ServerProcess> =>
    ServerProcess.start({ argv: splitCommand(`node bin/memcached-ts.js${RUN_AS} -p {port} ${args} ${extra}`), cwd: ROOT }, { label, memMB: 1024, extraArgs: [], cpu: null, host: HOST });
  const first = await start('fill', '--snapshot-interval 2');
  const inSnapshot = Math.round(items * 0.9);
  await fill(first.port, 0, inSnapshot);
  // wait for a periodic snapshot that holds the first 90% (it also rotates the journal)
  const deadline = Date.now() + 120_000;
  for (;;) {
    const st = await first.stats();
    if (Number(st.snapshot_last_items ?? 0) >= inSnapshot && st.snapshot_in_progress === '0') break;
    if (Date.now() > deadline) throw new Error('no snapshot of the filled items within 120 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  await fill(first.port, inSnapshot, items);
  await new Promise((r) => setTimeout(r, 1500)); // everysec: on disk
  process.kill(first.pid, 'SIGKILL');
  await first.exited;
  const snapBytes = fs.statSync(`${dir}/snap`).size;
  const journalBytes = fs.statSync(`${dir}/journal`).size + (fs.existsSync(`${dir}/journal.prev`) ? fs.statSync(`${dir}/journal.prev`).size : 0);
  const rows: string[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const srv = await start('restart');
    const ms = performance.now() - t0;
    const stats = await srv.stats();
    rows.push(`| ${r + 1} | ${(ms / 1000).toFixed(2)} s | ${num(Number(stats.curr_items))} | ${(snapBytes / 1048576).toFixed(0)} MiB | ${(journalBytes / 1048576).toFixed(1)} MiB |`);
    process.stderr.write(`  restart ${r + 1}: ${(ms / 1000).toFixed(2)} s to listening, ${stats.curr_items} items\n`);
    process.kill(srv.pid, 'SIGKILL');
    await srv.exited;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return rows;
}

async function main(): Promise<void> {
  const bin = findMemaslap();
  const base = a.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mcts-journal-bench-'));
  const started = new Date();
  const tput = await throughput(bin, base);
  const restart = await restartTime(base);
  const text = [
    '# The journal\'s cost',
    '',
    'Produced by `bench/journal.ts`. memaslap drives memcached-ts to its full CPU (50 connections, one',
    'client thread) with no journal and with each `--journal-fsync` mode, alternating, a fresh server',
    'and journal per run (journal on the same file system as the OS temp dir). Then restart time:',
    `${num(items)} items of 100 B, 90% in a snapshot and 10% only in the journal, killed with SIGKILL,`,
    'timed from spawning `node bin/memcached-ts.js` until it listens (snapshot load + journal replay +',
    'Node start).',
    '',
    `## Run of ${started.toISOString().replace(/\.\d+Z$/, 'Z')}`,
    '',
    `Command: \`node dist/bench/journal.js${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}\``,
    '',
    `- CPUs: ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? '?'}; Node ${process.version}; load average at start ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
    `- memaslap: \`${bin} -s 127.0.0.1:{port} -T 1 -c 50 -t ${seconds}s -F <cfg>\` (16 B keys, 100 B values); ${reps} runs per mode, medians`,
    '',
    'The server is saturated, so ops per server CPU-s is the cost figure; ops/s also moves with what',
    'else runs on this 2-core host (see the load average above).',
    '',
    '| workload | journal | ops/s | range | vs no journal | ops per server CPU-s | vs no journal | fsyncs/s |',
    '|---|---|--:|--:|--:|--:|--:|--:|',
    ...tput,
    '',
    '| restart | time to listening | items loaded | snapshot | journal |',
    '|---|--:|--:|--:|--:|',
    ...restart,
    '',
  ].join('\n');
  process.stdout.write(text);
  fs.writeFileSync(path.resolve(ROOT, a.out!), text);
  if (a.dir === undefined) fs.rmSync(base, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  process.stderr.write(`journal bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
