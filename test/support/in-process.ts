/**
 * Runs the functions' core in-process, exactly as the runtime adapter does,
 * with the real helper library talking to the Twilio stand-in through the
 * fake transport (dev/standin-sender.ts): no twilio-run, no sockets. The
 * event is built the way the local runtime builds it, headers included.
 */
import { join } from 'node:path';
import { parse as parseQueryString } from 'node:querystring';
import type { RequestLogEntry } from '../../src/core/context';
import { FlexTokenVerifier, type FlexTokenVerifierOptions } from '../../src/core/flex-token';
import { InstanceMemory } from '../../src/core/instance-memory';
import type { FunctionName } from '../../src/registry';
import { buildDependencies } from '../../src/runtime/dependencies';
import { serveEvent } from '../../src/runtime/serve';
import { standinSender } from '../../dev/standin-sender';
import { newSid, TwilioStandin } from '../../dev/twilio-standin';
import { baseSettings, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_WORKSPACE_SID } from './fixtures';
import { PROJECT_ROOT } from './functions-server';
import { seedSettings } from './harness';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the local runtime's own header builder (restricted headers dropped, repeats as arrays)
const { constructHeaders } = require(join(PROJECT_ROOT, 'node_modules/@twilio/runtime-handler/dist/dev-runtime/route.js')) as {
  constructHeaders: (rawHeaders: string[]) => Record<string, string | string[]>;
};

export type { FunctionName } from '../../src/registry';

/** The domain twilio-run would report; Twilio signatures are computed against it. */
export const IN_PROCESS_DOMAIN = 'localhost:3001';

export interface CallRequest {
  /** Sent as a JSON body. */
  json?: unknown;
  /** Sent as a form body. */
  form?: Record<string, string | string[]>;
  /** A raw body with its own content type. */
  raw?: { contentType: string; body: string };
  query?: Record<string, string>;
  /** Header name -> value; a list sends the header once per value. */
  headers?: Record<string, string | string[]>;
}

export interface CallResult {
  status: number;
  headers: Record<string, string>;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary response bodies
  log: RequestLogEntry;
}

/** The event the local runtime would build: `{ request: { headers, cookies }, ...query, ...body }`. */
export function runtimeEvent(request: CallRequest): Record<string, unknown> {
  let contentType: string | undefined;
  let body: Record<string, unknown> = {};
  let bodyText = '';
  if (request.json !== undefined) {
    contentType = 'application/json';
    bodyText = JSON.stringify(request.json);
    const parsed: unknown = request.json;
    body = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } else if (request.form !== undefined) {
    contentType = 'application/x-www-form-urlencoded';
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(request.form)) for (const item of [value].flat()) form.append(name, item);
    bodyText = form.toString();
    body = { ...parseQueryString(bodyText) };
  } else if (request.raw !== undefined) {
    contentType = request.raw.contentType;
    bodyText = request.raw.body;
    if (/^application\/x-www-form-urlencoded/i.test(contentType)) body = { ...parseQueryString(bodyText) };
  }
  const raw: string[] = [];
  if (contentType !== undefined) raw.push('Content-Type', contentType, 'Content-Length', String(Buffer.byteLength(bodyText)));
  for (const [name, value] of Object.entries(request.headers ?? {})) for (const item of [value].flat()) raw.push(name, item);
  return { request: { headers: constructHeaders(raw), cookies: {} }, ...(request.query ?? {}), ...body };
}

export interface InProcessFunctions {
  standin: TwilioStandin;
  settings: Record<string, string | undefined>;
  logs: RequestLogEntry[];
  /** Calls a function with a ready-made event (e.g. one with a forged `request`). */
  callEvent(name: FunctionName, event: Record<string, unknown>): Promise<CallResult>;
  call(name: FunctionName, request: CallRequest): Promise<CallResult>;
  /** Replaces the token verifier (one per function instance): a fresh instance, or one with other limits. */
  newInstance(options?: FlexTokenVerifierOptions): void;
  /** Moves the functions' clock (not the stand-in's) forward, as if that much time had passed between requests. */
  advanceClock(ms: number): void;
}

/**
 * A stand-in and the four functions, in this process; a fresh stand-in state and function instance before each test.
 * `refusesUnknown: false` lets the stand-in accept made-up SIDs (its old leniency), for suites about something else
 * that do not seed their conversations, workers and queues; by default it refuses them, as Twilio does. Before each
 * test the stand-in holds what the settings name (harness.ts `seedSettings`).
 */
export function inProcessFunctions(
  options: {
    settings?: Record<string, string | undefined>;
    refusesUnknown?: boolean;
    /** false: the workspace has no event callback, so cold transfers fall back to closing at once (with a warning). */
    workspaceCallback?: boolean;
  } = {},
): InProcessFunctions {
  const standin = new TwilioStandin(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN);
  let verifier = new FlexTokenVerifier();
  let clockOffsetMs = 0;
  const now = () => Date.now() + clockOffsetMs;
  let memory = new InstanceMemory(now);
  const functions: InProcessFunctions = {
    standin,
    settings: { ...baseSettings(), ...options.settings },
    logs: [],
    newInstance: (verifierOptions) => {
      verifier = new FlexTokenVerifier(verifierOptions);
      memory = new InstanceMemory(now);
    },
    advanceClock: (ms) => {
      clockOffsetMs += ms;
    },
    async callEvent(name, event) {
      let logged: RequestLogEntry | undefined;
      const deps = buildDependencies(functions.settings, {
        newSender: () => standinSender(standin),
        verifier,
        memory,
        now,
        newRequestId: () => newSid('RQ'),
        log: (entry) => {
          logged = entry;
          functions.logs.push(entry);
        },
      });
      const answer = await serveEvent({ functionName: name, event, domainName: IN_PROCESS_DOMAIN, path: `/${name}`, deps });
      return { status: answer.status, headers: answer.headers, body: answer.body, log: logged as RequestLogEntry };
    },
    call: (name, request) => functions.callEvent(name, runtimeEvent(request)),
  };
  beforeEach(() => {
    standin.reset();
    seedSettings(standin, functions.settings);
    // As `npm run deploy` leaves a workspace: its TaskRouter events go to this service's /transfer-events, delivered
    // in-process; a suite that wants the workspace without a callback says so (options.workspaceCallback).
    if (options.workspaceCallback !== false && standin.workspace(TEST_WORKSPACE_SID) !== undefined) {
      standin.changeWorkspace(TEST_WORKSPACE_SID, { eventCallbackUrl: `http://${IN_PROCESS_DOMAIN}/transfer-events` });
      standin.eventDelivery = async ({ form, headers }) => {
        const answer = await functions.call('transfer-events', {
          form,
          headers: { 'X-Twilio-Signature': headers['x-twilio-signature'] ?? '' },
        });
        return { status: answer.status };
      };
    }
    if (options.refusesUnknown === false) standin.refusesUnknown = false;
    standin.eventRetryDelayMs = 0; // a failed event delivery is retried at once in tests
    functions.logs.length = 0;
    functions.newInstance();
    clockOffsetMs = 0;
  });
  return functions;
}

/** A token shaped like a Flex token (a compact JWE: five base64url segments), granted at the stand-in. */
export function grantAgentToken(standin: TwilioStandin, roles: string[] = ['agent']): { token: string; workerSid: string } {
  const workerSid = newSid('WK');
  const segment = () => Buffer.from(newSid('')).toString('base64url');
  const token = ['eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0', segment(), segment(), segment(), segment()].join('.');
  standin.grantToken(token, { worker_sid: workerSid, roles });
  return { token, workerSid };
}
