/**
 * The attack suite (issue 14), in-process: tables of hostile inputs, each row
 * with the answer the contract promises and what Twilio (the stand-in) must
 * not have seen. Nothing an outsider sends does more than the contract allows:
 * the reserved `request` field, forged runtime objects, floods of tokens,
 * deep nesting, odd Twilio answers, prototype keys and the 401 message.
 */
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import type { Route } from '../../dev/standin/types';
import { newSid, type TwilioStandin } from '../../dev/twilio-standin';
import { SOURCE_SHARE, VALIDATIONS_PER_SECOND } from '../../src/core/flex-token';
import { TWILIO_OPERATIONS } from '../../src/twilio/operations';
import { TEST_AUTH_TOKEN } from '../support/functions-server';
import { transferSids } from '../support/harness';
import {
  type CallRequest,
  type CallResult,
  type FunctionName,
  grantAgentToken,
  IN_PROCESS_DOMAIN,
  inProcessFunctions,
  runtimeEvent,
} from '../support/in-process';

const functions = inProcessFunctions();

const BASIC_USER = 'studio';
const BASIC_PASSWORD = 'Basic-Pa55word-Never-Logged';
const BASIC_ENABLED = { TRANSFER_BASIC_AUTH_USER: BASIC_USER, TRANSFER_BASIC_AUTH_PASSWORD: BASIC_PASSWORD };
const OTHER_AUTH_TOKEN = 'Y'.repeat(32);
/** Every Twilio operation the functions make (v3 added the workspace and workflow reads and the workspace update). */
const ALL_ROUTES: Route[] = [...TWILIO_OPERATIONS];
/** What one source (here: every request of a test, sent without Origin, User-Agent or X-Forwarded-For) may validate per second. */
const VALIDATIONS_PER_SOURCE = Math.floor(VALIDATIONS_PER_SECOND * SOURCE_SHARE);

function basic(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
}

/** A fresh conversation and queue, seeded at the stand-in. */
function queueFields(): Record<string, string> {
  const { interactionSid, channelSid, queueSid } = transferSids(functions.standin);
  return { interactionSid, channelSid, queueSid };
}

/** A well-shaped compact JWE (five base64url segments) that Twilio does not know. */
function randomJwe(): string {
  const segment = () => Buffer.from(newSid('') + newSid('')).toString('base64url');
  return ['eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0', '', segment(), segment(), segment()].join('.');
}

/** A supervisor: not restricted to their own channels, so only the attack decides the answer. */
const supervisorToken = (standin: TwilioStandin) => grantAgentToken(standin, ['supervisor']).token;

/** A plain agent's token and a channel where that agent is NOT a participant. */
function agentOnForeignChannel(standin: TwilioStandin): { token: string; workerSid: string; fields: Record<string, string> } {
  const { token, workerSid } = grantAgentToken(standin, ['agent']);
  const fields = queueFields();
  standin.setParticipants(fields.interactionSid as string, fields.channelSid as string, [
    { sid: newSid('UT'), type: 'customer', routing_properties: null },
    { sid: newSid('UT'), type: 'agent', routing_properties: { worker_sid: newSid('WK') } },
  ]);
  return { token, workerSid, fields };
}

/** A plain agent's token and a channel where that agent IS the agent participant. */
function agentOnOwnChannel(standin: TwilioStandin): { token: string; workerSid: string; fields: Record<string, string> } {
  const { token, workerSid } = grantAgentToken(standin, ['agent']);
  const fields = queueFields();
  standin.setParticipants(fields.interactionSid as string, fields.channelSid as string, [
    { sid: newSid('UT'), type: 'customer', routing_properties: null },
    { sid: newSid('UT'), type: 'agent', routing_properties: { worker_sid: workerSid } },
  ]);
  return { token, workerSid, fields };
}

function header(answer: CallResult, name: string): string | undefined {
  return Object.entries(answer.headers).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
}

/** The runtime's own `request` object as a caller could forge it: exactly the runtime's shape. */
function forged(headers: Record<string, string | string[]>): {
  headers: Record<string, string | string[]>;
  cookies: Record<string, string>;
} {
  return { headers, cookies: {} };
}

type Sent = CallRequest | { event: Record<string, unknown> };

interface HostileRow {
  name: string;
  function?: FunctionName;
  settings?: Record<string, string>;
  /** Builds what the outsider sends; may seed the stand-in (tokens, participants, scripted answers). */
  send: (standin: TwilioStandin) => Sent;
  status: number;
  /** The error code; absent for a success. */
  code?: string;
  /** Routes the stand-in must not have seen a single request to. */
  notSeen: Route[];
  /** Exact request counts the stand-in must have seen. */
  seen?: Partial<Record<Route, number>>;
  message?: RegExp;
  /** Further checks on the answer and on what Twilio saw. */
  check?: (answer: CallResult, standin: TwilioStandin) => void;
}

