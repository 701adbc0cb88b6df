/**
 * Benchmark of the built functions (not part of `npm test`: it fails only when a round-trip count is not the expected one).
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
 * The stand-in holds a v3 world (seeded below, as it refuses unknown SIDs): the workspace whose EventCallbackUrl is
 * this service's /transfer-events, the transfer workflow (known-agent routing), the workers, a queue, and per call a
 * conversation with its participants and its task. Settings are v3's defaults (TRANSFER_WORKFLOW_SID set, agent
 * transfers through the workflow, cold transfers closed on acceptance); other variants are labeled.
 *
 * Per scenario, over `--iterations` calls (after `--warmup` unmeasured ones):
 * - latency: handler called -> callback called;
 * - round trips: sequential phases of the requests the stand-in recorded during
 *   the call. Each request is in flight from its arrival (`at`) for the simulated
 *   latency; requests whose windows overlap form one phase;
 * - overhead: latency - simulated latency x round trips, i.e. everything that is
 *   not Twilio's (simulated) time: the function's own work, the helper library's
 *   HTTP stack, loopback HTTP, the stand-in's own work and timer overshoot.
 * Cold start: in a fresh `node` (bench/cold-start-child.cjs), require('twilio'), then require() of a built function,
 * which loads the helper library itself when the instance loads it: their sum is the instance's load.
 *
 * Every scenario states its expected round trips: any call that differs is flagged in the table, and the bench then
 * exits 1 (after writing the report). Latencies are only reported.
 *
 * The machine is shared: compare medians of several runs before acting on a small difference.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { ClientRequest, IncomingMessage } from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type * as TwilioModule from 'twilio';
import { transferWorkflowConfiguration } from '../dev/sandbox-data';
import { matchRoute } from '../dev/standin/routes';
import { newSid, TwilioStandin } from '../dev/twilio-standin';
import { FUNCTION_NAMES, type FunctionName } from '../src/registry';

// The bundle of this file runs from a temporary folder: project files are found from the root run-ts.mjs passes.
const ROOT = resolve(process.env.RUN_TS_PROJECT_ROOT ?? process.cwd());
const requireFromRoot = createRequire(join(ROOT, 'package.json'));

const ACCOUNT_SID = 'AC' + 'a1'.repeat(16);
const AUTH_TOKEN = 'T0kenT0kenT0kenT0kenT0kenT0ken12';
const WORKSPACE_SID = 'WS' + 'b2'.repeat(16);
const WORKFLOW_SID = 'WW' + 'c3'.repeat(16);
const QUEUE_SID = 'WQ' + 'd4'.repeat(16);
const DOMAIN_NAME = 'example-1234.twil.io';
/** The service's /transfer-events as the runtime's DOMAIN_NAME gives it: the workspace's callback, and what TaskRouter signs. */
const TRANSFER_EVENTS_URL = `https://${DOMAIN_NAME}/transfer-events`;
/** v3's defaults: TRANSFER_AGENT_ROUTING (workflow) and TRANSFER_COLD_CLOSE (on-accept) are left unset. */
const SETTINGS: Readonly<Record<string, string>> = {
  ACCOUNT_SID,
  AUTH_TOKEN,
  TWILIO_FLEX_WORKSPACE_SID: WORKSPACE_SID,
  TRANSFER_WORKFLOW_SID: WORKFLOW_SID,
  // Longer than any run, so that the agent's token is validated once per function instance (in the warm-up), then cached.
  TRANSFER_TOKEN_CACHE_SECONDS: '3600',
};

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

/** One request to Twilio as the functions' process saw it: when it was sent, and when its answer had fully arrived. */
interface ObservedCall {
  route: string;
  sentAt: number;
  answeredAt: number;
}

/**
 * Every request to *.twilio.com this process sends, as the function sees it (https.request, after
 * dev/redirect-twilio.cjs has pointed it at the stand-in): its route, when it was sent and when its answer had arrived.
 */
