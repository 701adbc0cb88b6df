/**
 * Authentication and CORS, in-process (the functions' core exactly as the
 * runtime adapter runs it, the real helper library talking to the Twilio
 * stand-in): every credential path of the contract is accepted, every bypass
 * is refused before anything reaches the Flex API with ONE message whatever
 * failed, the Basic challenge is sent exactly while Basic is enabled, and no
 * credential ever shows up in an answer or a log line.
 */
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import type { Fault } from '../../dev/standin/types';
import { newSid, type TwilioStandin } from '../../dev/twilio-standin';
import { TEST_WORKFLOW_SID } from '../support/fixtures';
import { TEST_AUTH_TOKEN, TEST_WORKSPACE_SID } from '../support/functions-server';
import {
  type CallRequest,
  type CallResult,
  type FunctionName,
  grantAgentToken,
  IN_PROCESS_DOMAIN,
  type InProcessFunctions,
  inProcessFunctions,
} from '../support/in-process';

const FLEX_ORIGIN = 'https://flex.twilio.com';
const BASIC_USER = 'studio';
const BASIC_PASSWORD = 'Basic-Pa55word-Never-Logged';
const OTHER_AUTH_TOKEN = 'X'.repeat(32);

/** Every secret a test hands out: none may appear in an answer or in a log line. */
const secrets = new Set<string>([TEST_AUTH_TOKEN, BASIC_PASSWORD]);

function issueToken(standin: TwilioStandin, roles: string[] = ['agent']): { token: string; workerSid: string } {
  const issued = grantAgentToken(standin, roles);
  secrets.add(issued.token);
  return issued;
}

/** Shaped like a Flex token (a compact JWE) but never granted: the validator rejects it. */
function unknownToken(): string {
  const segment = () => Buffer.from(newSid('')).toString('base64url');
  const token = ['eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0', segment(), segment(), segment(), segment()].join('.');
  secrets.add(token);
  return token;
}

function basic(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
}

/** Form fields of a queue transfer (strings, as Studio sends them). */
function queueFields(): Record<string, string> {
  return { interactionSid: newSid('KD'), channelSid: newSid('UO'), queueSid: newSid('WQ') };
}

/** An agent transfer names a queue too: in workflow mode (the v3 default) it rides as `transferQueueSid` for the workflow's next step. */
function agentFields(): Record<string, string> {
  return { interactionSid: newSid('KD'), channelSid: newSid('UO'), workerSid: newSid('WK'), queueSid: newSid('WQ') };
}

/** Queue-transfer fields for a channel where `workerSid` is the agent participant (a plain agent may transfer only those). */
function ownChannelFields(standin: TwilioStandin, workerSid: string, fields = queueFields()): Record<string, string> {
  standin.setParticipants(fields.interactionSid as string, fields.channelSid as string, [
    { sid: newSid('UT'), type: 'customer', routing_properties: null },
    { sid: newSid('UT'), type: 'agent', routing_properties: { worker_sid: workerSid } },
  ]);
  return fields;
}

/**
 * Seeds the fields' channel with a customer and another worker's agent participant, so that a restricted caller
 * would be refused there; returns that worker.
 */
function someoneElsesChannel(standin: TwilioStandin, fields: Record<string, string>): string {
  const otherWorker = newSid('WK');
  standin.setParticipants(fields.interactionSid as string, fields.channelSid as string, [
    { sid: newSid('UT'), type: 'customer', routing_properties: null },
    { sid: newSid('UT'), type: 'agent', routing_properties: { worker_sid: otherWorker } },
  ]);
  return otherWorker;
}

function sign(url: string, fields: Record<string, string>, authToken = TEST_AUTH_TOKEN): string {
  return getExpectedTwilioSignature(authToken, url, fields);
}

const signedUrl = (scheme: 'http' | 'https', path: string) => `${scheme}://${IN_PROCESS_DOMAIN}${path}`;

function header(answer: CallResult, name: string): string | undefined {
  const found = Object.entries(answer.headers).find(([key]) => key.toLowerCase() === name.toLowerCase());
  return found?.[1];
}

