// Preloaded (NODE_OPTIONS=--require) into a script under test: any TCP connection
// or DNS lookup fails at once and is written to NO_NETWORK_LOG, so a test can
// prove the script never touched the network.
'use strict';
const dns = require('node:dns');
const fs = require('node:fs');
const net = require('node:net');

function refuse(what) {
  if (process.env.NO_NETWORK_LOG) fs.appendFileSync(process.env.NO_NETWORK_LOG, `${what}\n`);
  const error = new Error(`network use refused in this test: ${what}`);
  error.code = 'ENETUNREACH';
  throw error;
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const options = args[0];
  const port = typeof options === 'object' && options !== null ? options.port : options;
  if (port !== undefined && typeof options !== 'string') refuse(`connect ${JSON.stringify(options.host ?? '')}:${port}`);
  return connect.apply(this, args);
};
dns.lookup = (hostname) => refuse(`dns ${hostname}`);