function observeTwilioCalls(): ObservedCall[] {
  const observed: ObservedCall[] = [];
  const send = https.request;
  https.request = function request(this: unknown, ...args: unknown[]) {
    const sent = (send as (...inner: unknown[]) => ClientRequest).apply(this, args);
    const host = sent.getHeader('x-standin-original-host'); // set by the redirect: the Twilio host it was meant for
    if (typeof host === 'string') {
      const { route } = matchRoute(host, sent.method, new URL(sent.path, 'https://twilio.invalid').pathname);
      const call: ObservedCall = { route, sentAt: performance.now(), answeredAt: Infinity };
      sent.on('response', (response: IncomingMessage) => response.on('end', () => (call.answeredAt = performance.now())));
      observed.push(call);
    }
    return sent;
  } as typeof https.request;
  return observed;
}

/**
 * The sequential phases of one call's requests, each as the routes it holds. A request sent after the answer to
 * another had arrived may depend on it: it goes one phase after the latest such request. A request sent while the
 * others were in flight depends on none of them, however late it reaches the stand-in (a busy machine can delay a
 * concurrent request's arrival by more than the simulated latency, so arrival times alone would split a phase).
 */
function sequentialPhases(calls: readonly ObservedCall[]): string[][] {
  const sorted = [...calls].sort((a, b) => a.sentAt - b.sentAt);
  const phaseOf: number[] = [];
  const phases: string[][] = [];
  sorted.forEach((call, index) => {
    let phase = 0;
    for (let earlier = 0; earlier < index; earlier += 1) {
      if ((sorted[earlier]?.answeredAt ?? Infinity) <= call.sentAt) phase = Math.max(phase, (phaseOf[earlier] ?? 0) + 1);
    }
    phaseOf.push(phase);
    (phases[phase] ??= []).push(call.route);
  });
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
  /** Settings on top of SETTINGS (a labeled variant); none for v3's defaults. */
  settings?: Record<string, string>;
  expectedRoundTrips: number;
  /** Seeds the stand-in for one call and returns its event (not timed, nor counted: the round trips are the call's). */
  event(): Event | Promise<Event>;
  /** Why the answer is not the expected success, or undefined. */
  problem(answer: RuntimeAnswer): string | undefined;
}

interface Sample {
  latencyMs: number;
  roundTrips: number;
  /** e.g. "task-fetch+participant-list | invite" */
  phases: string;
  overheadMs: number;
  /** Each request, sent..answered in ms after the call started, e.g. "participant-list 1..23, invite-create 24..46". */
  timeline: string;
}

interface ScenarioResult {
  name: string;
  function: FunctionName;
  expectedRoundTrips: number;
  roundTrips: { min: number; max: number; median: number };
  /** The requests of the last call, phase by phase. */
  phases: string;
  /** The first call of the run (warm-up): the instance's first reads (token, workflow, workspace) happen there. */
  firstCall: { roundTrips: number; phases: string } | undefined;
  /** Measured calls whose round trips were not the expected count, with their requests' timeline. */
  unexpectedCalls: { roundTrips: number; phases: string; timeline: string; latencyMs: number }[];
  latencyMs: Summary;
  overheadMs: Summary;
}

/** What a scenario may do before its measured call (untimed): call a function as a deployed instance would. */
type Call = (functionName: FunctionName, event: Event, settings?: Record<string, string>) => Promise<RuntimeAnswer>;

/**
 * The v3 world every call uses (the stand-in refuses SIDs nobody seeded): the workspace, its event callback pointing at
 * this service's /transfer-events, the transfer workflow (known-agent routing first, as
 * examples/taskrouter/transfer-workflow.json), the queue, and the colleague agent transfers go to.
 */
function seedWorkspace(standin: TwilioStandin): { colleague: string } {
  standin.addWorkspace({ sid: WORKSPACE_SID, friendlyName: 'Flex Task Assignment', eventCallbackUrl: TRANSFER_EVENTS_URL });
  standin.addQueue({ workspaceSid: WORKSPACE_SID, sid: QUEUE_SID, friendlyName: 'Support' });
  standin.addWorkflow({
    workspaceSid: WORKSPACE_SID,
    sid: WORKFLOW_SID,
    friendlyName: 'Transfers',
    configuration: transferWorkflowConfiguration(QUEUE_SID, [QUEUE_SID]),
  });
  // TaskRouter's events are recorded, not posted: the callback names the deployed service, which is not reachable
  // from here. The /transfer-events scenarios deliver their event themselves, as the measured call.
  standin.eventDelivery = () => Promise.resolve({ status: 204 });
  return { colleague: standin.addWorker({ workspaceSid: WORKSPACE_SID, friendlyName: 'Colleague' }) };
}