function expectNoSecrets(functions: InProcessFunctions, answer: CallResult): void {
  const answerText = JSON.stringify(answer.body) + '\n' + JSON.stringify(answer.headers);
  const logText = JSON.stringify(functions.logs);
  expect(functions.logs.length).toBeGreaterThan(0); // the log line was written
  for (const secret of secrets) {
    expect(answerText).not.toContain(secret);
    expect(logText).not.toContain(secret);
  }
}

function expectJsonWithVary(functions: InProcessFunctions, answer: CallResult): void {
  expect(header(answer, 'content-type')).toMatch(/^application\/json/);
  expect(header(answer, 'vary')).toMatch(/\bOrigin\b/i);
  expect(header(answer, 'x-request-id')).toBe(answer.log.requestId);
  expectNoSecrets(functions, answer);
}

/** Refused: the status and code of the contract, no stack trace, and nothing sent to the Flex API. */
function expectRefused(functions: InProcessFunctions, answer: CallResult, status: number, code: string): void {
  expect({ status: answer.status, code: answer.body?.error?.code }).toEqual({ status, code });
  expect(JSON.stringify(answer.body)).not.toMatch(/\\n\s+at |\.[jt]s:\d+/);
  expectJsonWithVary(functions, answer);
  expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
  expect(functions.standin.requestsTo('participant-update')).toHaveLength(0);
}

/** The 401 every credential failure gets: one message (it must not tell what failed), and the Basic challenge exactly while Basic is enabled. */
async function expectUnauthenticated(
  functions: InProcessFunctions,
  answer: CallResult,
  options: { basicEnabled: boolean; name?: FunctionName },
): Promise<void> {
  expectRefused(functions, answer, 401, 'unauthenticated');
  const reference = await functions.call(options.name ?? 'transfer-to-queue', { json: queueFields() }); // no credential at all
  expect(reference.status).toBe(401);
  expect(answer.body.error.message).toBe(reference.body.error.message);
  expect(answer.body.error).not.toHaveProperty('details');
  const challenge = header(answer, 'www-authenticate');
  if (options.basicEnabled) expect(challenge).toMatch(/^Basic realm="[^"]+"/);
  else expect(challenge).toBeUndefined();
}

/** Accepted: 201 and exactly one invite, whose routing is returned. */
function expectTransferred(functions: InProcessFunctions, answer: CallResult): Record<string, unknown> {
  expect({ status: answer.status, body: answer.body }).toEqual({
    status: 201,
    body: expect.objectContaining({ inviteSid: expect.stringMatching(/^KG/) }),
  });
  expectJsonWithVary(functions, answer);
  const invites = functions.standin.requestsTo('invite-create');
  expect(invites).toHaveLength(1);
  return invites[0]?.routing?.properties ?? {};
}

const validations = (functions: InProcessFunctions) => functions.standin.requestsTo('token-validate').length;

