// Exit codes the CLI shares, from sysexits.h as memcached uses them. Kept apart from the
// parser so that importing one does not load yargs into the daemon (it parses in a child).

/** EX_USAGE: a bad command line, or root without -u. */
export const EXIT_USAGE = 64;
