// `stats settings` lines. Replaced by the option table's settingsStats() once it lands.
import type { Config } from './config/config.js';

export function settingsLines(config: Config): Array<[string, string]> {
  return [
    ['maxbytes', String(config.memoryLimit)],
    ['maxconns', String(config.maxConnections)],
    ['tcpport', String(config.port)],
    ['udpport', String(config.udpPort)],
    ['verbosity', String(config.verbosity)],
    ['evictions', config.noEvict ? 'off' : 'on'],
    ['growth_factor', config.growthFactor.toFixed(2)],
    ['chunk_size', String(config.chunkSize)],
    ['num_threads', String(config.threads)],
    ['cas_enabled', config.useCas ? 'yes' : 'no'],
    ['item_size_max', String(config.itemSizeMax)],
  ];
}
