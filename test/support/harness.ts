/**
 * Integration-test wiring: one Twilio stand-in and one real twilio-run server
 * on the built output per test file, and small HTTP helpers.
 */
import {
  baseSettings,
  type FunctionsServer,
  startFunctionsServer,
  TEST_ACCOUNT_SID,
  TEST_AUTH_TOKEN,
  TEST_WORKSPACE_SID,
} from './functions-server';
import { transferWorkflowConfiguration } from '../../dev/sandbox-data';
import { newSid, TwilioStandin } from '../../dev/twilio-standin';

export interface Harness {
  standin: TwilioStandin;
  server: FunctionsServer;
  /** Absolute URL of a function path, e.g. url('/transfer-to-queue'). */
  url: (path: string) => string;
}

export interface HarnessOptions {
  settings?: Record<string, string | undefined>;
  forkPerRequest?: boolean;
  /**
   * false: the stand-in accepts made-up SIDs (its old leniency), for a suite about something else that does not
   * seed its conversations, workers and queues. Default true, as Twilio.
   */
  refusesUnknown?: boolean;
}

/** Registers beforeAll/afterAll/beforeEach hooks; the returned object is filled in before the first test. */
export function useFunctions(options: HarnessOptions = {}): Harness {
  const harness = {} as Harness;
  beforeAll(async () => {
    harness.standin = await new TwilioStandin(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN).start();
    harness.server = await startFunctionsServer({ standinUrl: harness.standin.url, ...options });
    harness.url = (path: string) => harness.server.url + path;
  }, 60_000);
  afterAll(async () => {
    await harness.server?.stop();
    await harness.standin?.stop();
  });
  beforeEach(() => {
    harness.standin.reset();
    seedSettings(harness.standin, { ...baseSettings(), ...options.settings });
    if (options.refusesUnknown === false) harness.standin.refusesUnknown = false;
    harness.standin.eventRetryDelayMs = 0; // a failed event delivery is retried at once in tests
  });
  return harness;
}

const isSidOf = (prefix: string, value: string | undefined): value is string =>
  value !== undefined && new RegExp(`^${prefix}[0-9a-fA-F]{32}$`).test(value);

/**
 * Seeds what the settings name, as an account set up as the README says has it: the workspace
 * (TWILIO_FLEX_WORKSPACE_SID, without an event callback), the agent queue (TRANSFER_AGENT_QUEUE_SID) and each
 * workflow (TRANSFER_WORKFLOW_SID, TRANSFER_ALLOWED_WORKFLOW_SIDS) with a known-agent transfer configuration.
 * Values that are not SIDs of their kind are left alone (tests of malformed settings).
 */
export function seedSettings(standin: TwilioStandin, settings: Record<string, string | undefined>): void {
  const workspaceSid = settings.TWILIO_FLEX_WORKSPACE_SID;
  if (!isSidOf('WS', workspaceSid)) return;
  standin.addWorkspace({ sid: workspaceSid });
  const agentQueue = settings.TRANSFER_AGENT_QUEUE_SID;
  const agentQueueSid = isSidOf('WQ', agentQueue) ? agentQueue : newSid('WQ');
  standin.addQueue({ workspaceSid, sid: agentQueueSid, friendlyName: 'Agent transfers' });
  const workflows = [settings.TRANSFER_WORKFLOW_SID, ...(settings.TRANSFER_ALLOWED_WORKFLOW_SIDS ?? '').split(',')].map((sid) =>
    sid?.trim(),
  );
  for (const sid of new Set(workflows.filter((value) => isSidOf('WW', value)))) {
    standin.addWorkflow({ workspaceSid, sid, friendlyName: 'Transfers', configuration: transferWorkflowConfiguration(agentQueueSid) });
  }
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary response bodies
  elapsedMs: number;
}

async function send(url: string, init: RequestInit): Promise<HttpResult> {
  const startedAt = Date.now();
  const response = await fetch(url, init);
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json, elapsedMs: Date.now() - startedAt };
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  return send(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

export function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<HttpResult> {
  return send(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

export function get(url: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return send(url, { method: 'GET', headers });
}

/**
 * A fresh set of well-formed SIDs for one transfer. Given the stand-in, they exist there as Twilio would need them
 * to: the interaction with its channel, and the worker and queue in the test workspace.
 */
export function transferSids(standin?: TwilioStandin) {
  const sids = {
    interactionSid: newSid('KD'),
    channelSid: newSid('UO'),
    workerSid: newSid('WK'),
    queueSid: newSid('WQ'),
  };
  if (standin) {
    standin.addConversation({ interactionSid: sids.interactionSid, channelSid: sids.channelSid, workspaceSid: TEST_WORKSPACE_SID });
    standin.addWorker({ workspaceSid: TEST_WORKSPACE_SID, sid: sids.workerSid });
    standin.addQueue({ workspaceSid: TEST_WORKSPACE_SID, sid: sids.queueSid });
  }
  return sids;
}
