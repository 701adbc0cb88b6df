/**
 * Benchmark of the built functions (not a test: nothing here fails a build).
 *
 *   npm run bench                                   (builds first)
 *   npm run bench -- --iterations=50                (options, with their defaults: --iterations=200
 *                                                    --warmup=20 --latency=20 --cold-starts=15
 *                                                    --out=bench/results/latest.json)
 *
 * The files of dist/functions are copied into a flat folder under generated
 * names, as a deployed service holds them (dev/deployed-runtime.cjs),
 * and called in this process. Their default sender (the helper library's
 * RequestClient, HTTPS to *.twilio.com) is redirected by dev/redirect-twilio.cjs
 * to the loopback Twilio stand-in, which waits `--latency` ms before every answer.
 *
 * Per scenario, over `--iterations` calls (after `--warmup` unmeasured ones):
 * - latency: handler called -> callback called;
 * - round trips: sequential phases of the requests the stand-in recorded during
 *   the call. Each request is in flight from its arrival (`at`) for the simulated
 *   latency; requests whose windows overlap form one phase;
 * - overhead: latency - simulated latency x round trips, i.e. everything that is
 *   not Twilio's (simulated) time: the function's own work, the helper library's
 *   HTTP stack, loopback HTTP, the stand-in's own work and timer overshoot.
 * Cold start: require() of a built function in a fresh `node` (bench/cold-start-child.cjs).
 *
 * The machine is shared: compare medians of several runs before acting on a small difference.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type * as TwilioModule from 'twilio';
import { newSid, type RecordedRequest, TwilioStandin } from '../dev/twilio-standin';
import { FUNCTION_NAMES, type FunctionName } from '../src/registry';

// The bundle of this file runs from a temporary folder: project files are found from the root run-ts.mjs passes.
const ROOT = resolve(process.env.RUN_TS_PROJECT_ROOT ?? process.cwd());
const requireFromRoot = createRequire(join(ROOT, 'package.json'));

const ACCOUNT_SID = 'AC' + 'a1'.repeat(16);
const AUTH_TOKEN = 'T0kenT0kenT0kenT0kenT0kenT0ken12';
const WORKSPACE_SID = 'WS' + 'b2'.repeat(16);
const SETTINGS = {
  ACCOUNT_SID,
  AUTH_TOKEN,
  TWILIO_FLEX_WORKSPACE_SID: WORKSPACE_SID,
  // Longer than any run, so that each agent's token is validated once (in the warm-up) and then cached.
  TRANSFER_TOKEN_CACHE_SECONDS: '3600',
};
const DOMAIN_NAME = 'example-1234.twil.io';

type Event = Record<string, unknown>;
interface RuntimeAnswer {
  statusCode: number;
  body: unknown;
}
interface DeployedRuntime {
  prepareFlatDeployment(distDir?: string): { root: string; functions: Record<string, { path: string }> };
  installRuntimeGlobals(functions: Record<string, { path: string }>): void;
  makeContext(settings: Record<string, string>, options: { path: string; domainName?: string }): object;
  invoke(handler: unknown, context: object, event: Event): Promise<RuntimeAnswer>;
}

// ---------------------------------------------------------------- options

function parseOptions(argv: readonly string[]) {
  const defaults = { iterations: 200, warmup: 20, latency: 20, 'cold-starts': 15 };
  const options = { ...defaults, out: join(ROOT, 'bench', 'results', 'latest.json') };
  for (const argument of argv) {
    const [, name = '', value = ''] = /^--([a-z-]+)=(.+)$/.exec(argument) ?? [];
    if (name === 'out') options.out = resolve(value);
    else if (name in defaults && /^\d+$/.test(value)) options[name as keyof typeof defaults] = Number(value);
    else throw new Error(`unknown argument ${argument} (known: ${[...Object.keys(defaults), 'out'].map((n) => `--${n}=`).join(' ')})`);
  }
  // Round trips are told apart by the simulated latency: below a few ms, the clock's resolution blurs them.
  if (options.latency < 5) throw new Error('--latency must be at least 5 ms');
  if (options.iterations < 1) throw new Error('--iterations must be at least 1');
  return options;
}

// ---------------------------------------------------------------- measures

/**
 * The sequential phases of one call's requests, each as the routes it holds: a request arriving while the
 * current phase is still in flight (within the simulated latency of one of its requests) joins it.
 */
