// The protocols the daemon serves, as -B asks (memcached's -B ascii|binary|auto).
import type { Config } from '../config/config.js';
import { binaryProtocol } from './binary/index.js';
import { textProtocol } from './text/index.js';
import type { Protocol } from './types.js';

/**
 * The protocols to hand the server, in the order chooseProtocol() tries them on a
 * connection's first byte. With -B ascii or -B binary the one protocol takes every
 * connection whatever its first byte; with auto, a first byte 0x80 is binary and anything
 * else text.
 */
export function servedProtocols(binding: Config['bindingProtocol']): readonly Protocol[] {
  switch (binding) {
    case 'ascii':
      return [textProtocol];
    case 'binary':
      return [binaryProtocol];
    case 'auto':
      return [binaryProtocol, textProtocol];
  }
}
