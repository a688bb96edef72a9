#!/usr/bin/env node
// Starts one of the JavaScript memcached servers from bench/peers/node_modules in this
// process, so the benchmark runner measures CPU and RSS of the server itself:
//   node bench/peers/launch.cjs memcached-njs -p 11311
//   node bench/peers/launch.cjs nodecached -p 11311
// Both packages bind every interface (listen(port) without a host); the launcher makes
// them bind 127.0.0.1 only (or -l ADDR). Nothing else about them is changed, except
// memcached-njs's logger (see below) and, with --nodelay, TCP_NODELAY on its accepted
// sockets (nodecached sets it itself). Installed by `npm ci --prefix bench/peers`.
'use strict';

const net = require('node:net');
const path = require('node:path');

function usage(msg) {
  if (msg) process.stderr.write(`launch.cjs: ${msg}\n`);
  process.stderr.write('usage: node bench/peers/launch.cjs memcached-njs|nodecached -p PORT [-l ADDR] [--nodelay]\n');
  process.exit(2);
}

const [peer, ...rest] = process.argv.slice(2);
let port = NaN;
let host = '127.0.0.1';
let nodelay = false;
for (let i = 0; i < rest.length; i++) {
  const a = rest[i];
  if (a === '-p') port = Number(rest[++i]);
  else if (a === '-l') host = String(rest[++i]);
  else if (a === '--nodelay') nodelay = true;
  else usage(`unknown argument ${a}`);
}
if (!Number.isInteger(port) || port <= 0 || port > 65535) usage('-p PORT is required');

// Bind to `host`: both servers call server.listen(port[, callback]).
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (args.length === 1 || typeof args[1] === 'function')) args.splice(1, 0, host);
  return listen.apply(this, args);
};

const modules = path.join(__dirname, 'node_modules');

if (peer === 'memcached-njs') {
  // The published 0.3.16 declares "main": "dist/index.js" but ships only src/, so
  // require('memcached-njs') fails; load the server class from src/ directly.
  const MemcacheServer = require(path.join(modules, 'memcached-njs', 'src', 'lib', 'memcached-server.js'));
  // Its default logger console.logs every command and every get ("returning VALUE ...").
  // A server is not normally run like that, and it would measure stdout instead of the
  // cache, so it gets a silent logger (an option the package provides).
  const quiet = () => {};
  const logger = { debug: quiet, info: quiet, warn: quiet, error: (m) => process.stderr.write(`${m}\n`) };
  new MemcacheServer({ port, logger }).startup().then(
    (srv) => {
      // It writes a get reply in four pieces (VALUE line, data, CRLF, END); without
      // TCP_NODELAY, Nagle holds the later pieces until the client's delayed ACK.
      if (nodelay) srv._server.on('connection', (socket) => socket.setNoDelay(true));
      process.stderr.write(`memcached-njs listening on ${host}:${port}${nodelay ? ' (TCP_NODELAY)' : ''}\n`);
    },
    (e) => {
      process.stderr.write(`memcached-njs: ${e && e.message}\n`);
      process.exit(1);
    },
  );
} else if (peer === 'nodecached') {
  const server = require(path.join(modules, 'nodecached', 'lib', 'server.js'));
  if (nodelay) usage('nodecached sets TCP_NODELAY itself');
  server.start({ port }, (err) => {
    if (err) {
      process.stderr.write(`nodecached: ${err}\n`);
      process.exit(1);
    }
    process.stderr.write(`nodecached listening on ${host}:${port}\n`);
  });
} else {
  usage(`unknown peer ${peer}`);
}

process.on('SIGTERM', () => process.exit(0));
