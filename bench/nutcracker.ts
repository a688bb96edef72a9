// N memcached-ts daemons behind twemproxy (Debian's `nutcracker`) against one memcached
// `-t N` behind the same proxy config, on one machine, driven by memaslap through the proxy:
// what running several single-threaded daemons buys against memcached's threads, with the
// proxy's cost included on both sides. Alternating order, fresh processes per run.
//   node dist/bench/nutcracker.js [--daemons 1,2] [--reps 3] [--seconds 6] [--out FILE]
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { benchArgs } from './lib/cli.js';
import { findMemaslap, memaslapField, runMemaslap } from './lib/memaslap.js';
import { ServerProcess, freePort, hostBusySeconds, procCpuSeconds, splitCommand, textCommand, RUN_AS } from './lib/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOST = '127.0.0.1';
const MC_USER = process.getuid?.() === 0 ? ' -u root' : '';

const USAGE = `usage: node dist/bench/nutcracker.js [options]
memaslap through nutcracker (twemproxy) to N memcached-ts daemons, and through the same
proxy config to one memcached -t N; alternating, fresh processes per run.
  --daemons LIST        values of N, comma-separated (default 1,2)
  --reps N              runs per setup (default 3)
  --seconds S           seconds per run (default 6)
  --concurrency N       memaslap connections (default 50)
  --value-size B        value bytes (default 100)
  --server-connections N  nutcracker connections to each backend (default 2)
  --out FILE            the markdown report (default bench/RESULTS-nutcracker.md; "-" = stdout only)
  --note TEXT           a line for the report about the conditions (e.g. other work on the machine)`;

const a = benchArgs(USAGE, {
  daemons: { type: 'string', default: '1,2' },
  reps: { type: 'string', default: '3' },
  seconds: { type: 'string', default: '6' },
  concurrency: { type: 'string', default: '50' },
  'value-size': { type: 'string', default: '100' },
  'server-connections': { type: 'string', default: '2' },
  out: { type: 'string', default: 'bench/RESULTS-nutcracker.md' },
  note: { type: 'string', default: '' },
});
const counts = a.daemons!.split(',').map(Number);
const reps = Number(a.reps);
const seconds = Number(a.seconds);
const conc = Number(a.concurrency);
const valueSize = Number(a['value-size']);
const serverConnections = Number(a['server-connections']);
for (const [name, v] of [['reps', reps], ['seconds', seconds], ['concurrency', conc], ['value-size', valueSize], ['server-connections', serverConnections], ...counts.map((n) => ['daemons', n] as const)] as const) {
  if (!Number.isInteger(v) || v < 1) {
    process.stderr.write(`--${name} must be a positive integer\n${USAGE}\n`);
    process.exit(2);
  }
}

const MEM_MB = 1024;
const OURS = `node bin/memcached-ts.js${RUN_AS} -p {port} -U 0 -l ${HOST} -m {mem}`;
const REF = `memcached${MC_USER} -t {threads} -U 0 -l ${HOST} -p {port} -m {mem}`;
const refCmd = (threads: number): string => REF.replace('{threads}', String(threads));

/** The pool both setups sit behind; only the server list differs. */
function poolConfig(listen: number, servers: readonly number[]): string {
  return [
    'bench:',
    `  listen: ${HOST}:${listen}`,
    '  hash: fnv1a_64',
    '  distribution: ketama',
    '  timeout: 2000',
    '  auto_eject_hosts: false',
    `  server_connections: ${serverConnections}`,
    '  servers:',
    ...servers.map((p) => `   - ${HOST}:${p}:1`),
    '',
  ].join('\n');
}

function findNutcracker(): string {
  for (const file of ['/usr/sbin/nutcracker', '/usr/local/sbin/nutcracker', '/usr/bin/nutcracker']) {
    if (fs.existsSync(file)) return file;
  }
  throw new Error('nutcracker not found: apt-get install -y nutcracker');
}

interface Proxy {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

async function startProxy(bin: string, servers: readonly number[]): Promise<Proxy> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcbench-nutcracker-'));
  const port = await freePort(HOST);
  const statsPort = await freePort(HOST);
  const conf = path.join(dir, 'nutcracker.yml');
  fs.writeFileSync(conf, poolConfig(port, servers));
  const child = spawn(bin, ['-c', conf, '-s', String(statsPort), '-a', HOST, '-o', path.join(dir, 'log'), '-p', path.join(dir, 'pid')], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(3000).then(() => child.kill('SIGKILL'))]);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // ready once a get through it to every backend is answered
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const r = await textCommand(HOST, port, 'get warmup:probe', /\r\n$/, 1000);
      if (r === 'END\r\n') return { child, port, stop };
    } catch {
      /* not listening yet */
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = fs.existsSync(path.join(dir, 'log')) ? fs.readFileSync(path.join(dir, 'log'), 'utf8') : '';
      await stop();
      throw new Error(`nutcracker did not start:\n${log}`);
    }
    await sleep(20);
  }
}

