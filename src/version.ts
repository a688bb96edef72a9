// The version this daemon reports. Clients check major.minor, so it stays 1.6.x-compatible.
export const MEMCACHED_COMPAT_VERSION = '1.6.18';
export const VERSION = `${MEMCACHED_COMPAT_VERSION}-memcached-ts`;
