// Whether a -l address means "every interface", in any of its spellings: the listen warning
// must not be dodged by writing `0` or `::0` instead of `0.0.0.0` or `::`.
import net from 'node:net';

/**
 * True for the IPv4 and IPv6 unspecified addresses however written: `0.0.0.0`, the short
 * inet_aton forms getaddrinfo also takes (`0`, `0.0`, `0x0`), every IPv6 all-zero form
 * (`::`, `::0`, `0::0`, `0:0:0:0:0:0:0:0`, `::0.0.0.0`), bracketed or not, and `*` or the
 * empty host, which memcached's -l also reads as every interface.
 */
export function isUnspecifiedAddress(host: string): boolean {
  let h = host.trim();
  if (h === '' || h === '*') return true;
  const bracketed = /^\[(.*)\]$/.exec(h);
  if (bracketed !== null) h = bracketed[1] ?? h;
  if (net.isIPv6(h)) return /^[0:.]+$/.test(h);
  const parts = h.split('.');
  return parts.length <= 4 && parts.every((p) => /^(0+|0x0*)$/i.test(p));
}
