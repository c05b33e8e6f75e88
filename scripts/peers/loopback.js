// Node preload (`node -r ./loopback.js app.js`): forces every listening TCP server onto
// 127.0.0.1, for programs that have no bind-address option and would otherwise listen on all
// interfaces. Handles `listen(port[, host][, backlog][, cb])` and `listen({port, host, ...}[, cb])`.
'use strict';

const net = require('net');

const LOOPBACK = '127.0.0.1';
const originalListen = net.Server.prototype.listen;

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const first = args[0];
  if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    // Options form. Leave pipes/handles alone: only TCP ports are rebound.
    if (first.path === undefined && first.handle === undefined && first.fd === undefined) {
      args[0] = Object.assign({}, first, { host: LOOPBACK });
    }
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    // Positional form: listen(port, [host], [backlog], [callback]).
    const rest = args.slice(1);
    if (typeof rest[0] === 'string') {
      rest.shift(); // drop the caller's host
    }
    args = [first, LOOPBACK, ...rest];
  } else if (first === undefined || typeof first === 'function') {
    // listen() / listen(cb): an ephemeral port on loopback.
    args = [0, LOOPBACK, ...args.filter((a) => a !== undefined)];
  }
  return originalListen.apply(this, args);
};