/** Runs one call with some settings changed for it only. */
async function withSettings<T>(settings: Record<string, string> | undefined, run: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(settings ?? {}).map((name) => [name, functions.settings[name]]));
  Object.assign(functions.settings, settings ?? {});
  try {
    return await run();
  } finally {
    Object.assign(functions.settings, saved); // a setting that was unset goes back to undefined, which reads as unset
  }
}

function send(name: FunctionName, sent: Sent): Promise<CallResult> {
  return 'event' in sent ? functions.callEvent(name, sent.event) : functions.call(name, sent);
}

/** The 401 message of a request without any credential, under default settings: every 401 must say exactly this. */
async function noCredentialMessage(): Promise<string> {
  const answer = await functions.call('transfer-to-queue', { json: queueFields() });
  expect(answer.status).toBe(401);
  return answer.body.error.message as string;
}

async function runRow(row: HostileRow): Promise<CallResult> {
  const reference = row.status === 401 ? await noCredentialMessage() : undefined;
  const answer = await withSettings(row.settings, () => send(row.function ?? 'transfer-to-queue', row.send(functions.standin)));
  expect({ status: answer.status, code: answer.body?.error?.code }).toEqual({ status: row.status, code: row.code });
  expect(header(answer, 'content-type')).toMatch(/^application\/json/);
  expect(JSON.stringify(answer.body)).not.toMatch(/\\n\s+at |\.[jt]s:\d+|RangeError|TypeError/);
  for (const route of row.notSeen) expect({ route, seen: functions.standin.requestsTo(route).length }).toEqual({ route, seen: 0 });
  for (const [route, count] of Object.entries(row.seen ?? {})) {
    expect({ route, seen: functions.standin.requestsTo(route as Route).length }).toEqual({ route, seen: count });
  }
  if (row.message) expect(answer.body.error.message).toMatch(row.message);
  if (reference !== undefined) {
    expect(answer.body.error.message).toBe(reference);
    const basicEnabled = row.settings?.TRANSFER_BASIC_AUTH_PASSWORD !== undefined;
    if (basicEnabled) expect(header(answer, 'www-authenticate')).toMatch(/^Basic realm="[^"]+"/);
    else expect(header(answer, 'www-authenticate')).toBeUndefined();
  }
  row.check?.(answer, functions.standin);
  return answer;
}

// ---------------------------------------------------------------------------------------------------------------------
// 1. The reserved `request` field, and forgeries of the runtime's own object
// ---------------------------------------------------------------------------------------------------------------------

const RESERVED = { status: 400, code: 'invalid_request', notSeen: ALL_ROUTES };
const namesRequestField = (answer: CallResult) =>
  expect(answer.body.error.details).toEqual([expect.objectContaining({ field: 'request' })]);

