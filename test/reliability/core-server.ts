// An in-process ServerCore on an ephemeral loopback port, for tests that need the
// connection set, the idle sweep or a ManualClock (the daemon hides its core).
import { ManualClock } from '../../src/cache/clock.js';
import { defaultConfig, type Config } from '../../src/config/config.js';
import { createCache } from '../../src/daemon.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { servedProtocols } from '../../src/protocol/registry.js';
import { ServerCore } from '../../src/server/server-core.js';

export interface CoreServer {
  core: ServerCore;
  clock: ManualClock;
  port: number;
  close(): Promise<void>;
}

export async function startCore(overrides: Partial<Config> = {}, log: Logger = silentLogger): Promise<CoreServer> {
  const config: Config = { ...defaultConfig(), port: -1, listen: ['127.0.0.1'], ...overrides };
  const clock = new ManualClock();
  const cache = createCache(config, clock);
  const core = new ServerCore(cache, config, log, {
    shutdown: () => {},
    extraStats: () => [],
    settingsStats: () => [],
    protocols: servedProtocols(config.bindingProtocol),
  });
  const port = await core.listen();
  if (port === null) throw new Error('no TCP port');
  return {
    core,
    clock,
    port,
    async close() {
      core.destroyConnections();
      await core.closeListeners();
    },
  };
}