function sequentialPhases(requests: readonly RecordedRequest[], latencyMs: number): string[][] {
  const CLOCK_TICK_MS = 1; // `at` is Date.now(): whole ms, and a timer may fire up to a tick early
  const phases: string[][] = [];
  let phaseEndsAt = -Infinity;
  for (const { at, route } of [...requests].sort((a, b) => a.at - b.at)) {
    if (at + CLOCK_TICK_MS >= phaseEndsAt) phases.push([]);
    phases[phases.length - 1]?.push(route);
    phaseEndsAt = Math.max(phaseEndsAt, at + latencyMs);
  }
  return phases;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

interface Summary {
  median: number;
  p95: number;
}
const summary = (values: readonly number[]): Summary => ({
  median: Math.round(percentile(values, 50) * 1000) / 1000,
  p95: Math.round(percentile(values, 95) * 1000) / 1000,
});

// ---------------------------------------------------------------- scenarios

interface Scenario {
  name: string;
  functionName: FunctionName;
  expectedRoundTrips: number;
  /** Seeds the stand-in for one call and returns its event (not timed). */
  event(): Event;
  /** Why the answer is not the expected success, or undefined. */
  problem(answer: RuntimeAnswer): string | undefined;
}

interface Sample {
  latencyMs: number;
  roundTrips: number;
  /** e.g. "task-fetch+participant-list | invite" */
  phases: string;
  overheadMs: number;
}

interface ScenarioResult {
  name: string;
  function: FunctionName;
  expectedRoundTrips: number;
  roundTrips: { min: number; max: number; median: number };
  /** The requests of the last call, phase by phase. */
  phases: string;
  latencyMs: Summary;
  overheadMs: Summary;
}

function scenarios(standin: TwilioStandin, twilio: typeof TwilioModule): Scenario[] {
  /** A plain agent (roles: agent) with a Flex-shaped token (a compact JWE) the stand-in accepts. */
  const newAgent = () => {
    const workerSid = newSid('WK');
    const segment = () => Buffer.from(newSid('')).toString('base64url');
    const token = ['eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0', segment(), segment(), segment(), segment()].join('.');
    standin.grantToken(token, { worker_sid: workerSid, roles: ['agent'] });
    return { token, workerSid };
  };
  /** A conversation the agent handles: its task, and the agent and customer participants of its channel. */
  const newConversation = (workerSid: string) => {
    const [interactionSid, channelSid] = [newSid('KD'), newSid('UO')];
    const taskSid = standin.addTask({
      workspaceSid: WORKSPACE_SID,
      attributes: { name: 'Customer', conversations: { conversation_id: newSid('WT') } },
      taskChannelUniqueName: 'chat',
      taskQueueSid: newSid('WQ'),
      workflowSid: newSid('WW'),
      assignmentStatus: 'assigned',
    });
    standin.setParticipants(interactionSid, channelSid, [
      { sid: newSid('UT'), type: 'agent', routing_properties: { worker_sid: workerSid, task_sid: taskSid } },
      { sid: newSid('UT'), type: 'customer' },
    ]);
    return { interactionSid, channelSid, taskSid };
  };
  /** A pending transfer of the conversation to a queue, as an earlier call would have left it. */
  const addTransfer = (conversation: { interactionSid: string; channelSid: string }): string => {
    const queueSid = newSid('WQ');
    const attributes = { transferTargetType: 'queue', transferTargetSid: queueSid, transferType: 'warm' };
    const invite = standin.addInvite(conversation.interactionSid, conversation.channelSid, {
      workspace_sid: WORKSPACE_SID,
      queue_sid: queueSid,
      attributes,
    });
    return invite.routing.properties.sid as string;
  };

  /** What the Flex UI sends: JSON with the agent's token. */
  const flexEvent = (token: string, fields: Event, key?: string): Event => ({
    request: {
      headers: { 'content-type': 'application/json', origin: 'https://flex.twilio.com', ...(key ? { 'idempotency-key': key } : {}) },
      cookies: {},
    },
    Token: token,
    ...fields,
  });
  /** What a signed caller (Studio's Run Function widget, a webhook) sends: a form with X-Twilio-Signature. */
  const signedEvent = (functionName: FunctionName, fields: Record<string, string>): Event => {
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, `https://${DOMAIN_NAME}/${functionName}`, fields);
    return {
      request: { headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, cookies: {} },
      ...fields,
    };
  };
  const status =
    (expected: number, check: (body: Record<string, unknown>) => boolean = () => true) =>
    (answer: RuntimeAnswer) =>
      answer.statusCode === expected && check(answer.body as Record<string, unknown>)
        ? undefined
        : `expected ${expected}, got ${answer.statusCode}`;
  const firstTransfer = status(201, (body) => Array.isArray(body.warnings) && body.warnings.length === 0);
  const closedTransfer = status(201, (body) => body.participantClosed === true);

  const queueTransfer = (keyed: boolean): Scenario => ({
    name: `warm queue, signed, no taskSid${keyed ? ', keyed' : ''}`,
    functionName: 'transfer-to-queue',
    expectedRoundTrips: keyed ? 2 : 1,
    event: () =>
      signedEvent('transfer-to-queue', {
        interactionSid: newSid('KD'),
        channelSid: newSid('UO'),
        queueSid: newSid('WQ'),
        ...(keyed ? { idempotencyKey: newSid('key-') } : {}),
      }),
    problem: firstTransfer,
  });
  const agentTransfer = (transferType: 'warm' | 'cold', keyed: boolean): Scenario => {
    const agent = newAgent();
    return {
      name: `${transferType} agent, taskSid, agent token${keyed ? ', keyed' : ''}`,
      functionName: 'transfer-to-agent',
      // Reads (task fetch || participant list, and the key's claim) | invite | [cold: close participant | record the result]
      expectedRoundTrips: transferType === 'warm' ? 2 : keyed ? 4 : 3,
      event: () => {
        const { interactionSid, channelSid, taskSid } = newConversation(agent.workerSid);
        const fields = { interactionSid, channelSid, taskSid, workerSid: newSid('WK'), transferType };
        return flexEvent(agent.token, fields, keyed ? newSid('key-') : undefined);
      },
      problem: transferType === 'warm' ? firstTransfer : closedTransfer,
    };
  };
  const listTransfers = (): Scenario => {
    const agent = newAgent();
    const conversation = newConversation(agent.workerSid);
    for (let transfer = 0; transfer < 3; transfer += 1) addTransfer(conversation);
    return {
      name: 'list-transfers, agent token (3 invites)',
      functionName: 'list-transfers',
      expectedRoundTrips: 1, // invite list || participant list
      event: () => flexEvent(agent.token, { interactionSid: conversation.interactionSid, channelSid: conversation.channelSid }),
      problem: status(200, (body) => Array.isArray(body.transfers) && body.transfers.length === 3),
    };
  };
  const cancelTransfer = (): Scenario => {
    const agent = newAgent();
    return {
      name: 'cancel-transfer, agent token',
      functionName: 'cancel-transfer',
      expectedRoundTrips: 2, // invite list || task fetch || participant list | task update
      event: () => {
        const { interactionSid, channelSid } = newConversation(agent.workerSid);
        const taskSid = addTransfer({ interactionSid, channelSid });
        return flexEvent(agent.token, { interactionSid, channelSid, taskSid });
      },
      problem: status(200, (body) => body.canceled === true),
    };
  };

  return [
    queueTransfer(false),
    queueTransfer(true),
    agentTransfer('warm', false),
    agentTransfer('warm', true),
    agentTransfer('cold', false),
    agentTransfer('cold', true),
    listTransfers(),
    cancelTransfer(),
  ];
}

