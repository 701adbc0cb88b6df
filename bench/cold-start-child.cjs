// Child process of bench/bench.ts: one fresh `node` per measurement. Prints one
// line `BENCH_RESULT {json}` (the functions' own log lines share stdout).
//
//   node bench/cold-start-child.cjs load <built function file>
//     Stubs the runtime globals and times require() of the built module alone.
//   node bench/cold-start-child.cjs deps
//     Times require() of the packages the functions load lazily.
//   node bench/cold-start-child.cjs first-request <built function file>
//     With env BENCH_JOB = { projectRoot, settings, path, events: [event, ...] }
//     and TWILIO_STANDIN_URL: loads the module as the runtime would and times
//     each call in order (the first one pays for everything loaded lazily).
'use strict';
const { performance } = require('node:perf_hooks');
const { join } = require('node:path');

function print(result) {
  process.stdout.write('\nBENCH_RESULT ' + JSON.stringify(result) + '\n');
}

function stubRuntimeGlobals() {
  class Response {
    constructor(options = {}) {
      this.statusCode = options.statusCode ?? 200;
      this.body = options.body;
      this.headers = options.headers ?? {};
    }
    setStatusCode(code) {
      this.statusCode = code;
      return this;
    }
    setBody(body) {
      this.body = body;
      return this;
    }
    appendHeader(name, value) {
      this.headers[name] = value;
      return this;
    }
    setHeaders(headers) {
      this.headers = headers;
      return this;
    }
  }
  global.Twilio = { Response };
  global.Runtime = { getFunctions: () => ({}), getAssets: () => ({}) };
  global.Functions = {};
}

function timeRequire(id) {
  const start = process.hrtime.bigint();
  const loaded = require(id);
  const end = process.hrtime.bigint();
  return { loaded, ms: Number(end - start) / 1e6 };
}

async function main() {
  const [mode, modulePath] = process.argv.slice(2);
  if (mode === 'load') {
    stubRuntimeGlobals();
    const sinceProcessStartMs = performance.now();
    const { loaded, ms } = timeRequire(modulePath);
    if (typeof loaded.handler !== 'function') throw new Error(`${modulePath} exports no handler`);
    print({ requireMs: ms, processStartToRequireMs: sinceProcessStartMs });
    return;
  }
  if (mode === 'deps') {
    const twilio = timeRequire('twilio').ms;
    const validator = timeRequire('twilio-flex-token-validator').ms;
    print({ twilioMs: twilio, tokenValidatorMs: validator });
    return;
  }
  if (mode === 'first-request') {
    const job = JSON.parse(process.env.BENCH_JOB ?? '{}');
    require(join(job.projectRoot, 'test', 'support', 'redirect-twilio.cjs'));
    const runtime = require(join(job.projectRoot, 'test', 'support', 'deployed-runtime.cjs'));
    runtime.installRuntimeGlobals({});
    const { loaded, ms: requireMs } = timeRequire(modulePath);
    const context = runtime.makeContext(job.settings, { path: job.path });
    const calls = [];
    for (const event of job.events) {
      const start = performance.now();
      const answer = await new Promise((resolve, reject) => {
        loaded.handler(context, event, (error, response) => {
          const end = performance.now();
          if (error) reject(error);
          else resolve({ ms: end - start, statusCode: response.statusCode });
        });
      });
      calls.push(answer);
    }
    print({ requireMs, calls });
    return;
  }
  throw new Error(`unknown mode ${mode}`);
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + '\n');
  process.exit(1);
});
