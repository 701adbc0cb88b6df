// Child process of bench/bench.ts, one fresh `node` per cold start:
//   node bench/cold-start-child.cjs <built function file>
// Installs the runtime's globals, then times require('twilio') alone, then
// require() of the built function, which loads the helper library itself when
// the instance loads it (src/runtime/adapter.ts): loading the library first
// splits the instance's load into the library's part and the function's own.
// Prints one line: COLD_START {"twilioMs":…,"requireMs":…}.
'use strict';
const { join } = require('node:path');
const { installRuntimeGlobals } = require(join(__dirname, '..', 'dev', 'deployed-runtime.cjs'));

function timedRequire(id) {
  const start = process.hrtime.bigint();
  const loaded = require(id);
  return { loaded, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

installRuntimeGlobals({});
const twilio = timedRequire('twilio');
const built = timedRequire(process.argv[2]);
if (typeof built.loaded.handler !== 'function') throw new Error(`${process.argv[2]} exports no handler`);
process.stdout.write(`COLD_START ${JSON.stringify({ twilioMs: twilio.ms, requireMs: built.ms })}\n`);