// Authentication is decided before anything reaches Twilio's resources: these suites transfer to made-up
// conversations, queues and workers, which the stand-in accepts as it did before it refused unknown SIDs.
describe('default settings (HTTP Basic disabled)', () => {
  const functions = inProcessFunctions({ refusesUnknown: false });

  describe('accepted credentials', () => {
    test('Flex token in the Token field: validated once with the account credentials, caller recorded on the task', async () => {
      const { token, workerSid } = issueToken(functions.standin);
      const fields = ownChannelFields(functions.standin, workerSid);
      const answer = await functions.call('transfer-to-queue', { json: { ...fields, Token: token }, headers: { origin: FLEX_ORIGIN } });

      const properties = expectTransferred(functions, answer);
      // v3: every invite names a workflow (TRANSFER_WORKFLOW_SID), and carries the workers already in the conversation.
      expect(properties).toEqual({
        workspace_sid: TEST_WORKSPACE_SID,
        workflow_sid: TEST_WORKFLOW_SID,
        queue_sid: fields.queueSid,
        task_channel_unique_name: 'chat',
        attributes: {
          transferTargetType: 'queue',
          transferTargetSid: fields.queueSid,
          transferType: 'warm',
          transferredByWorkerSid: workerSid,
          workerSidsInConversation: [workerSid],
        },
      });
      const validated = functions.standin.requestsTo('token-validate');
      expect(validated).toHaveLength(1);
      expect(validated[0]?.json).toEqual({ token });
      expect(validated[0]?.host).toBe('iam.twilio.com');
      expect(answer.log.callerKind).toBe('flex-token');
      expect(header(answer, 'access-control-allow-origin')).toBe(FLEX_ORIGIN);
    });

    test('Flex token as Authorization: Bearer (form body, transfer-to-agent)', async () => {
      const { token, workerSid } = issueToken(functions.standin);
      const fields = ownChannelFields(functions.standin, workerSid, agentFields());
      const answer = await functions.call('transfer-to-agent', { form: fields, headers: { authorization: `Bearer ${token}` } });

      const properties = expectTransferred(functions, answer);
      // v3 default (TRANSFER_AGENT_ROUTING=workflow): the workflow reaches the worker by known-agent routing on the attributes.
      expect(properties).not.toHaveProperty('worker_sid');
      expect(properties).not.toHaveProperty('queue_sid');
      expect(properties.workflow_sid).toBe(TEST_WORKFLOW_SID);
      expect(properties.attributes).toMatchObject({
        transferTargetType: 'worker',
        transferTargetSid: fields.workerSid,
        transferQueueSid: fields.queueSid,
        transferredByWorkerSid: workerSid,
      });
      expect(validations(functions)).toBe(1);
    });

    test('the same token in the Token field and as Bearer counts once', async () => {
      const { token, workerSid } = issueToken(functions.standin);
      const fields = ownChannelFields(functions.standin, workerSid);
      const answer = await functions.call('transfer-to-queue', {
        form: { ...fields, Token: token },
        headers: { authorization: `Bearer ${token}` },
      });
      expectTransferred(functions, answer);
      expect(validations(functions)).toBe(1);
    });

    test.each([
      { roles: ['supervisor'], status: 201 },
      { roles: ['wfo.team_leader', 'admin'], status: 201 },
      { roles: ['wfo.full_access'], status: 403 },
      { roles: [], status: 403 },
    ])('Flex token with roles $roles -> $status', async ({ roles, status }) => {
      const { token } = issueToken(functions.standin, roles);
      const answer = await functions.call('transfer-to-queue', { json: { ...queueFields(), Token: token } });
      if (status === 201) expectTransferred(functions, answer);
      else {
        expectRefused(functions, answer, 403, 'forbidden');
        expect(answer.body.error.message).toMatch(/role/i);
        expect(functions.standin.requestsTo('participant-list')).toHaveLength(0);
      }
      expect(validations(functions)).toBe(1);
    });

    test.each([
      { scheme: 'http' as const, name: 'transfer-to-queue' as const },
      { scheme: 'https' as const, name: 'transfer-to-queue' as const },
      { scheme: 'http' as const, name: 'transfer-to-agent' as const },
      { scheme: 'https' as const, name: 'transfer-to-agent' as const },
    ])(
      'Twilio signature over the form params against $scheme://{DOMAIN_NAME}/$name: accepted, no worker identity',
      async ({ scheme, name }) => {
        const fields = name === 'transfer-to-queue' ? queueFields() : agentFields();
        const otherWorker = someoneElsesChannel(functions.standin, fields);
        const signed = { ...fields, priority: '5', attributes: '{"source":"studio"}' };
        const answer = await functions.call(name, {
          form: signed,
          headers: { 'x-twilio-signature': sign(signedUrl(scheme, `/${name}`), signed) },
        });

        const properties = expectTransferred(functions, answer);
        expect(properties.priority).toBe(5);
        expect(properties.attributes).toMatchObject({ source: 'studio', transferType: 'warm' });
        expect(properties.attributes).not.toHaveProperty('transferredByWorkerSid');
        expect(answer.log.callerKind).toBe('twilio-signature');
        expect(validations(functions)).toBe(0);
        // v3: every transfer reads the channel's participants once; signed callers are not restricted by them (the only
        // agent participant is another worker's, yet the transfer went through).
        expect(functions.standin.requestsTo('participant-list')).toHaveLength(1);
        expect(properties.attributes).toMatchObject({ workerSidsInConversation: [otherWorker] });
      },
    );
  });

  describe('refused credentials: 401, one message, no Basic challenge', () => {
    type Case = { name: string; request: (standin: TwilioStandin) => CallRequest; validations?: number };
    const queuePath = '/transfer-to-queue';

    const cases: Case[] = [
      { name: 'no credential at all (JSON)', request: () => ({ json: queueFields() }) },
      { name: 'no credential at all (form)', request: () => ({ form: queueFields() }) },
      { name: 'empty Token field', request: () => ({ json: { ...queueFields(), Token: '' } }) },
      { name: 'empty Bearer', request: () => ({ json: queueFields(), headers: { authorization: 'Bearer ' } }) },
      { name: 'empty X-Twilio-Signature', request: () => ({ form: queueFields(), headers: { 'x-twilio-signature': '' } }) },
      { name: 'Token that is not a string', request: () => ({ json: { ...queueFields(), Token: { token: unknownToken() } } }) },
      { name: 'Token field sent twice', request: () => ({ form: { ...queueFields(), Token: [unknownToken(), unknownToken()] } }) },
      {
        name: 'Token field and Bearer header that differ (both valid tokens)',
        request: (standin) => ({
          json: { ...queueFields(), Token: issueToken(standin, ['admin']).token },
          headers: { authorization: `Bearer ${issueToken(standin, ['admin']).token}` },
        }),
      },
      {
        name: 'token with non-ASCII characters (validator not called)',
        request: () => ({ json: { ...queueFields(), Token: 'eyJabc\u00e9def.ghi' } }),
      },
      {
        name: 'a three-segment JWT, not a compact JWE (validator not called)',
        request: () => ({ json: { ...queueFields(), Token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl' } }),
      },
      {
        name: 'a granted token cut to four segments (validator not called)',
        request: (standin) => ({
          json: { ...queueFields(), Token: issueToken(standin, ['admin']).token.split('.').slice(0, 4).join('.') },
        }),
      },
      {
        name: 'unknown token: the validator answers 200 {valid:false}',
        request: () => ({ json: { ...queueFields(), Token: unknownToken() } }),
        validations: 1,
      },
      {
        name: 'expired token: the validator answers 200 {valid:false, "Expired token"} (Bearer)',
        request: (standin) => {
          standin.invalidTokenAnswer = { status: 200, body: { valid: false, code: 20151, message: 'Expired token' } };
          return { json: queueFields(), headers: { authorization: `Bearer ${unknownToken()}` } };
        },
        validations: 1,
      },
      {
        name: 'unknown token: the validator answers 403 with a verdict',
        request: (standin) => {
          standin.invalidTokenAnswer = { status: 403, body: { valid: false, code: 20403, message: 'Forbidden', status: 403 } };
          return { json: { ...queueFields(), Token: unknownToken() } };
        },
        validations: 1,
      },
      {
        name: 'unknown token: the validator answers 401 with a verdict',
        request: (standin) => {
          standin.invalidTokenAnswer = { status: 401, body: { valid: false, code: 20003, message: 'Authenticate', status: 401 } };
          return { json: { ...queueFields(), Token: unknownToken() } };
        },
        validations: 1,
      },
      {
        name: 'signed field tampered after signing',
        request: () => {
          const fields = queueFields();
          const signature = sign(signedUrl('https', queuePath), fields);
          return { form: { ...fields, queueSid: newSid('WQ') }, headers: { 'x-twilio-signature': signature } };
        },
      },
      {
        name: 'unsigned field added after signing',
        request: () => {
          const fields = queueFields();
          const signature = sign(signedUrl('http', queuePath), fields);
          return { form: { ...fields, transferType: 'cold', participantSid: newSid('UT') }, headers: { 'x-twilio-signature': signature } };
        },
      },
      {
        name: 'signature for the other function',
        request: () => {
          const fields = queueFields();
          return { form: fields, headers: { 'x-twilio-signature': sign(signedUrl('https', '/transfer-to-agent'), fields) } };
        },
      },
      {
        name: 'signature for another host',
        request: () => {
          const fields = queueFields();
          return { form: fields, headers: { 'x-twilio-signature': sign('https://example-1234.twil.io/transfer-to-queue', fields) } };
        },
      },
      {
        name: 'signature made with another auth token',
        request: () => {
          const fields = queueFields();
          return { form: fields, headers: { 'x-twilio-signature': sign(signedUrl('https', queuePath), fields, OTHER_AUTH_TOKEN) } };
        },
      },
      {
        name: 'signed JSON body (a valid form signature over the same fields)',
        request: () => {
          const fields = queueFields();
          return { json: fields, headers: { 'x-twilio-signature': sign(signedUrl('https', queuePath), fields) } };
        },
      },
      {
        name: 'X-Twilio-Signature header sent twice (both valid)',
        request: () => {
          const fields = queueFields();
          const signature = sign(signedUrl('https', queuePath), fields);
          return { form: fields, headers: { 'x-twilio-signature': [signature, signature] } };
        },
      },
      {
        name: 'Authorization header sent twice (both the same valid Bearer token)',
        request: (standin) => {
          const { token } = issueToken(standin, ['admin']);
          return { json: queueFields(), headers: { authorization: [`Bearer ${token}`, `Bearer ${token}`] } };
        },
      },
      {
        name: 'HTTP Basic while it is disabled',
        request: () => ({ json: queueFields(), headers: { authorization: basic(BASIC_USER, BASIC_PASSWORD) } }),
      },
      {
        name: "HTTP Basic with the account's own SID and auth token (never a credential here)",
        request: () => ({
          json: queueFields(),
          headers: { authorization: basic(functions.settings.ACCOUNT_SID as string, TEST_AUTH_TOKEN) },
        }),
      },
    ];

    test.each(cases)('$name -> 401', async ({ request, validations: expected }) => {
      const answer = await functions.call('transfer-to-queue', request(functions.standin));
      await expectUnauthenticated(functions, answer, { basicEnabled: false });
      expect(header(answer, 'access-control-allow-origin')).toBeUndefined(); // no Origin sent
      expect(functions.standin.requestsTo('participant-list')).toHaveLength(0);
      expect(validations(functions)).toBe(expected ?? 0);
    });

    test.each(['transfer-to-agent', 'list-transfers', 'cancel-transfer'] as const)(
      '%s refuses a missing credential the same way',
      async (name) => {
        const answer = await functions.call(name, { json: { ...agentFields(), taskSid: newSid('WT') } });
        await expectUnauthenticated(functions, answer, { basicEnabled: false, name });
        expect(functions.standin.requests).toHaveLength(0);
      },
    );
  });

  describe('token validator unreachable, slow or answering something else', () => {
    test.each<{ name: string; faults: Fault[] }>([
      { name: 'never answers', faults: [{ hang: true }] },
      { name: 'answers 500', faults: [{ status: 500 }] },
      { name: 'answers 503 every time', faults: Array.from({ length: 6 }, () => ({ status: 503 })) },
      { name: 'answers 429 every time', faults: Array.from({ length: 6 }, () => ({ status: 429, headers: { 'Retry-After': '1' } })) },
      { name: 'resets the connection every time', faults: Array.from({ length: 6 }, () => ({ reset: true as const })) },
      { name: 'refuses the connection every time', faults: Array.from({ length: 6 }, () => ({ refuse: true as const })) },
    ])('validator $name -> 503 well inside 9 s, never 401/403', async ({ faults }) => {
      const { token } = issueToken(functions.standin, ['admin']);
      functions.standin.script('token-validate', ...faults);
      const startedAt = Date.now();
      const answer = await functions.call('transfer-to-queue', { json: { ...queueFields(), Token: token } });
      expect(Date.now() - startedAt).toBeLessThan(9000);
      expectRefused(functions, answer, 503, 'upstream_unavailable');
      expect(validations(functions)).toBeGreaterThanOrEqual(1);
      expect(validations(functions)).toBeLessThanOrEqual(4);
    });

    test.each([
      { status: 404, name: 'answers 404 (not the validation API)' },
      { status: 400, name: 'answers 400 without a verdict' },
      { status: 401, name: "answers 401 without a verdict (the function's own credentials)" },
      { status: 403, name: "answers 403 without a verdict (the function's own credentials)" },
    ])('validator $name -> 502 upstream_error, never a 4xx of the caller', async ({ status }) => {
      const { token } = issueToken(functions.standin, ['admin']);
      functions.standin.script('token-validate', { status });
      const answer = await functions.call('transfer-to-queue', { json: { ...queueFields(), Token: token } });
      expectRefused(functions, answer, 502, 'upstream_error');
      expect(validations(functions)).toBe(1);
    });
  });

  describe('CORS', () => {
    test.each([
      { origin: FLEX_ORIGIN, allowed: FLEX_ORIGIN },
      { origin: 'https://evil.example.com', allowed: undefined },
      { origin: 'https://flex.twilio.com.evil.example.com', allowed: undefined },
      { origin: 'null', allowed: undefined },
    ])('Origin $origin on a refused request -> Access-Control-Allow-Origin $allowed, Vary: Origin', async ({ origin, allowed }) => {
      const answer = await functions.call('transfer-to-agent', { json: agentFields(), headers: { origin } });
      await expectUnauthenticated(functions, answer, { basicEnabled: false, name: 'transfer-to-agent' });
      expect(header(answer, 'access-control-allow-origin')).toBe(allowed);
      expect(header(answer, 'access-control-allow-credentials')).toBeUndefined();
    });

    test('an allowed origin can read X-Request-Id and Retry-After on an accepted transfer', async () => {
      const { token } = issueToken(functions.standin, ['supervisor']);
      const answer = await functions.call('transfer-to-queue', {
        form: { ...queueFields(), Token: token },
        headers: { origin: FLEX_ORIGIN },
      });
      expectTransferred(functions, answer);
      expect(header(answer, 'access-control-allow-origin')).toBe(FLEX_ORIGIN);
      expect(header(answer, 'access-control-expose-headers')).toMatch(/X-Request-Id/i);
      expect(header(answer, 'access-control-expose-headers')).toMatch(/Retry-After/i);
    });

    test('an Origin header sent twice is not echoed', async () => {
      const answer = await functions.call('transfer-to-queue', { json: queueFields(), headers: { origin: [FLEX_ORIGIN, FLEX_ORIGIN] } });
      expect(answer.status).toBe(401);
      expect(header(answer, 'access-control-allow-origin')).toBeUndefined();
    });
  });
});

describe('HTTP Basic enabled, custom roles and origins', () => {
  const ADMIN_ORIGIN = 'https://admin.example.com';
  const functions = inProcessFunctions({
    refusesUnknown: false,
    settings: {
      TRANSFER_BASIC_AUTH_USER: BASIC_USER,
      TRANSFER_BASIC_AUTH_PASSWORD: BASIC_PASSWORD,
      TRANSFER_ALLOWED_ROLES: 'supervisor',
      TRANSFER_ALLOWED_ORIGINS: `${ADMIN_ORIGIN}, https://flex.example.org`,
    },
  });

  test('correct Basic credentials: accepted, no token validation, no worker identity, not restricted', async () => {
    const fields = agentFields();
    const otherWorker = someoneElsesChannel(functions.standin, fields);
    const answer = await functions.call('transfer-to-agent', {
      json: fields,
      headers: { authorization: basic(BASIC_USER, BASIC_PASSWORD), origin: ADMIN_ORIGIN },
    });
    const properties = expectTransferred(functions, answer);
    // v3 default (TRANSFER_AGENT_ROUTING=workflow): the target rides in the attributes, not as worker_sid.
    expect(properties).not.toHaveProperty('worker_sid');
    expect(properties.attributes).toMatchObject({ transferTargetType: 'worker', transferTargetSid: fields.workerSid });
    expect(properties.attributes).not.toHaveProperty('transferredByWorkerSid');
    expect(answer.log.callerKind).toBe('basic');
    expect(validations(functions)).toBe(0);
    // v3: the participants are read once (every transfer reads them); another worker's channel, yet not restricted.
    expect(functions.standin.requestsTo('participant-list')).toHaveLength(1);
    expect(properties.attributes).toMatchObject({ workerSidsInConversation: [otherWorker] });
    expect(header(answer, 'access-control-allow-origin')).toBe(ADMIN_ORIGIN);
    expect(header(answer, 'www-authenticate')).toBeUndefined();
  });

  test.each([
    { name: 'wrong password', request: () => ({ json: queueFields(), headers: { authorization: basic(BASIC_USER, 'wrong') } }) },
    {
      name: 'password missing its last character',
      request: () => ({ json: queueFields(), headers: { authorization: basic(BASIC_USER, BASIC_PASSWORD.slice(0, -1)) } }),
    },
    {
      name: 'password with one more character',
      request: () => ({ json: queueFields(), headers: { authorization: basic(BASIC_USER, BASIC_PASSWORD + 'x') } }),
    },
    { name: 'wrong user', request: () => ({ json: queueFields(), headers: { authorization: basic('admin', BASIC_PASSWORD) } }) },
    { name: 'empty user and password', request: () => ({ json: queueFields(), headers: { authorization: basic('', '') } }) },
    { name: 'no credentials after the scheme', request: () => ({ json: queueFields(), headers: { authorization: 'Basic' } }) },
    {
      name: 'correct credentials in a header sent twice',
      request: () => ({
        json: queueFields(),
        headers: { authorization: [basic(BASIC_USER, BASIC_PASSWORD), basic(BASIC_USER, BASIC_PASSWORD)] },
      }),
    },
    { name: 'no credential at all (Studio before the challenge)', request: () => ({ form: queueFields() }) },
    { name: 'a rejected Flex token', request: () => ({ json: { ...queueFields(), Token: unknownToken() } }) },
    { name: 'a Flex token that is not a JWE', request: () => ({ json: { ...queueFields(), Token: 'not-a-token' } }) },
    {
      name: 'a signature made with another auth token',
      request: () => {
        const fields = queueFields();
        return {
          form: fields,
          headers: { 'x-twilio-signature': sign(signedUrl('https', '/transfer-to-queue'), fields, OTHER_AUTH_TOKEN) },
        };
      },
    },
  ])('$name -> 401 with the Basic challenge and the same message', async ({ request }) => {
    const answer = await functions.call('transfer-to-queue', request());
    await expectUnauthenticated(functions, answer, { basicEnabled: true });
  });

  test('a refusal that is not a 401 carries no challenge', async () => {
    const { token } = issueToken(functions.standin, ['agent']);
    const answer = await functions.call('transfer-to-queue', { json: { ...queueFields(), Token: token } });
    expectRefused(functions, answer, 403, 'forbidden');
    expect(header(answer, 'www-authenticate')).toBeUndefined();
  });

  test.each([
    { roles: ['agent'], status: 403 },
    { roles: ['admin'], status: 403 },
    { roles: ['supervisor'], status: 201 },
  ])('TRANSFER_ALLOWED_ROLES=supervisor: Flex token with roles $roles -> $status', async ({ roles, status }) => {
    const { token } = issueToken(functions.standin, roles);
    const answer = await functions.call('transfer-to-queue', { json: { ...queueFields(), Token: token } });
    if (status === 201) expectTransferred(functions, answer);
    else expectRefused(functions, answer, 403, 'forbidden');
    expect(validations(functions)).toBe(1);
  });

  test.each([
    { origin: 'https://flex.example.org', allowed: 'https://flex.example.org' },
    { origin: ADMIN_ORIGIN, allowed: ADMIN_ORIGIN },
    { origin: FLEX_ORIGIN, allowed: undefined },
  ])('TRANSFER_ALLOWED_ORIGINS replaces the default: Origin $origin -> $allowed', async ({ origin, allowed }) => {
    const answer = await functions.call('transfer-to-queue', { json: queueFields(), headers: { origin } });
    await expectUnauthenticated(functions, answer, { basicEnabled: true });
    expect(header(answer, 'access-control-allow-origin')).toBe(allowed);
    expect(header(answer, 'vary')).toMatch(/\bOrigin\b/i);
  });
});

describe('Basic half-configured (user without password): disabled', () => {
  const functions = inProcessFunctions({ refusesUnknown: false, settings: { TRANSFER_BASIC_AUTH_USER: BASIC_USER } });

  test.each([
    { name: 'the configured user and an empty password', password: '' },
    { name: 'the configured user and some password', password: BASIC_PASSWORD },
  ])('$name -> 401 like any refused credential, without a challenge', async ({ password }) => {
    const answer = await functions.call('transfer-to-queue', {
      json: queueFields(),
      headers: { authorization: basic(BASIC_USER, password) },
    });
    await expectUnauthenticated(functions, answer, { basicEnabled: false });
    expect(functions.standin.requests).toHaveLength(0);
  });
});
