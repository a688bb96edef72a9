// Running memaslap (Debian ships it as `memcaslap` in libmemcached-tools): find the binary,
// run it against one server, and read figures out of its report.
import { execFileSync, spawn } from 'node:child_process';

/** The memaslap binary's name on this machine. */
export function findMemaslap(): string {
  for (const name of ['memcaslap', 'memaslap']) {
    try {
      execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'pipe' });
      return name;
    } catch {
      /* try the next name */
    }
  }
  throw new Error('memaslap not found: apt-get install -y libmemcached-tools (Debian names it memcaslap)');
}

/** Run `bin args`; resolves with its output, rejects on a non-zero exit or after `limitSeconds`. */
export function runMemaslap(bin: string, args: readonly string[], limitSeconds: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('latin1')));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitSeconds * 1000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${bin} exited ${code}: ${out.slice(-500)}`));
    });
  });
}

/** A number memaslap printed as `<name>: <n>` or `<name> <n>`. */
export const memaslapField = (out: string, name: string): number => Number(new RegExp(`${name}:?\\s+(\\d+)`).exec(out)?.[1] ?? NaN);