interface Run {
  tps: number;
  ops: number;
  /** CPU seconds of the backends and of the proxy during the run. */
  serverCpu: number;
  proxyCpu: number;
  /** CPU seconds the whole machine was busy (every process, ours and others'). */
  hostCpu: number;
  /** Wall-clock seconds of the memaslap run (more than --seconds on a busy machine). */
  wall: number;
  verifyFailed: number;
}

async function runOne(memaslap: string, proxyBin: string, cmds: readonly string[], label: string): Promise<Run> {
  const servers: ServerProcess[] = [];
  let proxy: Proxy | null = null;
  try {
    for (const [i, cmd] of cmds.entries()) {
      servers.push(await ServerProcess.start({ argv: splitCommand(cmd), cwd: ROOT }, { label: `${label}#${i}`, memMB: MEM_MB, extraArgs: [], cpu: null, host: HOST }));
    }
    proxy = await startProxy(proxyBin, servers.map((s) => s.port));
    const pid = proxy.child.pid!;
    const cpu0 = servers.reduce((t, s) => t + s.cpuSeconds(), 0);
    const p0 = procCpuSeconds(pid);
    const h0 = hostBusySeconds();
    const t0 = performance.now();
    const args = ['-s', `${HOST}:${proxy.port}`, '-T', '1', '-c', String(conc), '-t', `${seconds}s`, '-X', String(valueSize), '-v', '0.05'];
    const out = await runMemaslap(memaslap, args, seconds + 30);
    const serverCpu = servers.reduce((t, s) => t + s.cpuSeconds(), 0) - cpu0;
    const proxyCpu = procCpuSeconds(pid) - p0;
    const hostCpu = hostBusySeconds() - h0;
    const wall = (performance.now() - t0) / 1000;
    return { tps: memaslapField(out, 'TPS'), ops: memaslapField(out, 'Ops'), serverCpu, proxyCpu, hostCpu, wall, verifyFailed: memaslapField(out, 'verify_failed') };
  } finally {
    await proxy?.stop();
    await Promise.all(servers.map((s) => s.stop()));
  }
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const num = (x: number): string => Math.round(x).toLocaleString('en-US');

async function main(): Promise<void> {
  const memaslap = findMemaslap();
  const proxyBin = findNutcracker();
  const mcVersion = execFileSync('memcached', ['-V'], { encoding: 'utf8' }).trim();
  // nutcracker prints its version on stderr
  const ncVersion = (/nutcracker-[\d.]+/.exec(spawnSync(proxyBin, ['-V'], { encoding: 'utf8' }).stderr) ?? ['nutcracker'])[0];
  const started = new Date();
  const load0 = os.loadavg();
  const rows: string[] = [];
  const ratios: string[] = [];
  for (const n of counts) {
    const setups: Array<[string, string[]]> = [
      [`memcached -t ${n}`, [refCmd(n)]],
      [`memcached-ts ×${n}`, Array.from({ length: n }, () => OURS)],
    ];
    const runs = new Map<string, Run[]>(setups.map(([l]) => [l, []]));
    for (let r = 0; r < reps; r++) {
      for (const [label, cmds] of r % 2 === 0 ? setups : [...setups].reverse()) {
        const run = await runOne(memaslap, proxyBin, cmds, label);
        runs.get(label)!.push(run);
        process.stderr.write(`  N=${n} ${label.padEnd(16)} ${num(run.tps)} ops/s, backends CPU ${run.serverCpu.toFixed(2)} s, proxy CPU ${run.proxyCpu.toFixed(2)} s, host busy ${run.hostCpu.toFixed(2)} s in ${run.wall.toFixed(1)} s, verify_failed ${run.verifyFailed}\n`);
      }
    }
    const agg = setups.map(([label]) => {
      const rs = runs.get(label)!;
      return {
        label,
        tps: median(rs.map((x) => x.tps)),
        range: `${num(Math.min(...rs.map((x) => x.tps)))}–${num(Math.max(...rs.map((x) => x.tps)))}`,
        serverPct: median(rs.map((x) => (100 * x.serverCpu) / x.wall)),
        proxyPct: median(rs.map((x) => (100 * x.proxyCpu) / x.wall)),
        hostPct: median(rs.map((x) => (100 * x.hostCpu) / x.wall)),
        perCpu: median(rs.map((x) => x.ops / x.serverCpu)),
        bad: rs.reduce((t, x) => t + x.verifyFailed, 0),
      };
    });
    for (const g of agg) {
      rows.push(`| ${n} | ${g.label} | ${num(g.tps)} | ${g.range} | ${num(g.serverPct)}% | ${num(g.proxyPct)}% | ${num(g.hostPct)}% | ${num(g.perCpu)} | ${g.bad} |`);
    }
    // run r of one setup and run r of the other ran back to back: their ratio sees the same
    // machine load, so its median is steadier than the ratio of the two medians
    const [ref, ours] = setups.map(([l]) => runs.get(l)!) as [Run[], Run[]];
    const paired = ours.map((o, i) => o.tps / ref[i]!.tps);
    ratios.push(
      `| ${n} | ${(agg[1]!.tps / agg[0]!.tps).toFixed(2)}× | ${median(paired).toFixed(2)}× (${Math.min(...paired).toFixed(2)}–${Math.max(...paired).toFixed(2)}) | ${(agg[1]!.perCpu / agg[0]!.perCpu).toFixed(2)}× |`,
    );
  }
  const quote = (arg: string): string => (/^[\w.,/=-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`);
  const cmdLine = ['node dist/bench/nutcracker.js', ...process.argv.slice(2).map(quote)].join(' ');
  const text = [
    '# Several daemons behind nutcracker (twemproxy) on one machine',
    '',
    'Produced by `bench/nutcracker.ts`. memaslap sends its load to nutcracker, which hashes',
    'each key (fnv1a_64, ketama) to a backend: N memcached-ts processes, or one memcached',
    'started with `-t N` behind the same pool config. Each row is a fresh proxy and fresh',
    'backends; the two setups alternate.',
    '',
    `## Run of ${started.toISOString().replace(/\.\d+Z$/, 'Z')}`,
    '',
    `Command: \`${cmdLine}\` (after \`npm run build\`)`,
    '',
    `- CPUs: ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? '?'}; Node ${process.version}; ${mcVersion}; ${ncVersion}`,
    `- Load average when the run started: ${load0.map((x) => x.toFixed(2)).join(' ')}`,
    `- memaslap: \`${memaslap} -s 127.0.0.1:{proxy port} -T 1 -c ${conc} -t ${seconds}s -X ${valueSize} -v 0.05\` (90% get / 10% set, 5% of gets verified)`,
    `- nutcracker pool: \`hash: fnv1a_64\`, \`distribution: ketama\`, \`timeout: 2000\`, \`server_connections: ${serverConnections}\`, one line per backend`,
    `- Backends: memcached-ts \`${OURS}\` (N of them); memcached \`${REF.replace('{threads}', 'N')}\`; -m ${MEM_MB}; ${reps} runs each; medians`,
    '',
    '| N | backends | ops/s | range | backends CPU | proxy CPU | machine busy | ops per backend CPU-s | verify_failed |',
    '|--:|---|--:|--:|--:|--:|--:|--:|--:|',
    ...rows,
    '',
    'memcached-ts ×N / memcached -t N, behind the same proxy:',
    '',
    '| N | ops/s (of the medians) | ops/s, run by run (median, range) | ops per backend CPU-s |',
    '|--:|--:|--:|--:|',
    ...ratios,
    '',
    'Reading it:',
    '',
    ...(a.note ? [`- ${a.note}`] : []),
    ...(os.cpus().length < Math.max(...counts) + 2
      ? [
          `- This machine has ${os.cpus().length} CPUs, fewer than the ${Math.max(...counts) + 2} busy processes of the largest setup (memaslap, nutcracker and the backends, each wanting a core): the CPU is oversubscribed, so these figures say what the setups give on this machine, not how they scale with cores. "machine busy" is every process on the machine (${os.cpus().length * 100}% = all CPUs).`,
        ]
      : []),
    '- CPU columns are CPU time over the wall time of the memaslap run (100% = one core).',
    '- nutcracker runs on one thread and handles every request and every reply of both setups; its CPU is shown next to the backends\'.',
    `- \`server_connections\` is per backend: N memcached-ts daemons get ${serverConnections} proxy connections each, one memcached gets ${serverConnections} in all.`,
    '- "ops per backend CPU-s" counts memcached\'s background threads with its workers.',
    '',
  ].join('\n');
  process.stdout.write(text);
  if (a.out !== '-') {
    fs.writeFileSync(path.resolve(ROOT, a.out!), text);
    process.stderr.write(`report written to ${a.out}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`nutcracker bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
