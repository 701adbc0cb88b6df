/**
 * Benchmark of the built transfer functions (not a test: nothing here fails a build).
 *
 *   npm run bench                       (builds, then runs this file through scripts/run-ts.mjs)
 *   npm run bench -- --iterations=500 --latency=20 --cold-start-runs=15
 *   node scripts/run-ts.mjs bench/bench.ts --dist=/tmp/candidate --out=/tmp/candidate.json   (no rebuild)
 *
 * Options: --iterations (200) --warmup (30) --latency ms (20) --cold-start-runs (15)
 * --first-request-runs (5) --skip-cold-start --out (bench/results/latest.json)
 * --dist (dist/: built output to measure, e.g. a candidate build to compare)
 *
 * The built files (dist/functions) are copied into a flat folder under
 * generated names, as a deployed service holds them, and called in-process
 * with a runtime-like context whose getTwilioClient() builds the real `twilio`
 * client. *.twilio.com traffic goes to the loopback Twilio stand-in, which
 * waits a fixed `--latency` before every answer, so each upstream call costs
 * what a network round trip would.
 *
 * Measured per transfer (one transfer at a time, so upstream calls never overlap
 * with another transfer's):
 * - round trips: requests the stand-in received during the transfer;
 * - handler: handler(context, event, callback) called -> callback called (performance.now());
 * - upstream wait: length of the union of the stand-in's request spans inside
 *   the handler window, each span from the request's headers being parsed
 *   (diagnostics channel http.server.request.start) to its response being
 *   handed to the socket (http.server.response.finish). It holds the injected
 *   latency as the timer really fired (setTimeout overshoots it) and the
 *   stand-in's own work: everything Twilio would spend on its side;
 * - overhead = handler - upstream wait: what the function costs beyond waiting
 *   for Twilio. It is split further with client-side spans (http.request()
 *   called -> response 'end' seen, by wrapping http.request):
 *     transport   = client spans - stand-in spans (HTTP on loopback: connect,
 *                   write, parse; a new TCP connection per request here, as the
 *                   redirect uses no agent; TLS in production is not modelled;
 *                   also whatever the HTTP client library does between
 *                   http.request() and the response's end, e.g. axios' streams)
 *     in-function = handler - client spans (the function's own code and the
 *                   helper libraries it drives: validation, client
 *                   construction, request building, response handling, log line).
 *
 * The stand-in runs in the same process and on the same event loop, so its CPU
 * work is counted as upstream wait only while one of its spans is open. The
 * functions' log line (console.log) is captured in memory during measured calls:
 * its formatting is measured, the terminal write is not.
 *
 * Cold start: fresh `node` processes (bench/cold-start-child.cjs) stub the runtime
 * globals and time require() of a built function file from the flat folder.
 * Also measured: require() of the lazily loaded packages, and the first and
 * second request of a fresh process (what the first caller after a cold start waits).
 *
 * Results: a table on stdout and bench/results/latest.json. The machine is
 * shared: run it on a quiet machine, or compare medians of several runs.
 */
import { spawn } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { format } from 'node:util';
import { baseSettings, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from '../test/support/functions-server';
import { newSid, type Route, TwilioStandin } from '../test/support/twilio-standin';

// ---------------------------------------------------------------- options

interface Options {
  iterations: number;
  warmup: number;
  latencyMs: number;
  coldStartRuns: number;
  firstRequestRuns: number;
  out: string;
  skipColdStart: boolean;
  /** Built output to measure (default dist/): lets a candidate build be compared with the current one. */
  dist: string;
  /** Experiment: let redirected requests reuse connections (the redirect in test/support uses agent: false). */
}

function projectRoot(): string {
  const fromRunner = process.env.RUN_TS_PROJECT_ROOT;
  if (fromRunner) return resolve(fromRunner);
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'flex-transfer-functions') {
      return dir;
    }
    if (dirname(dir) === dir) throw new Error('run from inside the project (package.json "flex-transfer-functions" not found)');
  }
}

const ROOT = projectRoot();