// ---------------------------------------------------------------- cold start

/** require() of a built function, then of `twilio` (which the functions load on their first request), in fresh processes. */
function coldStarts(runs: number, modulePath: string): { requireMs: number[]; twilioMs: number[] } {
  const measured = { requireMs: [] as number[], twilioMs: [] as number[] };
  for (let run = 0; run < runs; run += 1) {
    const child = spawnSync(process.execPath, [join(ROOT, 'bench', 'cold-start-child.cjs'), modulePath], { encoding: 'utf8' });
    const line = child.stdout.split('\n').find((text) => text.startsWith('COLD_START '));
    if (child.status !== 0 || !line) throw new Error(`cold-start child failed:\n${child.stderr}`);
    const result = JSON.parse(line.slice('COLD_START '.length)) as { requireMs: number; twilioMs: number };
    measured.requireMs.push(result.requireMs);
    measured.twilioMs.push(result.twilioMs);
  }
  return measured;
}

// ---------------------------------------------------------------- report

/** Text columns (the first and the last) to the left, numbers to the right. */
function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  const cell = (text: string, column: number) =>
    column === 0 || column === widths.length - 1 ? text.padEnd(widths[column] ?? 0) : text.padStart(widths[column] ?? 0);
  return rows.map((row) => row.map(cell).join('  ').trimEnd()).join('\n');
}