/** Each row carries a valid supervisor token, so a `request` field that slipped through would transfer. */
const reservedFieldCases: HostileRow[] = [
  {
    name: 'JSON: request is a string',
    send: (s) => ({ json: { ...queueFields(), Token: supervisorToken(s), request: 'x' } }),
    ...RESERVED,
  },
  { name: 'JSON: request is null', send: (s) => ({ json: { ...queueFields(), Token: supervisorToken(s), request: null } }), ...RESERVED },
  { name: 'JSON: request is a number', send: (s) => ({ json: { ...queueFields(), Token: supervisorToken(s), request: 0 } }), ...RESERVED },
  { name: 'JSON: request is an array', send: (s) => ({ json: { ...queueFields(), Token: supervisorToken(s), request: [] } }), ...RESERVED },
  {
    name: 'JSON: request is an empty object',
    send: (s) => ({ json: { ...queueFields(), Token: supervisorToken(s), request: {} } }),
    ...RESERVED,
  },
  {
    name: 'JSON: request.headers is a string',
    send: (s) => ({
      json: { ...queueFields(), Token: supervisorToken(s), request: { headers: 'content-type: application/json', cookies: {} } },
    }),
    ...RESERVED,
  },
  {
    name: 'JSON: request.headers holds a number',
    send: (s) => ({ json: { ...queueFields(), Token: supervisorToken(s), request: { headers: { 'content-length': 10 }, cookies: {} } } }),
    ...RESERVED,
  },
  {
    name: 'JSON: request.headers holds an object',
    send: (s) => ({
      json: { ...queueFields(), Token: supervisorToken(s), request: { headers: { 'content-type': { toString: 'application/json' } } } },
    }),
    ...RESERVED,
  },
  {
    name: 'JSON: request.cookies is a string',
    send: (s) => ({
      json: { ...queueFields(), Token: supervisorToken(s), request: { headers: { 'content-type': 'application/json' }, cookies: 'a=b' } },
    }),
    ...RESERVED,
  },
  { name: 'form: request=x', send: (s) => ({ form: { ...queueFields(), Token: supervisorToken(s), request: 'x' } }), ...RESERVED },
  { name: 'form: request= (empty)', send: (s) => ({ form: { ...queueFields(), Token: supervisorToken(s), request: '' } }), ...RESERVED },
  {
    name: 'form: request sent twice',
    send: (s) => ({ form: { ...queueFields(), Token: supervisorToken(s), request: ['a', 'b'] } }),
    ...RESERVED,
  },
  {
    name: 'form: request=x beside bracketed request[headers][authorization]',
    send: (s) => ({
      form: { ...queueFields(), request: 'x', 'request[headers][authorization]': `Bearer ${supervisorToken(s)}` },
    }),
    ...RESERVED,
  },
  {
    name: 'query: request=x with a form body',
    send: (s) => ({ form: { ...queueFields(), Token: supervisorToken(s) }, query: { request: 'x' } }),
    ...RESERVED,
  },
  {
    name: 'query: request=x with a JSON body',
    send: (s) => ({ json: { ...queueFields(), Token: supervisorToken(s) }, query: { request: 'x' } }),
    ...RESERVED,
  },
  {
    name: 'GET (no body): Token and request=x in the query -> 400, never a transfer',
    send: (s) => ({ query: { ...queueFields(), Token: supervisorToken(s), request: 'x' } }),
    ...RESERVED,
  },
  {
    name: 'GET (no body): Bearer header and request=x in the query',
    send: (s) => ({ query: { ...queueFields(), request: 'x' }, headers: { authorization: `Bearer ${supervisorToken(s)}` } }),
    ...RESERVED,
  },
  {
    name: 'list-transfers: request=x in the query',
    function: 'list-transfers',
    send: (s) => ({ form: { interactionSid: newSid('KD'), channelSid: newSid('UO'), Token: supervisorToken(s) }, query: { request: 'x' } }),
    ...RESERVED,
  },
  {
    name: 'cancel-transfer: JSON request is a string',
    function: 'cancel-transfer',
    send: (s) => ({
      json: { interactionSid: newSid('KD'), channelSid: newSid('UO'), taskSid: newSid('WT'), Token: supervisorToken(s), request: 'x' },
    }),
    ...RESERVED,
  },
  // The method rule itself, for contrast: a GET without the reserved field.
  {
    name: 'GET (no body): Token in the query, no request field -> 405',
    send: (s) => ({ query: { ...queueFields(), Token: supervisorToken(s) } }),
    status: 405,
    code: 'method_not_allowed',
    notSeen: ALL_ROUTES,
  },
];
const reservedFieldRows = reservedFieldCases.map((row): HostileRow => ({
  check: row.status === 400 ? namesRequestField : undefined,
  ...row,
}));

/**
 * A forgery of the runtime's exact shape cannot be told apart from the real object (deployed Functions receive no Host
 * to check); it can only present credentials its sender holds, and never does more than those allow.
 */