function parseOptions(argv: readonly string[]): Options {
  const values = new Map<string, string>();
  for (const argument of argv) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(argument);
    if (!match?.[1]) throw new Error(`unknown argument ${argument}`);
    values.set(match[1], match[2] ?? 'true');
  }
  const known = ['iterations', 'warmup', 'latency', 'cold-start-runs', 'first-request-runs', 'out', 'skip-cold-start', 'dist'];
  for (const name of values.keys()) if (!known.includes(name)) throw new Error(`unknown option --${name} (known: ${known.join(', ')})`);
  const count = (name: string, fallback: number, min: number): number => {
    const raw = values.get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return value;
  };
  return {
    iterations: count('iterations', 200, 1),
    warmup: count('warmup', 30, 1),
    latencyMs: count('latency', 20, 0),
    coldStartRuns: count('cold-start-runs', 15, 1),
    firstRequestRuns: count('first-request-runs', 5, 0),
    out: resolve(values.get('out') ?? join(ROOT, 'bench', 'results', 'latest.json')),
    skipColdStart: values.get('skip-cold-start') === 'true',
    dist: resolve(values.get('dist') ?? join(ROOT, 'dist')),
  };
}

// ---------------------------------------------------------------- the deployed runtime (plain JS support file)

interface RuntimeResponse {
  statusCode: number;
  headers: Record<string, unknown>;
  body: unknown;
}
type Handler = (context: object, event: Record<string, unknown>, callback: (error: unknown, response?: RuntimeResponse) => void) => void;
interface DeployedRuntime {
  prepareFlatDeployment(distDir?: string): { root: string; functions: Record<string, { path: string }> };
  installRuntimeGlobals(functions: Record<string, { path: string }>): void;
  makeContext(settings: Record<string, string>, options: { path: string; domainName?: string }): object;
}

// Loaded at run time by absolute path: the bundle of this file lives elsewhere.
const requireFromRoot = createRequire(join(ROOT, 'package.json'));

// ---------------------------------------------------------------- spans

interface Span {
  start: number;
  end: number;
}

/** Stand-in side: headers parsed -> response handed to the socket. */
const standinSpans: Span[] = [];
const standinStarts = new WeakMap<object, number>();
subscribe('http.server.request.start', (message) => {
  standinStarts.set((message as { response: object }).response, performance.now());
});
subscribe('http.server.response.finish', (message) => {
  const start = standinStarts.get((message as { response: object }).response);
  if (start !== undefined) standinSpans.push({ start, end: performance.now() });
});

/** Client side: http.request() called -> response fully read. Installed after the *.twilio.com redirect, which calls http.request. */
const clientSpans: Span[] = [];
function wrapHttpRequest(): void {
  const original = http.request;
  const wrapped = function request(this: unknown, ...args: unknown[]): http.ClientRequest {
    const start = performance.now();
    const sent = (original as (...a: unknown[]) => http.ClientRequest).apply(this, args);
    sent.once('response', (response: http.IncomingMessage) => {
      response.once('end', () => clientSpans.push({ start, end: performance.now() }));
    });
    return sent;
  };
  http.request = wrapped as typeof http.request;
}

/** Total length of the union of spans, clipped to [from, to]. */
function coveredMs(spans: readonly Span[], from: number, to: number): number {
  const clipped = spans
    .map((span) => ({ start: Math.max(span.start, from), end: Math.min(span.end, to) }))
    .filter((span) => span.end > span.start)
    .sort((a, b) => a.start - b.start);
  let total = 0;
  let currentStart = -Infinity;
  let currentEnd = -Infinity;
  for (const span of clipped) {
    if (span.start > currentEnd) {
      if (currentEnd > currentStart) total += currentEnd - currentStart;
      currentStart = span.start;
      currentEnd = span.end;
    } else {
      currentEnd = Math.max(currentEnd, span.end);
    }
  }
  if (currentEnd > currentStart) total += currentEnd - currentStart;
  return total;
}

// ---------------------------------------------------------------- statistics

interface Stats {
  median: number;
  p95: number;
  mean: number;
  min: number;
  max: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length); // nearest rank
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

