// What the server says of a connection when it opens: memcached's -vv line for a new client and
// the conn_new event for `watch connevents`, and the peer both conn_new and conn_close name.
import type { Socket } from 'node:net';
import type { Peer } from '../logging/event-lines.js';
import type { EventLog } from '../logging/event-log.js';
import { trace } from '../logging/trace.js';
import type { Protocol } from '../protocol/types.js';

/** The remote end as memcached's logger prints it: `unix` and port 0 on a unix socket. */
export function peerOf(socket: Socket): Peer {
  const ip = socket.remoteAddress;
  if (ip === undefined) return { ip: 'unix', port: 0, transport: 'local' };
  return { ip, port: socket.remotePort ?? 0, transport: 'tcp' };
}

/** Called once per accepted connection, only when -vv or a watcher wants to hear of it. */
export function connectionOpened(
  core: { readonly config: { readonly verbosity: number }; readonly events: EventLog },
  conn: { readonly id: number; readonly socket: Socket },
  protocols: readonly Protocol[],
): void {
  core.events.connNew(peerOf(conn.socket), conn.id);
  if (core.config.verbosity > 1) {
    // with more than one protocol the first byte decides (memcached's -B auto)
    trace(protocols.length > 1 ? `<${conn.id} new auto-negotiating client connection` : `<${conn.id} new ${protocols[0]!.name} client connection.`);
  }
}
