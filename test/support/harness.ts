/**
 * Integration-test wiring: one Twilio stand-in and one real twilio-run server
 * on the built output per test file, and small HTTP helpers.
 */
import { type FunctionsServer, startFunctionsServer, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from './functions-server';
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
  beforeEach(() => harness.standin.reset());
  return harness;
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

/** A fresh set of well-formed SIDs for one transfer. */
export function transferSids() {
  return {
    interactionSid: newSid('KD'),
    channelSid: newSid('UO'),
    workerSid: newSid('WK'),
    queueSid: newSid('WQ'),
  };
}
