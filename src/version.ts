// The versions this daemon reports. To clients (VERSION, stats version, binary Version) it is
// memcached 1.6.18, exactly as memcached spells it: clients parse that string (the npm
// `memcached` client takes the x.y.z at the end of the line and throws when there is none;
// libmemcached reads major.minor.micro from its start). memcached-ts names itself where no
// client looks: `memcached-ts -V`, the man page, and the `libevent` field of `stats`.
export const MEMCACHED_COMPAT_VERSION = '1.6.18';
export const VERSION = MEMCACHED_COMPAT_VERSION;
/** This package's own version (package.json; a test keeps the two equal). */
export const PACKAGE_VERSION = '0.1.0';
/** memcached-ts and the runtime, for the `libevent` field of `stats` (memcached's own event library's version). */
export const RUNTIME_ID = `memcached-ts-${PACKAGE_VERSION}/node-${process.versions.node}`;
