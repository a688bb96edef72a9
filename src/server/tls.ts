// TLS listeners (memcached -Z with -o ssl_chain_cert=FILE,ssl_key=FILE[,ssl_ca_cert=FILE]),
// on Node's `tls`. A connection is handed to the server only once its handshake is done,
// so every protocol runs unchanged over it.
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { Config } from '../config/config.js';

/** Handshakes that take longer than this are dropped (a client that connects and waits). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Read the certificate files now, so a bad path is a startup error and not a late surprise. */
export function tlsContextOptions(config: Config): tls.SecureContextOptions {
  if (config.tlsCertFile === null || config.tlsKeyFile === null) {
    throw new Error('-Z needs -o ssl_chain_cert=FILE,ssl_key=FILE');
  }
  const options: tls.SecureContextOptions = {
    cert: fs.readFileSync(config.tlsCertFile),
    key: fs.readFileSync(config.tlsKeyFile),
  };
  if (config.tlsCaFile !== null) options.ca = fs.readFileSync(config.tlsCaFile);
  return options;
}

export function createTlsServer(
  config: Config,
  onSocket: (socket: net.Socket) => void,
  onHandshakeError: (err: Error) => void,
): net.Server {
  const server = tls.createServer(
    { ...tlsContextOptions(config), handshakeTimeout: HANDSHAKE_TIMEOUT_MS, noDelay: true },
    onSocket,
  );
  // a failed handshake closes that socket only
  server.on('tlsClientError', (err) => onHandshakeError(err));
  return server;
}
