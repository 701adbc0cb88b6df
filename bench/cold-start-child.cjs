// Child process of bench/bench.ts, one fresh `node` per cold start:
//   node bench/cold-start-child.cjs <built function file>
// Installs the runtime's globals, then times require() of the built function
// alone, then require('twilio'), which the functions load on their first
// request. Prints one line: COLD_START {"requireMs":…,"twilioMs":…}.
'use strict';
const { join } = require('node:path');
const { installRuntimeGlobals } = require(join(__dirname, '..', 'dev', 'deployed-runtime.cjs'));

function timedRequire(id) {
  const start = process.hrtime.bigint();
  const loaded = require(id);
  return { loaded, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

installRuntimeGlobals({});
const built = timedRequire(process.argv[2]);
if (typeof built.loaded.handler !== 'function') throw new Error(`${process.argv[2]} exports no handler`);
const twilio = timedRequire('twilio');
process.stdout.write(`COLD_START ${JSON.stringify({ requireMs: built.ms, twilioMs: twilio.ms })}\n`);