const ms = (value: number | undefined): string => (value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(1));

/** The one row builder: a scenario's round trips (measured, with the expected count when they differ) and times. */
function row(options: {
  name: string;
  roundTrips?: ScenarioResult['roundTrips'];
  expected?: number;
  latency: Summary;
  overhead?: Summary;
  phases?: string;
}): string[] {
  const { roundTrips: trips, expected } = options;
  let roundTrips = '-';
  if (trips) {
    roundTrips = trips.min === trips.max ? String(trips.median) : `${trips.median} (${trips.min}..${trips.max})`;
    if (trips.min !== expected || trips.max !== expected) roundTrips += `, expected ${expected}`;
  }
  const { latency, overhead } = options;
  return [options.name, roundTrips, ms(latency.median), ms(latency.p95), ms(overhead?.median), ms(overhead?.p95), options.phases ?? ''];
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const standin = await new TwilioStandin(ACCOUNT_SID, AUTH_TOKEN).start();
  standin.latencyMs = options.latency;
  process.env.TWILIO_STANDIN_URL = standin.url;
  requireFromRoot(join(ROOT, 'dev', 'redirect-twilio.cjs'));

  const runtime = requireFromRoot(join(ROOT, 'dev', 'deployed-runtime.cjs')) as DeployedRuntime;
  const deployment = runtime.prepareFlatDeployment(join(ROOT, 'dist'));
  runtime.installRuntimeGlobals(deployment.functions);
  const functionFile = (name: FunctionName): string => {
    const file = deployment.functions[name];
    if (!file) throw new Error(`dist/functions/${name}.js is missing: run \`npm run build\` (npm run bench does)`);
    return file.path;
  };
  const functions = new Map(
    FUNCTION_NAMES.map((name) => {
      const { handler } = requireFromRoot(functionFile(name)) as { handler: unknown };
      return [name, { handler, context: runtime.makeContext(SETTINGS, { path: `/${name}`, domainName: DOMAIN_NAME }) }];
    }),
  );

  const measureOnce = async (scenario: Scenario): Promise<Sample> => {
    const { handler, context } = functions.get(scenario.functionName) as { handler: unknown; context: object };
    const event = scenario.event();
    const before = standin.requests.length;
    const start = performance.now();
    const answer = await runtime.invoke(handler, context, event);
    const latencyMs = performance.now() - start;
    const problem = scenario.problem(answer);
    if (problem) throw new Error(`${scenario.name}: ${problem}: ${JSON.stringify(answer.body)}`);
    const phases = sequentialPhases(standin.requests.slice(before), options.latency);
    const roundTrips = phases.length;
    const described = phases.map((routes) => routes.sort().join('+')).join(' | ');
    return { latencyMs, roundTrips, phases: described, overheadMs: latencyMs - options.latency * roundTrips };
  };

  const all = scenarios(standin, requireFromRoot('twilio') as typeof TwilioModule);
  const samples = new Map<Scenario, Sample[]>(all.map((scenario) => [scenario, []]));
  // Each call's log line is written to stdout by the function: kept out of the report (its formatting is still measured).
  const consoleLog = console.log;
  console.log = () => undefined;
  try {
    // Interleaved, so that a change in the machine's load hits every scenario alike. The warm-up loads the
    // helper library and validates each agent's token once.
    for (let iteration = 0; iteration < options.warmup + options.iterations; iteration += 1) {
      for (const scenario of all) {
        const sample = await measureOnce(scenario);
        if (iteration >= options.warmup) samples.get(scenario)?.push(sample);
      }
    }
  } finally {
    console.log = consoleLog;
  }
  await standin.stop();

  const results: ScenarioResult[] = all.map((scenario) => {
    const measured = samples.get(scenario) ?? [];
    const trips = measured.map((sample) => sample.roundTrips);
    return {
      name: scenario.name,
      function: scenario.functionName,
      expectedRoundTrips: scenario.expectedRoundTrips,
      roundTrips: { min: Math.min(...trips), max: Math.max(...trips), median: percentile(trips, 50) },
      phases: measured[measured.length - 1]?.phases ?? '',
      latencyMs: summary(measured.map((sample) => sample.latencyMs)),
      overheadMs: summary(measured.map((sample) => sample.overheadMs)),
    };
  });
  const cold = coldStarts(options['cold-starts'], functionFile('transfer-to-agent'));
  const coldStart = { runs: options['cold-starts'], requireFunctionMs: summary(cold.requireMs), requireTwilioMs: summary(cold.twilioMs) };
  rmSync(deployment.root, { recursive: true, force: true }); // its node_modules is a symlink: removed, not followed

  console.log(
    [
      `flex-transfer-functions bench: ${options.iterations} calls per scenario after ${options.warmup} warm-up, ` +
        `${options.latency} ms simulated latency per Twilio answer; node ${process.version}, ${cpus().length} CPUs`,
      '',
      table([
        ['scenario', 'round trips', 'median ms', 'p95 ms', 'overhead median', 'overhead p95', 'requests, phase by phase (last call)'],
        ...results.map((result) =>
          row({ ...result, expected: result.expectedRoundTrips, latency: result.latencyMs, overhead: result.overheadMs }),
        ),
        row({ name: `cold start: require(transfer-to-agent), ${coldStart.runs} fresh processes`, latency: coldStart.requireFunctionMs }),
        row({ name: "cold start: then require('twilio') (first request)", latency: coldStart.requireTwilioMs }),
      ]),
      '',
      `overhead = latency - ${options.latency} ms x round trips. Shared machine: compare medians of several runs.`,
    ].join('\n'),
  );

  const report = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    options: { iterations: options.iterations, warmup: options.warmup, latencyMs: options.latency, coldStarts: options['cold-starts'] },
    scenarios: results,
    coldStart,
  };
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, JSON.stringify(report, null, 2) + '\n');
  console.log(`results: ${options.out}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
