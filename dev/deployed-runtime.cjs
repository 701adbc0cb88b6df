// Runs the built functions the way a deployed Twilio Functions instance does:
// each file copied into one flat `handlers/` folder under a generated name
// (ZN + 32 hex), `node_modules` beside it, and the runtime's globals
// (`Twilio`, `Runtime`, `Functions`) answering like Twilio's. Used by the
// deployed-layout test (in a child process) and by the benchmark.
'use strict';
const { randomBytes } = require('node:crypto');
const { copyFileSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');

const PROJECT_ROOT = resolve(__dirname, '..');

/** Copies dist/functions/*.js into <tmp>/handlers/ZN….js; returns { root, functions: { name: { path } } }. */
function prepareFlatDeployment(distDir = join(PROJECT_ROOT, 'dist')) {
  const root = mkdtempSync(join(tmpdir(), 'flat-deploy-'));
  const handlersDir = join(root, 'handlers');
  mkdirSync(handlersDir);
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  const functions = {};
  for (const file of readdirSync(join(distDir, 'functions'))) {
    if (!file.endsWith('.js')) continue;
    const generated = join(handlersDir, `ZN${randomBytes(16).toString('hex')}.js`);
    copyFileSync(join(distDir, 'functions', file), generated);
    functions[file.replace(/\.js$/, '')] = { path: generated };
  }
  return { root, functions };
}

/** The globals the runtime defines before loading a function file. */
function installRuntimeGlobals(functions, assets = {}) {
  // The runtime's own Response class (not exported by the package, so loaded by file path).
  const { Response } = require(
    join(PROJECT_ROOT, 'node_modules', '@twilio', 'runtime-handler', 'dist', 'dev-runtime', 'internal', 'response.js'),
  );
  const runtime = {
    getFunctions: () => functions,
    getAssets: () => assets,
    getSync: () => {
      throw new Error('Sync is not available in this emulation');
    },
  };
  global.Runtime = runtime;
  global.Functions = functions;
  global.Twilio = { Response };
}

/** How often any context's getTwilioClient() was called in this process: the functions must never need it. */
const twilioClientCalls = { count: 0 };
let sharedTwilioClient;

/**
 * A context like the runtime's: settings, DOMAIN_NAME, PATH and getTwilioClient().
 * `twilioClient: 'shared'` makes getTwilioClient() behave like the least helpful
 * runtime: it ignores its options and returns one client shared by every request.
 * Every call is counted either way (twilioClientCalls.count).
 */
function makeContext(settings, { domainName = 'example-1234.twil.io', path, twilioClient = 'per-call' }) {
  return {
    ...settings,
    DOMAIN_NAME: domainName,
    PATH: path,
    SERVICE_SID: 'ZS' + '0'.repeat(32),
    ENVIRONMENT_SID: 'ZE' + '0'.repeat(32),
    getTwilioClient(options) {
      twilioClientCalls.count += 1;
      const twilio = require('twilio');
      if (twilioClient === 'shared') {
        sharedTwilioClient ??= twilio(settings.ACCOUNT_SID, settings.AUTH_TOKEN);
        return sharedTwilioClient;
      }
      return twilio(settings.ACCOUNT_SID, settings.AUTH_TOKEN, { lazyLoading: true, ...options });
    },
  };
}

/** Calls handler(context, event, callback); resolves with the serialized response. */
function invoke(handler, context, event) {
  return new Promise((resolvePromise, reject) => {
    handler(context, event, (error, response) => {
      if (error) {
        reject(error);
        return;
      }
      resolvePromise({ statusCode: response.statusCode, headers: response.headers, body: response.body });
    });
  });
}

module.exports = { PROJECT_ROOT, prepareFlatDeployment, installRuntimeGlobals, makeContext, invoke, twilioClientCalls };