function scenarios(standin: TwilioStandin, twilio: typeof TwilioModule, call: Call): Scenario[] {
  const { colleague } = seedWorkspace(standin);
  /** A conversation the agent handles: the channel, its task (as Flex makes it), and the agent and customer participants. */
  const newConversation = (workerSid: string) => {
    const { interactionSid, channelSid } = standin.addConversation({ workspaceSid: WORKSPACE_SID });
    const taskSid = standin.addTask({
      workspaceSid: WORKSPACE_SID,
      attributes: { customerName: 'Customer', flexInteractionSid: interactionSid, flexInteractionChannelSid: channelSid },
      taskChannelUniqueName: 'chat',
      taskQueueSid: QUEUE_SID,
      workflowSid: WORKFLOW_SID,
      assignmentStatus: 'assigned',
    });
    const agentParticipantSid = newSid('UT');
    standin.setParticipants(interactionSid, channelSid, [
      { sid: newSid('UT'), type: 'customer' },
      { sid: agentParticipantSid, type: 'agent', routing_properties: { worker_sid: workerSid, task_sid: taskSid } },
    ]);
    return { interactionSid, channelSid, taskSid, agentParticipantSid };
  };
  /** A pending warm transfer of the conversation to the queue, as an earlier call would have left it. */
  const addTransfer = (conversation: { interactionSid: string; channelSid: string }): string => {
    const attributes = { transferTargetType: 'queue', transferTargetSid: QUEUE_SID, transferType: 'warm' };
    const invite = standin.addInvite(conversation.interactionSid, conversation.channelSid, {
      workspace_sid: WORKSPACE_SID,
      workflow_sid: WORKFLOW_SID,
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
  /** What a signed caller (Studio's Run Function widget, a webhook, TaskRouter's event callback) sends: a form with X-Twilio-Signature. */
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
      answer.statusCode === expected && check((answer.body ?? {}) as Record<string, unknown>)
        ? undefined
        : `expected ${expected} (and its body), got ${answer.statusCode}`;
  const noWarnings = (body: Record<string, unknown>) => Array.isArray(body.warnings) && body.warnings.length === 0;
  const firstTransfer = status(201, noWarnings);
  const closesOnAccept = status(
    201,
    (body) => noWarnings(body) && body.participantClosed === false && body.participantCloses === 'on-accept',
  );
  const closedAtOnce = status(201, (body) => noWarnings(body) && body.participantClosed === true && body.participantCloses === null);
  const keyed = (isKeyed: boolean) => (isKeyed ? ', keyed' : '');

  /**
   * The plain agent (roles: agent, a worker of the workspace) every Flex-token scenario calls as, with a Flex-shaped
   * token (a compact JWE) the stand-in accepts. Each function instance validates it once, in the warm-up: an instance
   * validates at most 5 tokens a second from one browser origin, so a token per scenario would be refused (503).
   */
  const agent = (() => {
    const workerSid = standin.addWorker({ workspaceSid: WORKSPACE_SID, friendlyName: 'Agent' });
    const segment = () => Buffer.from(newSid('')).toString('base64url');
    const token = ['eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0', segment(), segment(), segment(), segment()].join('.');
    standin.grantToken(token, { worker_sid: workerSid, roles: ['agent'] });
    return { token, workerSid };
  })();

  const queueTransfer = (isKeyed: boolean): Scenario => ({
    name: `warm queue, signed, no taskSid${keyed(isKeyed)}`,
    functionName: 'transfer-to-queue',
    expectedRoundTrips: 2, // participant list (|| the key's claim) | invite
    event: () => {
      const { interactionSid, channelSid } = newConversation(agent.workerSid);
      return signedEvent('transfer-to-queue', {
        interactionSid,
        channelSid,
        queueSid: QUEUE_SID,
        ...(isKeyed ? { idempotencyKey: newSid('key-') } : {}),
      });
    },
    problem: firstTransfer,
  });
  const agentTransfer = (transferType: 'warm' | 'cold', isKeyed: boolean, coldClose: 'on-accept' | 'immediate' = 'on-accept'): Scenario => {
    const immediate = transferType === 'cold' && coldClose === 'immediate';
    return {
      name: `${transferType} agent${transferType === 'cold' ? ` ${coldClose}` : ''}, taskSid, agent token${keyed(isKeyed)}`,
      functionName: 'transfer-to-agent',
      ...(immediate ? { settings: { TRANSFER_COLD_CLOSE: 'immediate' } } : {}),
      // Reads (task fetch || participant list || the key's claim) | invite; an immediate close: | close participant
      // | [keyed: record the result]. The instance's first call also reads the workflow (and, for a cold on-accept
      // transfer, the workspace's callback) in the reads' round.
      expectedRoundTrips: immediate ? (isKeyed ? 4 : 3) : 2,
      event: () => {
        const { interactionSid, channelSid, taskSid } = newConversation(agent.workerSid);
        const fields = { interactionSid, channelSid, taskSid, workerSid: colleague, transferType };
        return flexEvent(agent.token, fields, isKeyed ? newSid('key-') : undefined);
      },
      problem: transferType === 'warm' ? firstTransfer : immediate ? closedAtOnce : closesOnAccept,
    };
  };
  const listTransfers = (): Scenario => {
    const conversation = newConversation(agent.workerSid);
    for (let transfer = 0; transfer < 3; transfer += 1) addTransfer(conversation);
    return {
      name: 'list-transfers, agent token (3 invites)',
      functionName: 'list-transfers',
      expectedRoundTrips: 2, // invite list || participant list | the transfers' task fetches
      event: () => flexEvent(agent.token, { interactionSid: conversation.interactionSid, channelSid: conversation.channelSid }),
      problem: status(200, (body) => Array.isArray(body.transfers) && body.transfers.length === 3),
    };
  };
  const cancelTransfer = (): Scenario => ({
    name: 'cancel-transfer, agent token',
    functionName: 'cancel-transfer',
    // invite list || task fetch || participant list | the agents' tasks (one is still assigned: nobody left alone) | task update
    expectedRoundTrips: 3,
    event: () => {
      const { interactionSid, channelSid } = newConversation(agent.workerSid);
      const taskSid = addTransfer({ interactionSid, channelSid });
      return flexEvent(agent.token, { interactionSid, channelSid, taskSid });
    },
    problem: status(200, (body) => body.canceled === true),
  });

  /**
   * A real cold on-accept transfer in the stand-in (through transfer-to-agent, untimed), whose new task is then reserved
   * to and accepted by the colleague: the events TaskRouter posts for it, as the stand-in recorded them (form fields as
   * TaskRouter posts them; the task's attributes carry the transfer's sealed `transferClose`).
   */
  const acceptedColdTransfer = async () => {
    const conversation = newConversation(agent.workerSid);
    const { interactionSid, channelSid, taskSid } = conversation;
    const fields = { interactionSid, channelSid, taskSid, workerSid: colleague, transferType: 'cold' };
    const answer = await call('transfer-to-agent', flexEvent(agent.token, fields));
    const problem = closesOnAccept(answer);
    if (problem) throw new Error(`the cold transfer before a /transfer-events call: ${problem}: ${JSON.stringify(answer.body)}`);
    const newTask = String((answer.body as Record<string, unknown>).taskSid);
    standin.acceptReservation(standin.reserve(newTask, colleague));
    await standin.eventsSettled();
    const form = (eventType: string): Record<string, string> => {
      const event = standin.deliveredEvents
        .filter((delivered) => delivered.taskSid === newTask && delivered.eventType === eventType)
        .at(-1);
      if (!event) throw new Error(`the stand-in posted no ${eventType} for task ${newTask}`);
      return event.form;
    };
    return { conversation, created: form('reservation.created'), accepted: form('reservation.accepted') };
  };
  const participantStatus = (conversation: { interactionSid: string; channelSid: string; agentParticipantSid: string }) =>
    standin.participants(conversation.interactionSid, conversation.channelSid)?.find((p) => p.sid === conversation.agentParticipantSid)
      ?.status;
  const acceptedEvent = (): Scenario => {
    let closing: Parameters<typeof participantStatus>[0] | undefined;
    return {
      name: 'transfer-events: reservation.accepted of a cold on-accept transfer',
      functionName: 'transfer-events',
      // the channel's invites (the event's task is one of them: a copied seal is never acted on) | participant update
      expectedRoundTrips: 2,
      event: async () => {
        const { conversation, accepted } = await acceptedColdTransfer();
        closing = conversation;
        return signedEvent('transfer-events', accepted);
      },
      problem: (answer) =>
        status(204)(answer) ??
        (closing && participantStatus(closing) === 'closed' ? undefined : 'the transferring participant was not closed'),
    };
  };
  const ignoredEvent = (): Scenario => {
    let waiting: Parameters<typeof participantStatus>[0] | undefined;
    return {
      name: 'transfer-events: reservation.created (ignored)',
      functionName: 'transfer-events',
      expectedRoundTrips: 0, // acknowledged without a Twilio call, though the task carries a sealed close
      event: async () => {
        const { conversation, created } = await acceptedColdTransfer();
        waiting = conversation;
        return signedEvent('transfer-events', created);
      },
      problem: (answer) =>
        status(204)(answer) ??
        (waiting && participantStatus(waiting) === 'active' ? undefined : 'the transferring participant was closed by an ignored event'),
    };
  };

  return [
    queueTransfer(false),
    queueTransfer(true),
    agentTransfer('warm', false),
    agentTransfer('warm', true),
    agentTransfer('cold', false),
    agentTransfer('cold', true),
    agentTransfer('cold', false, 'immediate'),
    agentTransfer('cold', true, 'immediate'),
    listTransfers(),
    cancelTransfer(),
    acceptedEvent(),
    ignoredEvent(),
  ];
}

// ---------------------------------------------------------------- cold start

/** require('twilio'), then require() of a built function (its own code: the library is loaded already), in fresh processes. */
function coldStarts(runs: number, modulePath: string): { requireMs: number[]; twilioMs: number[]; totalMs: number[] } {
  const measured = { requireMs: [] as number[], twilioMs: [] as number[], totalMs: [] as number[] };
  for (let run = 0; run < runs; run += 1) {
    const child = spawnSync(process.execPath, [join(ROOT, 'bench', 'cold-start-child.cjs'), modulePath], { encoding: 'utf8' });
    const line = child.stdout.split('\n').find((text) => text.startsWith('COLD_START '));
    if (child.status !== 0 || !line) throw new Error(`cold-start child failed:\n${child.stderr}`);
    const result = JSON.parse(line.slice('COLD_START '.length)) as { requireMs: number; twilioMs: number };
    measured.requireMs.push(result.requireMs);
    measured.twilioMs.push(result.twilioMs);
    measured.totalMs.push(result.twilioMs + result.requireMs);
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
  const twilioCalls = observeTwilioCalls();

  const runtime = requireFromRoot(join(ROOT, 'dev', 'deployed-runtime.cjs')) as DeployedRuntime;
  const deployment = runtime.prepareFlatDeployment(join(ROOT, 'dist'));
  runtime.installRuntimeGlobals(deployment.functions);
  const functionFile = (name: FunctionName): string => {
    const file = deployment.functions[name];
    if (!file) throw new Error(`dist/functions/${name}.js is missing: run \`npm run build\` (npm run bench does)`);
    return file.path;
  };
  const handlers = new Map(FUNCTION_NAMES.map((name) => [name, (requireFromRoot(functionFile(name)) as { handler: unknown }).handler]));
  // One context per function and settings variant; the function's instance (its module, its memory) is the same.
  const contexts = new Map<string, object>();
  const invoke: Call = (functionName, event, settings = {}) => {
    const id = `${functionName} ${JSON.stringify(settings)}`;
    let context = contexts.get(id);
    if (!context) {
      context = runtime.makeContext({ ...SETTINGS, ...settings }, { path: `/${functionName}`, domainName: DOMAIN_NAME });
      contexts.set(id, context);
    }
    return runtime.invoke(handlers.get(functionName), context, event);
  };

  const measureOnce = async (scenario: Scenario): Promise<Sample> => {
    const event = await scenario.event();
    const [received, sent] = [standin.requests.length, twilioCalls.length];
    const start = performance.now();
    const answer = await invoke(scenario.functionName, event, scenario.settings);
    const latencyMs = performance.now() - start;
    const problem = scenario.problem(answer);
    if (problem) throw new Error(`${scenario.name}: ${problem}: ${JSON.stringify(answer.body)}`);
    const calls = twilioCalls.slice(sent);
    const arrived = standin.requests.slice(received);
    if (calls.length !== arrived.length) {
      throw new Error(`${scenario.name}: the function sent ${calls.length} requests to Twilio, the stand-in received ${arrived.length}`);
    }
    const phases = sequentialPhases(calls);
    const roundTrips = phases.length;
    const described = phases.map((routes) => routes.sort().join('+')).join(' | ') || '(none)';
    const ms = (at: number) => Math.round(at - start);
    const timeline = calls.map((call) => `${call.route} ${ms(call.sentAt)}..${ms(call.answeredAt)}`).join(', ');
    return { latencyMs, roundTrips, phases: described, overheadMs: latencyMs - options.latency * roundTrips, timeline };
  };

  const all = scenarios(standin, requireFromRoot('twilio') as typeof TwilioModule, invoke);
  const samples = new Map<Scenario, Sample[]>(all.map((scenario) => [scenario, []]));
  const firstCalls = new Map<Scenario, Sample>();
  // Each call's log line is written to stdout by the function: kept out of the report (its formatting is still measured).
  const consoleLog = console.log;
  console.log = () => undefined;
  try {
    // Interleaved, so that a change in the machine's load hits every scenario alike. The warm-up loads the
    // helper library, validates each agent's token once, and reads the workflow and the workspace's callback
    // once per function instance (remembered for 5 minutes, longer than a run).
    for (let iteration = 0; iteration < options.warmup + options.iterations; iteration += 1) {
      for (const scenario of all) {
        const sample = await measureOnce(scenario);
        if (iteration === 0) firstCalls.set(scenario, sample);
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
      firstCall: ((first) => first && { roundTrips: first.roundTrips, phases: first.phases })(firstCalls.get(scenario)),
      unexpectedCalls: measured
        .filter((sample) => sample.roundTrips !== scenario.expectedRoundTrips)
        .map(({ roundTrips, phases, timeline, latencyMs }) => ({
          roundTrips,
          phases,
          timeline,
          latencyMs: Math.round(latencyMs * 10) / 10,
        })),
      latencyMs: summary(measured.map((sample) => sample.latencyMs)),
      overheadMs: summary(measured.map((sample) => sample.overheadMs)),
    };
  });
  const cold = coldStarts(options['cold-starts'], functionFile('transfer-to-agent'));
  const coldStart = {
    runs: options['cold-starts'],
    requireTwilioMs: summary(cold.twilioMs),
    requireFunctionMs: summary(cold.requireMs),
    instanceLoadMs: summary(cold.totalMs),
  };
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
        row({ name: `cold start: require('twilio'), ${coldStart.runs} fresh processes`, latency: coldStart.requireTwilioMs }),
        row({ name: 'cold start: then require(transfer-to-agent) (its own code)', latency: coldStart.requireFunctionMs }),
        row({ name: 'cold start: both (what an instance loads before its first request)', latency: coldStart.instanceLoadMs }),
      ]),
      '',
      `overhead = latency - ${options.latency} ms x round trips. Shared machine: compare medians of several runs.`,
      '',
      "First calls (the warm-up's first iteration: the instance's first token validation, workflow and workspace reads):",
      ...results
        .filter((result) => result.firstCall !== undefined && result.firstCall.phases !== result.phases)
        .map((result) => `  ${result.name}: ${result.firstCall?.roundTrips} round trips: ${result.firstCall?.phases}`),
      ...results.flatMap((result) =>
        result.unexpectedCalls.length === 0
          ? []
          : [
              '',
              `${result.name}: ${result.unexpectedCalls.length} call(s) of ${result.roundTrips.max === result.roundTrips.min ? '' : 'varying '}` +
                `round trips other than ${result.expectedRoundTrips} (each request sent..answered, in ms after the call started):`,
              ...result.unexpectedCalls.map((call) => `  ${call.roundTrips}: ${call.phases}  [${call.timeline}]`),
            ],
      ),
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
  const unexpected = results.filter(
    (result) => result.roundTrips.min !== result.expectedRoundTrips || result.roundTrips.max !== result.expectedRoundTrips,
  );
  if (unexpected.length > 0) {
    console.error(`round trips differ from the expected count: ${unexpected.map((result) => result.name).join('; ')}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
