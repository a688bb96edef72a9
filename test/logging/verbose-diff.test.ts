// -vv against real memcached 1.6.18: both servers run as processes with -vv, get the same text,
// meta and binary commands, and must print the same traffic lines on stderr (fds named by
// order of appearance). At -v and below nothing of the traffic is printed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemonProcess } from '../support/daemon-process.js';
import type { RunningServer } from '../support/port-file-server.js';
import { referenceAvailable, startReferenceServer } from '../support/reference-server.js';
import { until } from '../support/raw-client.js';
import { normalizeTraffic, runScripts } from './scripts.js';

const withReference = referenceAvailable('-vv differential');

async function trafficOf(server: RunningServer): Promise<string[]> {
  await runScripts(server.port);
  // both connections closed: their last lines are printed
  await until(() => (server.stderr().match(/ connection closed\./g) ?? []).length >= 2);
  return normalizeTraffic(server.stderr());
}

describe.skipIf(!withReference)('-vv: the traffic lines memcached 1.6.18 prints', () => {
  let ref: RunningServer;
  let ours: RunningServer;
  beforeAll(async () => {
    [ref, ours] = await Promise.all([startReferenceServer(['-vv']), startDaemonProcess(['-vv'])]);
  });
  afterAll(async () => {
    await Promise.all([ref?.stop(), ours?.stop()]);
  });

  it('for text, meta and binary commands, with replies and connection notes', async () => {
    const expected = await trafficOf(ref);
    const actual = await trafficOf(ours);
    expect(expected).toContain('<fd1 new auto-negotiating client connection');
    expect(expected).toContain('>fd1 NOREPLY STORED');
    expect(expected.length).toBeGreaterThan(150);
    expect(actual).toEqual(expected);
  });
});

describe('-v and no -v print no traffic', () => {
  it.each([[[]], [['-v']]])('%j', async (args) => {
    const server = await startDaemonProcess(args);
    try {
      await runScripts(server.port);
      await new Promise((r) => setTimeout(r, 100));
      expect(normalizeTraffic(server.stderr())).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