function stats(values: readonly number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const median =
    sorted.length % 2 === 1
      ? (sorted[(sorted.length - 1) / 2] as number)
      : ((sorted[sorted.length / 2 - 1] as number) + (sorted[sorted.length / 2] as number)) / 2;
  return {
    median,
    p95: percentile(sorted, 95),
    mean: sorted.reduce((sum, value) => sum + value, 0) / (sorted.length || 1),
    min: sorted[0] ?? NaN,
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000;
function rounded(s: Stats): Stats {
  return { median: round3(s.median), p95: round3(s.p95), mean: round3(s.mean), min: round3(s.min), max: round3(s.max) };
}

// ---------------------------------------------------------------- transfers

interface Sample {
  handlerMs: number;
  upstreamMs: number;
  clientMs: number;
  overheadMs: number;
  transportMs: number;
  inFunctionMs: number;
  roundTrips: number;
  routes: Partial<Record<Route | 'unknown', number>>;
  standinRequestMs: number[];
}

interface Scenario {
  name: string;
  description: string;
  expectedRoundTrips: number;
  /** Prepares the stand-in and returns the function and event for one transfer (not timed). */
  prepare(iteration: number): { functionName: string; event: Record<string, unknown> };
  check(response: RuntimeResponse): string | undefined;
}

interface Bench {
  standin: TwilioStandin;
  handlers: Record<string, Handler>;
  contexts: Record<string, object>;
  logLines: string[];
}

/** Calls the handler and times it from the call to the callback (the callback's own work is not timed). */
function timedCall(
  handler: Handler,
  context: object,
  event: Record<string, unknown>,
): Promise<{ start: number; end: number; response: RuntimeResponse }> {
  return new Promise((resolveCall, reject) => {
    const start = performance.now();
    handler(context, event, (error, response) => {
      const end = performance.now();
      if (error || !response) reject(error ?? new Error('callback without a response'));
      else resolveCall({ start, end, response });
    });
  });
}

async function runOnce(bench: Bench, scenario: Scenario, iteration: number): Promise<Sample> {
  const { functionName, event } = scenario.prepare(iteration);
  const handler = bench.handlers[functionName];
  const context = bench.contexts[functionName];
  if (!handler || !context) throw new Error(`no function ${functionName}`);
  const requestsBefore = bench.standin.requests.length;
  standinSpans.length = 0;
  clientSpans.length = 0;
  bench.logLines.length = 0;

  const { start, end, response } = await timedCall(handler, context, event);

  const problem = scenario.check(response);
  if (problem) throw new Error(`${scenario.name} #${iteration}: ${problem}: ${JSON.stringify(response.body)}`);
  const received = bench.standin.requests.slice(requestsBefore);
  const routes: Sample['routes'] = {};
  for (const request of received) routes[request.route] = (routes[request.route] ?? 0) + 1;
  const log = bench.logLines.map((line) => JSON.parse(line) as { status?: number });
  if (log.length !== 1 || log[0]?.status !== 201)
    throw new Error(`${scenario.name} #${iteration}: log lines ${JSON.stringify(bench.logLines)}`);
  const handlerMs = end - start;
  const upstreamMs = coveredMs(standinSpans, start, end);
  const clientMs = coveredMs(clientSpans, start, end);
  return {
    handlerMs,
    upstreamMs,
    clientMs,
    overheadMs: handlerMs - upstreamMs,
    transportMs: clientMs - upstreamMs,
    inFunctionMs: handlerMs - clientMs,
    roundTrips: received.length,
    routes,
    standinRequestMs: standinSpans.filter((span) => span.start >= start && span.end <= end).map((span) => span.end - span.start),
  };
}

interface ScenarioResult {
  name: string;
  description: string;
  iterations: number;
  expectedRoundTrips: number;
  roundTrips: Stats;
  roundTripsAllExpected: boolean;
  routes: Partial<Record<Route | 'unknown', number>>;
  handlerMs: Stats;
  upstreamWaitMs: Stats;
  overheadMs: Stats;
  transportMs: Stats;
  inFunctionMs: Stats;
  standinRequestMs: Stats;
}

function summarize(scenario: Scenario, samples: readonly Sample[]): ScenarioResult {
  const routes: Partial<Record<Route | 'unknown', number>> = {};
  for (const sample of samples) {
    for (const [route, count] of Object.entries(sample.routes) as [Route, number][]) routes[route] = (routes[route] ?? 0) + count;
  }
  const roundTrips = samples.map((sample) => sample.roundTrips);
  return {
    name: scenario.name,
    description: scenario.description,
    iterations: samples.length,
    expectedRoundTrips: scenario.expectedRoundTrips,
    roundTrips: rounded(stats(roundTrips)),
    roundTripsAllExpected: roundTrips.every((count) => count === scenario.expectedRoundTrips),
    routes,
    handlerMs: rounded(stats(samples.map((sample) => sample.handlerMs))),
    upstreamWaitMs: rounded(stats(samples.map((sample) => sample.upstreamMs))),
    overheadMs: rounded(stats(samples.map((sample) => sample.overheadMs))),
    transportMs: rounded(stats(samples.map((sample) => sample.transportMs))),
    inFunctionMs: rounded(stats(samples.map((sample) => sample.inFunctionMs))),
    standinRequestMs: rounded(stats(samples.flatMap((sample) => sample.standinRequestMs))),
  };
}

// ---------------------------------------------------------------- child processes

interface ChildRun {
  result: Record<string, unknown>;
  wallMs: number;
}

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  // Nothing of the runner's (NODE_PATH, --cpu-prof in NODE_OPTIONS) in the measured processes.
  delete env.NODE_OPTIONS;
  delete env.NODE_PATH;
  return env;
}

function runChild(args: readonly string[], env: NodeJS.ProcessEnv): Promise<ChildRun> {
  return new Promise((resolveRun, reject) => {
    const startedAt = performance.now();
    const child = spawn(process.execPath, [join(ROOT, 'bench', 'cold-start-child.cjs'), ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - startedAt;
      const line = stdout.split('\n').find((text) => text.startsWith('BENCH_RESULT '));
      if (code !== 0 || !line) {
        reject(new Error(`child ${args.join(' ')} exited ${code}:\n${stderr}${stdout}`));
        return;
      }
      resolveRun({ result: JSON.parse(line.slice('BENCH_RESULT '.length)) as Record<string, unknown>, wallMs });
    });
  });
}

interface ColdStartResult {
  runs: number;
  requireMs: Stats;
  processStartToRequireMs: Stats;
  processWallMs: Stats;
  lazyDependencies: { twilioMs: Stats; tokenValidatorMs: Stats };
  firstRequest?: {
    runs: number;
    note: string;
    firstCallMs: Stats;
    secondCallMs: Stats;
    firstCallRoundTrips: Stats;
    secondCallRoundTrips: Stats;
  };
}

async function measureColdStart(
  options: Options,
  modules: string[],
  standin: TwilioStandin,
  firstRequestJob: () => { path: string; module: string; settings: Record<string, string>; events: Record<string, unknown>[] },
): Promise<ColdStartResult> {
  const env = childEnv();
  const requireMs: number[] = [];
  const bootMs: number[] = [];
  const wallMs: number[] = [];
  for (let run = 0; run < options.coldStartRuns; run += 1) {
    const modulePath = modules[run % modules.length] as string;
    const { result, wallMs: wall } = await runChild(['load', modulePath], env);
    requireMs.push(result.requireMs as number);
    bootMs.push(result.processStartToRequireMs as number);
    wallMs.push(wall);
  }
  const twilioMs: number[] = [];
  const validatorMs: number[] = [];
  for (let run = 0; run < Math.min(options.coldStartRuns, 5); run += 1) {
    const { result } = await runChild(['deps'], env);
    twilioMs.push(result.twilioMs as number);
    validatorMs.push(result.tokenValidatorMs as number);
  }
  const cold: ColdStartResult = {
    runs: options.coldStartRuns,
    requireMs: rounded(stats(requireMs)),
    processStartToRequireMs: rounded(stats(bootMs)),
    processWallMs: rounded(stats(wallMs)),
    lazyDependencies: { twilioMs: rounded(stats(twilioMs)), tokenValidatorMs: rounded(stats(validatorMs)) },
  };
  if (options.firstRequestRuns > 0) {
    const first: number[] = [];
    const second: number[] = [];
    const firstTrips: number[] = [];
    const secondTrips: number[] = [];
    for (let run = 0; run < options.firstRequestRuns; run += 1) {
      const job = firstRequestJob();
      const before = standin.requests.length;
      const { result } = await runChild(
        ['first-request', job.module],
        childEnv({
          TWILIO_STANDIN_URL: standin.url,
          BENCH_JOB: JSON.stringify({ projectRoot: ROOT, settings: job.settings, path: job.path, events: job.events }),
        }),
      );
      const calls = result.calls as { ms: number; statusCode: number }[];
      if (calls.some((call) => call.statusCode !== 201)) throw new Error(`first-request run answered ${JSON.stringify(calls)}`);
      first.push(calls[0]?.ms ?? NaN);
      second.push(calls[1]?.ms ?? NaN);
      // Requests arrive in order; the first call's are those before the second call's first invite.
      const received = standin.requests.slice(before).map((request) => request.route);
      const secondStart = received.lastIndexOf('invite');
      firstTrips.push(secondStart);
      secondTrips.push(received.length - secondStart);
    }
    cold.firstRequest = {
      runs: options.firstRequestRuns,
      note: 'fresh process: require the module, then two warm transfers with a new Flex token (the first validates it, the second hits the cache)',
      firstCallMs: rounded(stats(first)),
      secondCallMs: rounded(stats(second)),
      firstCallRoundTrips: rounded(stats(firstTrips)),
      secondCallRoundTrips: rounded(stats(secondTrips)),
    };
  }
  return cold;
}

// ---------------------------------------------------------------- report

function fmt(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  '),
    )
    .join('\n');
}

