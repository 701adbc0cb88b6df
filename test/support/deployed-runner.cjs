// Child-process entry for the deployed-layout test: reads a JSON job on stdin
// ({ settings, context?: { twilioClient? }, calls: [{ function, event }] }), runs
// the built functions from a flat folder under generated names, and prints one
// JSON result per call, and how often getTwilioClient() was called.
'use strict';
const { prepareFlatDeployment, installRuntimeGlobals, makeContext, invoke, twilioClientCalls } = require('../../dev/deployed-runtime.cjs');

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const job = JSON.parse(input);
  const { root, functions } = prepareFlatDeployment(job.distDir);
  installRuntimeGlobals(functions);
  const results = [];
  for (const call of job.calls) {
    const { path } = Runtime.getFunctions()[call.function];
    const { handler } = require(path);
    const context = makeContext(job.settings, { ...job.context, path: `/${call.function}` });
    const answer = await invoke(handler, context, call.event);
    results.push({ function: call.function, loadedFrom: path, ...answer });
  }
  // The functions' own log lines share stdout; the result is the last line.
  process.stdout.write('\nRESULT ' + JSON.stringify({ root, results, twilioClientCalls: twilioClientCalls.count }) + '\n');
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