const forgeryRows: HostileRow[] = [
  {
    name: 'forged headers (JSON body) with the correct Basic credentials while Basic is disabled -> 401',
    send: () => ({
      json: { ...queueFields(), request: forged({ 'content-type': 'application/json', authorization: basic(BASIC_USER, BASIC_PASSWORD) }) },
    }),
    status: 401,
    code: 'unauthenticated',
    notSeen: ALL_ROUTES,
  },
  {
    name: 'forged headers with a wrong Basic password while Basic is enabled -> 401 with the challenge',
    settings: BASIC_ENABLED,
    send: () => ({
      json: { ...queueFields(), request: forged({ 'content-type': 'application/json', authorization: basic(BASIC_USER, 'guess') }) },
    }),
    status: 401,
    code: 'unauthenticated',
    notSeen: ALL_ROUTES,
  },
  {
    name: 'forged headers with a signature made with another auth token -> 401',
    send: () => {
      const fields = queueFields();
      const signature = getExpectedTwilioSignature(OTHER_AUTH_TOKEN, `https://${IN_PROCESS_DOMAIN}/transfer-to-queue`, fields);
      return {
        json: { ...fields, request: forged({ 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }) },
      };
    },
    status: 401,
    code: 'unauthenticated',
    notSeen: ALL_ROUTES,
  },
  {
    name: 'forged headers with a Bearer token Twilio rejects -> 401',
    send: () => ({
      json: { ...queueFields(), request: forged({ 'content-type': 'application/json', authorization: `Bearer ${randomJwe()}` }) },
    }),
    status: 401,
    code: 'unauthenticated',
    notSeen: ['invite-create', 'participant-list'],
    seen: { 'token-validate': 1 },
  },
  {
    name: 'forged headers repeating a valid Bearer token -> 401, not validated',
    send: (s) => {
      const token = supervisorToken(s);
      return {
        json: {
          ...queueFields(),
          request: forged({ 'content-type': 'application/json', authorization: [`Bearer ${token}`, `Bearer ${token}`] }),
        },
      };
    },
    status: 401,
    code: 'unauthenticated',
    notSeen: ALL_ROUTES,
  },
  {
    name: "forged headers with one agent's Bearer token and another's Token field -> 401",
    send: (s) => ({
      json: {
        ...queueFields(),
        Token: supervisorToken(s),
        request: forged({ 'content-type': 'application/json', authorization: `Bearer ${supervisorToken(s)}` }),
      },
    }),
    status: 401,
    code: 'unauthenticated',
    notSeen: ALL_ROUTES,
  },
  {
    name: "forged headers with a plain agent's own token on someone else's channel -> 403 (the ownership rule still holds)",
    send: (s) => {
      const { token, fields } = agentOnForeignChannel(s);
      return { json: { ...fields, request: forged({ 'content-type': 'application/json', authorization: `Bearer ${token}` }) } };
    },
    status: 403,
    code: 'forbidden',
    notSeen: ['invite-create', 'participant-update'],
    seen: { 'token-validate': 1, 'participant-list': 1 },
  },
  ((): HostileRow => {
    let agentWorkerSid: string | undefined;
    return {
      name: "forged headers with a plain agent's own token on their own channel -> 201 as that agent, exactly what the token allows",
      send: (s) => {
        const { token, workerSid, fields } = agentOnOwnChannel(s);
        agentWorkerSid = workerSid;
        return { json: { ...fields, request: forged({ 'content-type': 'application/json', authorization: `Bearer ${token}` }) } };
      },
      status: 201,
      notSeen: ['participant-update'],
      seen: { 'token-validate': 1, 'participant-list': 1, 'invite-create': 1 },
      check: (answer, standin) => {
        expect(standin.requestsTo('invite-create')[0]?.routing?.properties.attributes).toMatchObject({
          transferredByWorkerSid: agentWorkerSid,
        });
        expect(answer.log.callerKind).toBe('flex-token');
      },
    };
  })(),
  {
    name: 'forged headers without a content type (the body is hidden) and a valid Token field -> 405, nothing validated',
    send: (s) => ({ json: { ...queueFields(), Token: supervisorToken(s), request: forged({}) } }),
    status: 405,
    code: 'method_not_allowed',
    notSeen: ALL_ROUTES,
  },
  {
    name: 'forged headers without cookies (older runtimes omit them) carrying Basic while disabled -> 401',
    send: () => ({
      json: {
        ...queueFields(),
        request: { headers: { 'content-type': 'application/json', authorization: basic(BASIC_USER, BASIC_PASSWORD) } },
      },
    }),
    status: 401,
    code: 'unauthenticated',
    notSeen: ALL_ROUTES,
  },
  // The local runtime's query parser builds nested objects from `request[headers][...]`, so a GET can carry a forgery of
  // the exact shape too. It still carries only its sender's credentials.
  {
    name: 'GET whose query string builds a forged request (Basic while disabled) -> 401',
    send: () => ({
      event: {
        ...runtimeEvent({ query: queueFields() }),
        request: { headers: { 'content-type': 'application/json', authorization: basic(BASIC_USER, BASIC_PASSWORD) } },
      },
    }),
    status: 401,
    code: 'unauthenticated',
    notSeen: ALL_ROUTES,
  },
  {
    name: "GET whose query string builds a forged request with a plain agent's token on someone else's channel -> 403",
    send: (s) => {
      const { token, fields } = agentOnForeignChannel(s);
      return {
        event: {
          ...runtimeEvent({ query: fields }),
          request: { headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } },
        },
      };
    },
    status: 403,
    code: 'forbidden',
    notSeen: ['invite-create'],
    seen: { 'token-validate': 1 },
  },
];

describe('1. the reserved `request` field: 400 in every encoding, never a transfer', () => {
  test.each(reservedFieldRows)('$name', async (row) => {
    await runRow(row);
  });
});