function gitCommit(): string | undefined {
  try {
    const head = readFileSync(join(ROOT, '.git', 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return head;
    const ref = head.slice(5);
    const loose = join(ROOT, '.git', ref);
    if (existsSync(loose)) return readFileSync(loose, 'utf8').trim();
    const packed = readFileSync(join(ROOT, '.git', 'packed-refs'), 'utf8');
    return packed
      .split('\n')
      .find((line) => line.endsWith(` ${ref}`))
      ?.split(' ')[0];
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const distDir = options.dist;
  if (!existsSync(join(distDir, 'functions')))
    throw new Error(`${distDir}/functions is missing: run \`npm run build\` first (npm run bench does)`);
  const loadBefore = loadavg();

  const standin = await new TwilioStandin(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN).start();
  standin.latencyMs = options.latencyMs;
  process.env.TWILIO_STANDIN_URL = standin.url;
  requireFromRoot(join(ROOT, 'test', 'support', 'redirect-twilio.cjs'));
  wrapHttpRequest();

  const runtime = requireFromRoot(join(ROOT, 'test', 'support', 'deployed-runtime.cjs')) as DeployedRuntime;
  const deployment = runtime.prepareFlatDeployment(distDir);
  runtime.installRuntimeGlobals(deployment.functions);
  const settings = baseSettings();
  const functionNames = ['transfer-to-agent', 'transfer-to-queue'];
  const handlers: Record<string, Handler> = {};
  const contexts: Record<string, object> = {};
  for (const name of functionNames) {
    const file = deployment.functions[name];
    if (!file) throw new Error(`dist/functions/${name}.js is missing`);
    handlers[name] = (requireFromRoot(file.path) as { handler: Handler }).handler;
    contexts[name] = runtime.makeContext(settings, { path: `/${name}` });
  }

  const logLines: string[] = [];
  const bench: Bench = { standin, handlers, contexts, logLines };
  const workerSid = newSid('WK');
  const cachedToken = `bench-token-${newSid('')}`;
  standin.grantToken(cachedToken, { worker_sid: workerSid, roles: ['agent'] });

  // What the runtime passes for a Flex UI fetch.
  const headers = { 'content-type': 'application/json', origin: 'https://flex.twilio.com' };
  /** A runtime event for one transfer with a Flex token; `fields` add to or override the defaults. */
  const transferEvent = (token: string, fields: Record<string, unknown>) => ({
    request: { headers, cookies: {} },
    Token: token,
    interactionSid: newSid('KD'),
    channelSid: newSid('UO'),
    ...fields,
  });
  /** Alternates the two functions, so both are measured and both stay warm. */
  const target = (iteration: number): { functionName: string; fields: Record<string, string> } =>
    iteration % 2 === 0
      ? { functionName: 'transfer-to-agent', fields: { workerSid: newSid('WK') } }
      : { functionName: 'transfer-to-queue', fields: { queueSid: newSid('WQ') } };
  const created =
    (transferType: 'warm' | 'cold') =>
    (response: RuntimeResponse): string | undefined => {
      const body = response.body as { participantClosed?: boolean; warnings?: unknown[]; transferType?: string } | undefined;
      if (response.statusCode !== 201) return `status ${response.statusCode}`;
      if (body?.transferType !== transferType) return `transferType ${String(body?.transferType)}`;
      if (transferType === 'cold' && body.participantClosed !== true) return 'participant not closed';
      if (body.warnings?.length) return 'warnings';
      return undefined;
    };

  const scenarios: Scenario[] = [
    {
      name: 'warm',
      description: 'warm transfer, Flex token already validated (cached)',
      expectedRoundTrips: 1,
      prepare: (iteration) => {
        const { functionName, fields } = target(iteration);
        return { functionName, event: transferEvent(cachedToken, fields) };
      },
      check: created('warm'),
    },
    {
      name: 'cold',
      description: 'cold transfer with participantSid, Flex token cached',
      expectedRoundTrips: 2,
      prepare: (iteration) => {
        const { functionName, fields } = target(iteration);
        const interactionSid = newSid('KD');
        const channelSid = newSid('UO');
        const participantSid = newSid('UT');
        standin.setParticipants(interactionSid, channelSid, [{ sid: participantSid, routing_properties: { worker_sid: workerSid } }]);
        const event = transferEvent(cachedToken, { interactionSid, channelSid, transferType: 'cold', participantSid, ...fields });
        return { functionName, event };
      },
      check: created('cold'),
    },
    {
      name: 'warm-new-token',
      description: 'warm transfer, first call with this Flex token (validated upstream)',
      expectedRoundTrips: 2,
      prepare: (iteration) => {
        const { functionName, fields } = target(iteration);
        const token = `bench-token-${newSid('')}`;
        standin.grantToken(token, { worker_sid: workerSid, roles: ['agent'] });
        return { functionName, event: transferEvent(token, fields) };
      },
      check: created('warm'),
    },
  ];

  // The functions' log lines are formatted as console.log would, kept in memory while measuring.
  const consoleLog = console.log;
  console.log = (...args: unknown[]) => void logLines.push(format(...args));
  const samples = new Map<string, Sample[]>(scenarios.map((scenario) => [scenario.name, []]));
  const startedAt = performance.now();
  try {
    // Warm-up (the first call loads `twilio` and the token validator), then measured rounds;
    // scenarios are interleaved so that a change in machine load hits all of them alike.
    for (let iteration = 0; iteration < options.warmup + options.iterations; iteration += 1) {
      for (const scenario of scenarios) {
        const sample = await runOnce(bench, scenario, iteration);
        if (iteration >= options.warmup) samples.get(scenario.name)?.push(sample);
      }
    }
  } finally {
    console.log = consoleLog;
  }
  const transfersMs = performance.now() - startedAt;

  const results = scenarios.map((scenario) => summarize(scenario, samples.get(scenario.name) ?? []));

  let coldStart: ColdStartResult | undefined;
  if (!options.skipColdStart) {
    coldStart = await measureColdStart(
      options,
      functionNames.map((name) => deployment.functions[name]?.path as string),
      standin,
      () => {
        const token = `bench-token-${newSid('')}`;
        standin.grantToken(token, { worker_sid: workerSid, roles: ['agent'] });
        const event = () => transferEvent(token, { queueSid: newSid('WQ') });
        const module = deployment.functions['transfer-to-queue']?.path as string;
        return { path: '/transfer-to-queue', module, settings, events: [event(), event()] };
      },
    );
  }
  await standin.stop();
  // The flat copy of the built files (its node_modules is a symlink: removed, not followed).
  rmSync(deployment.root, { recursive: true, force: true });

  // ---- targets
  const warm = results.find((result) => result.name === 'warm');
  const cold = results.find((result) => result.name === 'cold');
  const targets = [
    {
      target: 'warm transfer: 1 round trip (token cached)',
      actual: warm ? `${warm.roundTrips.min}..${warm.roundTrips.max}` : '-',
      met: warm?.roundTripsAllExpected ?? false,
    },
    {
      target: 'cold transfer: 2 round trips (participantSid given)',
      actual: cold ? `${cold.roundTrips.min}..${cold.roundTrips.max}` : '-',
      met: cold?.roundTripsAllExpected ?? false,
    },
    {
      target: 'warm overhead median < 2 ms',
      actual: warm ? `${fmt(warm.overheadMs.median)} ms` : '-',
      met: (warm?.overheadMs.median ?? Infinity) < 2,
    },
    {
      target: 'cold overhead median < 2 ms',
      actual: cold ? `${fmt(cold.overheadMs.median)} ms` : '-',
      met: (cold?.overheadMs.median ?? Infinity) < 2,
    },
    ...(coldStart
      ? [
          {
            target: 'cold start (require) median < 50 ms',
            actual: `${fmt(coldStart.requireMs.median)} ms`,
            met: coldStart.requireMs.median < 50,
          },
        ]
      : []),
  ];
  const loadAfter = loadavg();

  // ---- print
  const out: string[] = [];
  out.push(
    `flex-transfer-functions benchmark: latency ${options.latencyMs} ms per upstream call, ${options.iterations} measured transfers per scenario ` +
      `after ${options.warmup} warm-up, both functions alternating; node ${process.version}, ${cpus().length} CPUs, ` +
      `load ${loadBefore.map((value) => value.toFixed(2)).join(' ')} -> ${loadAfter.map((value) => value.toFixed(2)).join(' ')}`,
    ...(options.dist !== join(ROOT, 'dist') ? [`built output measured: ${options.dist}`] : []),
    '',
  );
  const header = [
    'scenario',
    'round trips',
    'handler med',
    'p95',
    'upstream med',
    'overhead med',
    'p95',
    'in-function med',
    'transport med',
    'stand-in/request med',
  ];
  const rows = results.map((result) => [
    result.name,
    result.roundTrips.min === result.roundTrips.max
      ? String(result.roundTrips.median)
      : `${result.roundTrips.min}..${result.roundTrips.max}`,
    fmt(result.handlerMs.median),
    fmt(result.handlerMs.p95),
    fmt(result.upstreamWaitMs.median),
    fmt(result.overheadMs.median),
    fmt(result.overheadMs.p95),
    fmt(result.inFunctionMs.median),
    fmt(result.transportMs.median),
    fmt(result.standinRequestMs.median),
  ]);
  out.push('transfers (ms)', table([header, ...rows]), '');
  out.push(
    'overhead = handler - upstream wait (stand-in spans incl. latency); overhead = in-function + transport (loopback HTTP; the calls of one transfer share a connection)',
    '',
  );
  if (coldStart) {
    out.push(
      'cold start (ms, fresh node per run)',
      table([
        ['measure', 'runs', 'median', 'p95', 'min', 'max'],
        [
          'require(built function)',
          String(coldStart.runs),
          ...[coldStart.requireMs.median, coldStart.requireMs.p95, coldStart.requireMs.min, coldStart.requireMs.max].map((v) => fmt(v)),
        ],
        [
          'node start -> require begins',
          String(coldStart.runs),
          ...[
            coldStart.processStartToRequireMs.median,
            coldStart.processStartToRequireMs.p95,
            coldStart.processStartToRequireMs.min,
            coldStart.processStartToRequireMs.max,
          ].map((v) => fmt(v)),
        ],
        [
          'whole child process (spawn -> exit)',
          String(coldStart.runs),
          ...[coldStart.processWallMs.median, coldStart.processWallMs.p95, coldStart.processWallMs.min, coldStart.processWallMs.max].map(
            (v) => fmt(v),
          ),
        ],
        [
          "lazy: require('twilio')",
          String(Math.min(coldStart.runs, 5)),
          ...[
            coldStart.lazyDependencies.twilioMs.median,
            coldStart.lazyDependencies.twilioMs.p95,
            coldStart.lazyDependencies.twilioMs.min,
            coldStart.lazyDependencies.twilioMs.max,
          ].map((v) => fmt(v)),
        ],
        [
          "lazy: require('twilio-flex-token-validator')",
          String(Math.min(coldStart.runs, 5)),
          ...[
            coldStart.lazyDependencies.tokenValidatorMs.median,
            coldStart.lazyDependencies.tokenValidatorMs.p95,
            coldStart.lazyDependencies.tokenValidatorMs.min,
            coldStart.lazyDependencies.tokenValidatorMs.max,
          ].map((v) => fmt(v)),
        ],
        ...(coldStart.firstRequest
          ? [
              [
                `1st request in fresh process (${coldStart.firstRequest.firstCallRoundTrips.median} trips)`,
                String(coldStart.firstRequest.runs),
                ...[
                  coldStart.firstRequest.firstCallMs.median,
                  coldStart.firstRequest.firstCallMs.p95,
                  coldStart.firstRequest.firstCallMs.min,
                  coldStart.firstRequest.firstCallMs.max,
                ].map((v) => fmt(v)),
              ],
              [
                `2nd request in that process (${coldStart.firstRequest.secondCallRoundTrips.median} trip)`,
                String(coldStart.firstRequest.runs),
                ...[
                  coldStart.firstRequest.secondCallMs.median,
                  coldStart.firstRequest.secondCallMs.p95,
                  coldStart.firstRequest.secondCallMs.min,
                  coldStart.firstRequest.secondCallMs.max,
                ].map((v) => fmt(v)),
              ],
            ]
          : []),
      ]),
      '',
    );
  }
  out.push('targets', table([['target', 'actual', 'met'], ...targets.map((t) => [t.target, t.actual, t.met ? 'yes' : 'NO'])]), '');
  out.push('Shared machine: numbers are noisy; compare medians of several runs before acting on a difference under ~0.5 ms.');
  console.log(out.join('\n'));

  const summary = {
    schema: 'flex-transfer-functions/bench/v1',
    generatedAt: new Date().toISOString(),
    commit: gitCommit(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus().length,
    loadAverage: { before: loadBefore, after: loadAfter },
    config: {
      dist: options.dist,
      latencyMs: options.latencyMs,
      iterations: options.iterations,
      warmup: options.warmup,
      coldStartRuns: options.coldStartRuns,
      firstRequestRuns: options.firstRequestRuns,
      functions: functionNames,
      durationMs: round3(transfersMs),
    },
    method: {
      handlerMs: 'handler(context, event, callback) called -> callback called',
      upstreamWaitMs:
        'union of stand-in spans (http.server.request.start -> http.server.response.finish) within the handler window; includes the injected latency',
      overheadMs: 'handlerMs - upstreamWaitMs',
      transportMs: 'union of client spans (http.request() called -> response end) - upstreamWaitMs',
      inFunctionMs: 'handlerMs - union of client spans',
      roundTrips: 'requests the stand-in recorded during the transfer',
    },
    scenarios: results,
    coldStart,
    targets,
  };
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, JSON.stringify(summary, null, 2) + '\n');
  console.log(`\nJSON summary: ${options.out}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
