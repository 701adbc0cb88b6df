// Preloaded with `node --require` into twilio-run and its forked function
// processes (through NODE_OPTIONS in the env file): every HTTPS request to
// *.twilio.com goes, as plain HTTP, to the loopback Twilio stand-in named by
// TWILIO_STANDIN_URL. The real `twilio` client and the real token validator
// run unchanged; only the network destination differs.
'use strict';
const http = require('node:http');
const https = require('node:https');

const target = process.env.TWILIO_STANDIN_URL ? new URL(process.env.TWILIO_STANDIN_URL) : undefined;

function isTwilioHost(hostname) {
  return typeof hostname === 'string' && (hostname === 'twilio.com' || hostname.endsWith('.twilio.com'));
}

// A keep-alive HTTPS agent stays a keep-alive agent on the way to the stand-in,
// so connection reuse behaves as it would against Twilio.
// A request without an agent uses https.globalAgent, which keeps connections alive since Node 19.
const keepAliveAgents = new WeakMap();
function redirectedAgent(agent = https.globalAgent) {
  if (!agent || !agent.keepAlive) return false;
  if (!keepAliveAgents.has(agent)) keepAliveAgents.set(agent, new http.Agent({ keepAlive: true }));
  return keepAliveAgents.get(agent);
}

function redirected(originalRequest) {
  return function request(...args) {
    let url;
    let options;
    let callback;
    for (const arg of args) {
      if (typeof arg === 'function') callback = arg;
      else if (typeof arg === 'string' || arg instanceof URL) url = new URL(arg);
      else if (arg && typeof arg === 'object') options = arg;
    }
    const hostname = (options && (options.hostname || options.host)) || (url && url.hostname);
    const bareHost = typeof hostname === 'string' ? hostname.replace(/:\d+$/, '') : hostname;
    if (!target || !isTwilioHost(bareHost)) return originalRequest.apply(this, args);

    const merged = {
      method: (options && options.method) || 'GET',
      path: (options && options.path) || (url ? url.pathname + url.search : '/'),
      headers: { ...((options && options.headers) || {}) },
      timeout: options && options.timeout,
      auth: options && options.auth,
      signal: options && options.signal,
    };
    merged.headers['x-standin-original-host'] = bareHost;
    const sent = http.request(
      { ...merged, protocol: 'http:', hostname: target.hostname, port: target.port, agent: redirectedAgent(options && options.agent) },
      callback,
    );
    return sent;
  };
}

if (target) {
  https.request = redirected(https.request);
  https.get = function get(...args) {
    const sent = https.request(...args);
    sent.end();
    return sent;
  };
}