describe('1. a forged runtime object does no more than the credentials it carries', () => {
  test.each(forgeryRows)('$name', async (row) => {
    await runRow(row);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// 2. Floods: a flood of requests never becomes a flood of token validations
// ---------------------------------------------------------------------------------------------------------------------

function transferWith(token: string, asBearer = false): Promise<CallResult> {
  return asBearer
    ? functions.call('transfer-to-queue', { form: queueFields(), headers: { authorization: `Bearer ${token}` } })
    : functions.call('transfer-to-queue', { json: { ...queueFields(), Token: token } });
}

function countStatuses(answers: CallResult[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const answer of answers) counts[answer.status] = (counts[answer.status] ?? 0) + 1;
  return counts;
}

const validationCalls = () => functions.standin.requestsTo('token-validate').length;

describe('2. floods', () => {
  test('400 distinct random well-shaped tokens in one second from one source: at most its share (5) of the 20 validation calls, the rest 503 busy with Retry-After and no call', async () => {
    const startMs = Date.now();
    functions.newInstance({ now: () => startMs }); // a fresh instance; every request arrives within the same second
    const tokens = Array.from({ length: 400 }, randomJwe);
    const answers = await Promise.all(tokens.map((token, index) => transferWith(token, index % 2 === 1)));

    const calls = validationCalls();
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThanOrEqual(VALIDATIONS_PER_SOURCE); // v3: one source spends at most a quarter of the 20/s
    expect(countStatuses(answers)).toEqual({ 401: calls, 503: 400 - calls });
    expect(new Set(functions.standin.requestsTo('token-validate').map((request) => (request.json as { token: string }).token)).size).toBe(
      calls,
    );
    for (const answer of answers.filter((each) => each.status === 503)) {
      expect(answer.body.error.code).toBe('upstream_unavailable');
      expect(answer.body.error.message).toMatch(/busy/);
      expect(Number(header(answer, 'retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
  });

  test('after the flood the bound refills: a real agent is validated again a second later', async () => {
    let nowMs = Date.now();
    functions.newInstance({ now: () => nowMs });
    await Promise.all(Array.from({ length: 60 }, () => transferWith(randomJwe())));
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    expect((await transferWith(token)).status).toBe(503);
    nowMs += 1_000;
    expect((await transferWith(token)).status).toBe(201);
  });

  test('one bad token sent 200 times over 4 s: ONE validation call', async () => {
    let nowMs = Date.now();
    functions.newInstance({ now: () => nowMs });
    const token = randomJwe();
    const answers: CallResult[] = [];
    for (let index = 0; index < 200; index += 1) {
      answers.push(await transferWith(token, index % 2 === 1));
      nowMs += 20;
    }
    expect(countStatuses(answers)).toEqual({ 401: 200 });
    expect(validationCalls()).toBe(1);
  });

  test('one bad token sent 200 times at once: ONE validation call', async () => {
    functions.newInstance();
    const token = randomJwe();
    const answers = await Promise.all(Array.from({ length: 200 }, (_, index) => transferWith(token, index % 2 === 1)));
    expect(countStatuses(answers)).toEqual({ 401: 200 });
    expect(validationCalls()).toBe(1);
  });

  test('40 concurrent first uses of one valid token: ONE validation call, all 201', async () => {
    functions.newInstance();
    const { token, workerSid } = grantAgentToken(functions.standin, ['supervisor']);
    const answers = await Promise.all(Array.from({ length: 40 }, (_, index) => transferWith(token, index % 2 === 1)));
    expect(countStatuses(answers)).toEqual({ 201: 40 });
    expect(validationCalls()).toBe(1);
    const invites = functions.standin.requestsTo('invite-create');
    expect(invites).toHaveLength(40);
    for (const invite of invites) expect(invite.routing?.properties.attributes).toMatchObject({ transferredByWorkerSid: workerSid });
  });

  const notJwe: { name: string; token: string }[] = [
    { name: 'one word', token: 'x' },
    { name: 'a three-segment JWT', token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl' },
    { name: 'four segments', token: 'eyJhbGciOiJkaXIifQ..aXY.Y2lwaGVy' },
    { name: 'six segments', token: 'eyJhbGciOiJkaXIifQ..aXY.Y2lwaGVy.dGFn.ZXh0cmE' },
    { name: 'an empty header segment', token: '..aXY.Y2lwaGVy.dGFn' },
    { name: 'standard base64 characters (+ / =)', token: 'eyJhbGciOiJkaXIifQ==..aX+Y.Y2l/waGVy.dGFn' },
    { name: 'a space inside', token: 'eyJhbGciOiJkaXIifQ..aXY.Y2lw aGVy.dGFn' },
    { name: 'non-ASCII characters', token: 'eyJhbGciOiJkaXIifQ..aXY.Y2lwaGVyé.dGFn' },
    { name: 'a control character', token: 'eyJhbGciOiJkaXIifQ..aXY.Y2lwaGVy\u0000.dGFn' },
    { name: 'five segments but 20,000 characters', token: `eyJhbGciOiJkaXIifQ..aXY.${'A'.repeat(20_000)}.dGFn` },
  ];

  test.each(notJwe)('not a compact JWE ($name), sent 10 times: 401 every time, 0 validation calls', async ({ token }) => {
    const answers = await Promise.all(Array.from({ length: 10 }, (_, index) => transferWith(token, index % 2 === 1)));
    for (const answer of answers) {
      // A header cannot carry every character; whatever the shape, the answer is a refusal without a call.
      expect({ status: answer.status, code: answer.body.error.code }).toEqual({ status: 401, code: 'unauthenticated' });
    }
    expect(functions.standin.requests).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// 3. Nesting depth: 201 or 400 at every depth, never 500
// ---------------------------------------------------------------------------------------------------------------------

/** `depth` nested objects: {"a":{"a":…{"a":1}…}}. */
function nestedObjectsText(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/** One object holding `depth - 1` nested arrays: {"a":[[…[1]…]]}. */
function nestedArraysText(depth: number): string {
  return depth === 1 ? '{"a":1}' : '{"a":' + '['.repeat(depth - 1) + '1' + ']'.repeat(depth - 1) + '}';
}

const DEPTHS = [1, 31, 32, 33, 100, 1000, 4100, 6000];
const ENCODINGS: { encoding: string; request: (depth: number, token: string) => Sent; text: (depth: number) => string }[] = [
  {
    encoding: 'JSON object',
    text: nestedObjectsText,
    // The event as the runtime's JSON body parser builds it (this test's own JSON.stringify cannot write 6000 levels).
    request: (depth, token) => ({
      event: { ...runtimeEvent({ json: { ...queueFields(), Token: token } }), attributes: JSON.parse(nestedObjectsText(depth)) },
    }),
  },
  {
    encoding: 'JSON string',
    text: nestedObjectsText,
    request: (depth, token) => ({ json: { ...queueFields(), Token: token, attributes: nestedObjectsText(depth) } }),
  },
  {
    encoding: 'form string',
    text: nestedObjectsText,
    request: (depth, token) => ({ form: { ...queueFields(), Token: token, attributes: nestedObjectsText(depth) } }),
  },
  {
    encoding: 'form string of arrays',
    text: nestedArraysText,
    request: (depth, token) => ({ form: { ...queueFields(), Token: token, attributes: nestedArraysText(depth) } }),
  },
];
const depthRows = DEPTHS.flatMap((depth) => ENCODINGS.map((encoding) => ({ depth, ...encoding })));

describe('3. attributes nested at any depth', () => {
  test.each(depthRows)('depth $depth as a $encoding -> 201 or 400, never 500', async ({ depth, request, text }) => {
    const answer = await send('transfer-to-queue', request(depth, supervisorToken(functions.standin)));
    expect([201, 400]).toContain(answer.status);
    const invites = functions.standin.requestsTo('invite-create');
    if (depth <= 32) {
      // Real attributes are a few levels deep: a few dozen levels are accepted and forwarded intact.
      expect(answer.status).toBe(201);
      expect(invites).toHaveLength(1);
      expect(JSON.stringify({ a: (invites[0]?.routing?.properties.attributes as { a: unknown }).a })).toBe(text(depth));
    } else {
      expect(answer.body.error).toEqual(
        expect.objectContaining({ code: 'invalid_request', details: [expect.objectContaining({ field: 'attributes' })] }),
      );
      expect(answer.body.error.details[0].message).toMatch(/deep/);
      expect(invites).toHaveLength(0);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// 4. Twilio answers the code did not expect
// ---------------------------------------------------------------------------------------------------------------------

const MAY_EXIST = /invite may have been created/i;
const twilioAnswerRows: HostileRow[] = [
  {
    name: 'invite answered 200 with a body that is not JSON -> 502, the invite may exist',
    send: (s) => {
      s.script('invite-create', { status: 200, body: '<html><body>OK</body></html>' });
      return { json: { ...queueFields(), Token: supervisorToken(s) } };
    },
    status: 502,
    code: 'upstream_error',
    message: MAY_EXIST,
    notSeen: ['participant-update'],
    seen: { 'invite-create': 1 }, // never repeated blindly
  },
  {
    name: 'invite answered 200 null -> 502, the invite may exist',
    send: (s) => {
      s.script('invite-create', { status: 200, body: 'null', headers: { 'content-type': 'application/json' } });
      return { json: { ...queueFields(), Token: supervisorToken(s) } };
    },
    status: 502,
    code: 'upstream_error',
    message: MAY_EXIST,
    notSeen: ['participant-update'],
    seen: { 'invite-create': 1 },
  },
  {
    name: 'invite answered 200 {} -> 502, the invite may exist (never a 201 without an inviteSid)',
    send: (s) => {
      s.script('invite-create', { status: 200, body: {} });
      return { json: { ...queueFields(), Token: supervisorToken(s) } };
    },
    status: 502,
    code: 'upstream_error',
    message: MAY_EXIST,
    notSeen: ['participant-update'],
    seen: { 'invite-create': 1 },
  },
  {
    name: 'invite answered 201 with a SID that is not an invite SID -> 502, the invite may exist',
    send: (s) => {
      s.script('invite-create', { status: 201, body: { sid: 'KGnot-a-sid' } });
      return { json: { ...queueFields(), Token: supervisorToken(s) } };
    },
    status: 502,
    code: 'upstream_error',
    message: MAY_EXIST,
    notSeen: ['participant-update'],
    seen: { 'invite-create': 1 },
  },
  {
    // The v2 close right after the invite, kept behind TRANSFER_COLD_CLOSE=immediate (on-accept closes nobody here anyway).
    name: 'cold transfer (TRANSFER_COLD_CLOSE=immediate): invite answered 200 {} -> 502, and the participant is not closed',
    settings: { TRANSFER_COLD_CLOSE: 'immediate' },
    send: (s) => {
      const fields = queueFields();
      const participantSid = newSid('UT'); // v3: an agent participant of the channel, or the request is a 400
      s.setParticipants(fields.interactionSid as string, fields.channelSid as string, [
        { sid: newSid('UT'), type: 'customer', routing_properties: null },
        { sid: participantSid, type: 'agent', routing_properties: { worker_sid: newSid('WK') } },
      ]);
      s.script('invite-create', { status: 200, body: {} });
      return { json: { ...fields, Token: supervisorToken(s), transferType: 'cold', participantSid } };
    },
    status: 502,
    code: 'upstream_error',
    message: MAY_EXIST,
    notSeen: ['participant-update', 'workspace-fetch'],
    seen: { 'participant-list': 1, 'invite-create': 1 },
  },
  {
    name: 'participant list answered 200 with a body that is not JSON -> 502, no invite',
    send: (s) => {
      const { token, fields } = agentOnOwnChannel(s);
      s.script('participant-list', { status: 200, body: '<html>maintenance</html>' });
      return { json: { ...fields, Token: token } };
    },
    status: 502,
    code: 'upstream_error',
    notSeen: ['invite-create', 'participant-update'],
  },
  {
    name: 'token validation answered 404 -> 502 (never "not_found"), no invite',
    send: (s) => {
      s.script('token-validate', { status: 404 });
      return { json: { ...queueFields(), Token: supervisorToken(s) } };
    },
    status: 502,
    code: 'upstream_error',
    notSeen: ['invite-create', 'participant-list'],
    seen: { 'token-validate': 1 },
  },
  {
    name: 'token validation answered 400 -> 502 (never 422), no invite',
    send: (s) => {
      s.script('token-validate', { status: 400 });
      return { json: { ...queueFields(), Token: supervisorToken(s) } };
    },
    status: 502,
    code: 'upstream_error',
    notSeen: ['invite-create', 'participant-list'],
    seen: { 'token-validate': 1 },
  },
  {
    name: 'token validation answered 200 with a body that is not JSON -> 502, no invite',
    send: (s) => {
      s.script('token-validate', { status: 200, body: '<html>login</html>' });
      return { json: { ...queueFields(), Token: supervisorToken(s) } };
    },
    status: 502,
    code: 'upstream_error',
    notSeen: ['invite-create', 'participant-list'],
  },
];

describe('4. Twilio answers the code did not expect -> 502 upstream_error', () => {
  test.each(twilioAnswerRows)('$name', async (row) => {
    await runRow(row);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// 5. Prototype keys in attributes
// ---------------------------------------------------------------------------------------------------------------------

const protoText = {
  topProto: '{"__proto__":{"polluted":"yes"},"note":"x"}',
  nestedProto: '{"customer":{"profile":{"__proto__":{"polluted":"yes"}}}}',
  topConstructor: '{"constructor":{"prototype":{"polluted":"yes"}}}',
  nestedConstructor: '{"conversations":{"constructor":{"prototype":{"polluted":"yes"}}}}',
  conversationsProto: '{"conversations":{"__proto__":{"polluted":"yes"}}}',
  inArray: '{"items":[{"__proto__":{"polluted":"yes"}}]}',
  prototypeKey: '{"prototype":{"polluted":"yes"}}',
};

const PROTO = { status: 400, code: 'invalid_request', notSeen: ['invite-create', 'participant-list', 'task-fetch'] as Route[] };
const namesAttributes = (answer: CallResult) =>
  expect(answer.body.error.details).toEqual([expect.objectContaining({ field: 'attributes' })]);
const protoRows: HostileRow[] = Object.entries(protoText).flatMap(([name, text]) => [
  {
    name: `${name} as a JSON object`,
    send: (s: TwilioStandin) => ({ json: { ...queueFields(), Token: supervisorToken(s), attributes: JSON.parse(text) } }),
    check: namesAttributes,
    ...PROTO,
  },
  {
    name: `${name} as a JSON string`,
    send: (s: TwilioStandin) => ({ json: { ...queueFields(), Token: supervisorToken(s), attributes: text } }),
    check: namesAttributes,
    ...PROTO,
  },
  {
    name: `${name} as a form string`,
    send: (s: TwilioStandin) => ({ form: { ...queueFields(), Token: supervisorToken(s), attributes: text } }),
    check: namesAttributes,
    ...PROTO,
  },
]);

describe('5. __proto__, constructor and prototype keys in attributes -> 400, never forwarded', () => {
  test.each(protoRows)('$name', async (row) => {
    await runRow(row);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('with the original task: the request keys are still refused before the task is read', async () => {
    const fields = queueFields();
    // v3: a task of the request's channel, so that only the prototype key can refuse the request.
    const taskSid = functions.standin.addTask({
      workspaceSid: functions.settings.TWILIO_FLEX_WORKSPACE_SID as string,
      attributes: { name: 'Ann', flexInteractionSid: fields.interactionSid, flexInteractionChannelSid: fields.channelSid },
    });
    await runRow({
      name: 'taskSid and __proto__',
      send: (s) => ({ form: { ...fields, taskSid, Token: supervisorToken(s), attributes: protoText.topProto } }),
      check: namesAttributes,
      ...PROTO,
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// 6. One 401 message, whatever failed
// ---------------------------------------------------------------------------------------------------------------------

const UNAUTHENTICATED = { status: 401, code: 'unauthenticated', notSeen: ['invite-create', 'participant-list'] as Route[] };
const unauthenticatedRows: HostileRow[] = [
  { name: 'no credential (Basic disabled)', send: () => ({ json: queueFields() }), ...UNAUTHENTICATED },
  { name: 'no credential (Basic enabled)', settings: BASIC_ENABLED, send: () => ({ form: queueFields() }), ...UNAUTHENTICATED },
  {
    name: 'bad Basic with Basic disabled',
    send: () => ({ json: queueFields(), headers: { authorization: basic(BASIC_USER, 'guess') } }),
    ...UNAUTHENTICATED,
  },
  {
    name: 'the right Basic credentials with Basic disabled',
    send: () => ({ json: queueFields(), headers: { authorization: basic(BASIC_USER, BASIC_PASSWORD) } }),
    ...UNAUTHENTICATED,
  },
  {
    name: 'bad Basic with Basic enabled',
    settings: BASIC_ENABLED,
    send: () => ({ json: queueFields(), headers: { authorization: basic(BASIC_USER, 'guess') } }),
    ...UNAUTHENTICATED,
  },
  {
    name: 'bad signature',
    send: () => {
      const fields = queueFields();
      const signature = getExpectedTwilioSignature(OTHER_AUTH_TOKEN, `https://${IN_PROCESS_DOMAIN}/transfer-to-queue`, fields);
      return { form: fields, headers: { 'x-twilio-signature': signature } };
    },
    ...UNAUTHENTICATED,
  },
  {
    name: 'bad signature with Basic enabled',
    settings: BASIC_ENABLED,
    send: () => {
      const fields = queueFields();
      return { form: fields, headers: { 'x-twilio-signature': 'bm90IGEgc2lnbmF0dXJl' } };
    },
    ...UNAUTHENTICATED,
  },
  {
    name: 'rejected token',
    send: () => ({ json: { ...queueFields(), Token: randomJwe() } }),
    ...UNAUTHENTICATED,
    seen: { 'token-validate': 1 },
  },
  {
    name: 'rejected token (Bearer) with Basic enabled',
    settings: BASIC_ENABLED,
    send: () => ({ form: queueFields(), headers: { authorization: `Bearer ${randomJwe()}` } }),
    ...UNAUTHENTICATED,
    seen: { 'token-validate': 1 },
  },
  {
    name: 'a token that is not a JWE',
    send: () => ({ json: { ...queueFields(), Token: 'eyJhbGciOiJIUzI1NiJ9.e30.c2ln' } }),
    ...UNAUTHENTICATED,
    seen: { 'token-validate': 0 },
  },
  {
    name: "the account's own auth token as a Bearer",
    send: () => ({ json: queueFields(), headers: { authorization: `Bearer ${TEST_AUTH_TOKEN}` } }),
    ...UNAUTHENTICATED,
    seen: { 'token-validate': 0 },
  },
];

describe('6. every 401 says the same thing, whatever failed', () => {
  test.each(unauthenticatedRows)('$name', async (row) => {
    const answer = await runRow(row);
    expect(answer.body.error.message).not.toMatch(/disabled|enabled|not match|refused|rejected|JWE|expired|moments ago|twice|differ/i);
  });
});
