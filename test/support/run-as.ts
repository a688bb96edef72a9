// Started as root, the daemon refuses to run without -u (as memcached does): tests that run
// as root (CI does) start it with -u root, elsewhere with nothing.
export const RUN_AS: readonly string[] = process.geteuid?.() === 0 ? ['-u', 'root'] : [];
