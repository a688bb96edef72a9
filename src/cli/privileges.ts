// -u USER: who the daemon becomes after it has done, as root, what needs root (binding ports
// below 1024, opening files in root-only places). memcached's rules: started as root it
// refuses to run without -u; -u root keeps root; not started as root, -u is ignored.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** sysexits.h EX_NOUSER: memcached's exit code when the -u user does not exist. */
export const EXIT_NO_USER = 67;

export interface Identity {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** The passwd entry of `name`: /etc/passwd first, then getent (NSS: LDAP, systemd-userdb...). */
export function lookupUser(name: string): Identity | null {
  try {
    const found = passwdEntry(fs.readFileSync('/etc/passwd', 'utf8'), name);
    if (found !== null) return found;
  } catch {
    // no readable /etc/passwd: ask getent
  }
  try {
    return passwdEntry(execFileSync('getent', ['passwd', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), name);
  } catch {
    return null; // getent exits 2 for an unknown name, or is missing
  }
}

/** The entry for `name` in passwd(5) text, or null. */
export function passwdEntry(text: string, name: string): Identity | null {
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || f[0] !== name) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(gid) || f[2] === '' || f[3] === '') return null;
    return { name, uid, gid };
  }
  return null;
}

/**
 * Run `fn` with the effective user and group of `id` and no supplementary groups, then
 * return to root. Start-up checks run this way, so that "can this directory take a file"
 * is answered for the user the daemon will be, ACLs and read-only mounts included.
 */
export function asUser<T>(id: Identity, fn: () => T): T {
  const groups = process.getgroups!();
  const egid = process.getegid!();
  process.setgroups!([]);
  process.setegid!(id.gid);
  process.seteuid!(id.uid);
  try {
    return fn();
  } finally {
    process.seteuid!(0);
    process.setegid!(egid);
    process.setgroups!(groups);
  }
}

/**
 * Become `id` for good, as memcached does: drop the supplementary groups (EPERM means they
 * cannot be changed and is let pass, as memcached lets it), then the group, then the user.
 * Throws with memcached's sentence when the switch fails.
 */
export function dropTo(id: Identity): void {
  try {
    process.setgroups!([]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw new Error(`failed to drop supplementary groups: ${(err as Error).message}`);
  }
  try {
    process.setgid!(id.gid);
    process.setuid!(id.uid);
  } catch {
    throw new Error(`failed to assume identity of user ${id.name}`);
  }
  if (process.getuid!() !== id.uid || process.geteuid!() !== id.uid || process.getgid!() !== id.gid) {
    throw new Error(`failed to assume identity of user ${id.name}`);
  }
}
