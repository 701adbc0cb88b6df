/**
 * Authentication and CORS through the real twilio-run server (one forked
 * function process per request): every credential path of the contract is
 * accepted, every bypass is refused before anything reaches the Flex API, and
 * no credential ever shows up in a response or a log line.
 */
import { request as httpRequest } from 'node:http';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { TEST_AUTH_TOKEN, TEST_WORKSPACE_SID } from '../support/functions-server';
import { agentToken, type Harness, type HttpResult, postForm, postJson, transferSids, useFunctions } from '../support/harness';
import { newSid, type TwilioStandin } from '../support/twilio-standin';

const FLEX_ORIGIN = 'https://flex.twilio.com';
const BASIC_USER = 'studio';
const BASIC_PASSWORD = 'Basic-Pa55word-Never-Logged';
const OTHER_AUTH_TOKEN = 'X'.repeat(32);

/** Every secret a test hands out: none may appear in a response or in the server's output. */
const secrets = new Set<string>([TEST_AUTH_TOKEN, BASIC_PASSWORD]);

function issueToken(standin: TwilioStandin, roles: string[] = ['agent']): { token: string; workerSid: string } {
  const issued = agentToken(standin, roles);
  secrets.add(issued.token);
  return issued;
}

function unknownToken(): string {
  const token = `eyJ${newSid('x').slice(1)}.unknown`;
  secrets.add(token);
  return token;
}

function basic(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
}

/** Form fields of a queue transfer (strings, as Studio sends them). */
function queueFields(): Record<string, string> {
  const sids = transferSids();
  return { interactionSid: sids.interactionSid, channelSid: sids.channelSid, queueSid: sids.queueSid };
}

function agentFields(): Record<string, string> {
  const sids = transferSids();
  return { interactionSid: sids.interactionSid, channelSid: sids.channelSid, workerSid: sids.workerSid };
}

function sign(url: string, fields: Record<string, string>, authToken = TEST_AUTH_TOKEN): string {
  return getExpectedTwilioSignature(authToken, url, fields);
}

/** A POST whose headers may repeat (fetch folds repeated headers into one). */
function rawPost(url: string, headers: [string, string][], body: string): Promise<HttpResult> {
  const startedAt = Date.now();
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, { method: 'POST' }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          for (const item of Array.isArray(value) ? value : [value ?? '']) responseHeaders.append(name, item);
        }
        resolve({ status: response.statusCode ?? 0, headers: responseHeaders, text, json, elapsedMs: Date.now() - startedAt });
      });
    });
    outgoing.on('error', reject);
    const grouped = new Map<string, string[]>();
    for (const [name, value] of headers) grouped.set(name, [...(grouped.get(name) ?? []), value]);
    for (const [name, values] of grouped) outgoing.setHeader(name, values.length === 1 ? (values[0] as string) : values);
    outgoing.setHeader('content-length', Buffer.byteLength(body));
    outgoing.end(body);
  });
}

function expectNoSecrets(answer: HttpResult): void {
  const headerText = [...answer.headers.entries()].map(([name, value]) => `${name}: ${value}`).join('\n');
  for (const secret of secrets) {
    expect(answer.text).not.toContain(secret);
    expect(headerText).not.toContain(secret);
  }
}

function expectJsonWithVary(answer: HttpResult): void {
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  expect(answer.headers.get('vary') ?? '').toMatch(/\bOrigin\b/i);
  expectNoSecrets(answer);
}

/** Refused: the status and code of the contract, and nothing sent to the Flex API. */
function expectRefused(harness: Harness, answer: HttpResult, status: number, code: string): void {
  expect({ status: answer.status, code: answer.json?.error?.code }).toEqual({ status, code });
  expect(answer.text).not.toMatch(/\n\s+at /); // no stack trace
  expectJsonWithVary(answer);
  expect(harness.standin.requestsTo('invite')).toHaveLength(0);
  expect(harness.standin.requestsTo('participant-list')).toHaveLength(0);
}

/** Accepted: 201 and exactly one invite, whose routing is returned. */
function expectTransferred(harness: Harness, answer: HttpResult): Record<string, unknown> {
  expect({ status: answer.status, body: answer.json }).toEqual({
    status: 201,
    body: expect.objectContaining({ inviteSid: expect.any(String) }),
  });
  expectJsonWithVary(answer);
  const invites = harness.standin.requestsTo('invite');
  expect(invites).toHaveLength(1);
  return invites[0]?.routing?.properties ?? {};
}

function expectNoSecretsInOutput(harness: Harness): void {
  const output = harness.server.output();
  expect(output).toContain('"status":'); // the request log lines were captured
  for (const secret of secrets) expect(output).not.toContain(secret);
}

describe('default settings (HTTP Basic disabled)', () => {
  const harness = useFunctions();
  const url = (path: string) => harness.url(path);
  const localUrl = (scheme: 'http' | 'https', path: string) => `${scheme}://localhost:${harness.server.port}${path}`;

  describe('accepted credentials', () => {
    test('Flex token in the Token field: validated once with the account credentials, caller recorded on the task', async () => {
      const { token, workerSid } = issueToken(harness.standin);
      const fields = queueFields();
      const answer = await postJson(url('/transfer-to-queue'), { ...fields, Token: token }, { origin: FLEX_ORIGIN });

      const properties = expectTransferred(harness, answer);
      expect(properties).toEqual({
        workspace_sid: TEST_WORKSPACE_SID,
        queue_sid: fields.queueSid,
        attributes: {
          transferTargetType: 'queue',
          transferTargetSid: fields.queueSid,
          transferType: 'warm',
          transferredByWorkerSid: workerSid,
        },
      });
      const validations = harness.standin.requestsTo('token-validate');
      expect(validations).toHaveLength(1);
      expect(validations[0]?.json).toEqual({ token });
      expect(answer.headers.get('access-control-allow-origin')).toBe(FLEX_ORIGIN);
    });

    test('Flex token as Authorization: Bearer (form body, transfer-to-agent)', async () => {
      const { token, workerSid } = issueToken(harness.standin);
      const fields = agentFields();
      const answer = await postForm(url('/transfer-to-agent'), fields, { authorization: `Bearer ${token}` });

      const properties = expectTransferred(harness, answer);
      expect(properties.worker_sid).toBe(fields.workerSid);
      expect(properties.attributes).toMatchObject({ transferTargetType: 'worker', transferredByWorkerSid: workerSid });
      expect(harness.standin.requestsTo('token-validate')).toHaveLength(1);
    });

    test.each([
      { roles: ['supervisor'], status: 201 },
      { roles: ['wfo.team_leader', 'admin'], status: 201 },
      { roles: ['wfo.full_access'], status: 403 },
      { roles: [], status: 403 },
    ])('Flex token with roles $roles -> $status', async ({ roles, status }) => {
      const { token } = issueToken(harness.standin, roles);
      const answer = await postJson(url('/transfer-to-queue'), { ...queueFields(), Token: token });
      if (status === 201) expectTransferred(harness, answer);
      else expectRefused(harness, answer, 403, 'forbidden');
      expect(harness.standin.requestsTo('token-validate')).toHaveLength(1);
    });

    test.each([
      { scheme: 'http' as const, path: '/transfer-to-queue' },
      { scheme: 'https' as const, path: '/transfer-to-agent' },
    ])('Twilio signature over the form params against $scheme://{DOMAIN_NAME}$path: no worker identity', async ({ scheme, path }) => {
      const fields = path === '/transfer-to-queue' ? queueFields() : agentFields();
      const signed = { ...fields, priority: '5', attributes: '{"source":"studio"}' };
      const answer = await postForm(url(path), signed, { 'x-twilio-signature': sign(localUrl(scheme, path), signed) });

      const properties = expectTransferred(harness, answer);
      expect(properties.priority).toBe(5);
      expect(properties.attributes).toMatchObject({ source: 'studio', transferType: 'warm' });
      expect(properties.attributes).not.toHaveProperty('transferredByWorkerSid');
      expect(harness.standin.requestsTo('token-validate')).toHaveLength(0);
    });
  });

  describe('refused credentials', () => {
    type Case = { name: string; send: () => Promise<HttpResult>; validations?: number };
    const queue = () => url('/transfer-to-queue');
    const form = 'application/x-www-form-urlencoded';

    const cases: Case[] = [
      { name: 'no credential at all (JSON)', send: () => postJson(queue(), queueFields()) },
      { name: 'empty Token field', send: () => postJson(queue(), { ...queueFields(), Token: '' }) },
      { name: 'empty Bearer', send: () => postJson(queue(), queueFields(), { authorization: 'Bearer ' }) },
      { name: 'empty X-Twilio-Signature', send: () => postForm(queue(), queueFields(), { 'x-twilio-signature': '' }) },
      { name: 'Token that is not a string', send: () => postJson(queue(), { ...queueFields(), Token: { token: 'eyJx' } }) },
      {
        name: 'Token field sent twice',
        send: () =>
          rawPost(
            queue(),
            [['content-type', form]],
            new URLSearchParams([...Object.entries(queueFields()), ['Token', unknownToken()], ['Token', unknownToken()]]).toString(),
          ),
      },
      {
        name: 'token with non-ASCII characters (validator not called)',
        send: () => postJson(queue(), { ...queueFields(), Token: 'eyJabc\u00e9def.ghi' }),
      },
      {
        name: 'unknown token: IAM answers 200 {valid:false}',
        send: () => postJson(queue(), { ...queueFields(), Token: unknownToken() }),
        validations: 1,
      },
      {
        name: 'expired token: IAM answers 200 {valid:false, "Expired token"}',
        send: () => {
          harness.standin.invalidTokenAnswer = { status: 200, body: { valid: false, code: 20151, message: 'Expired token' } };
          return postJson(queue(), queueFields(), { authorization: `Bearer ${unknownToken()}` });
        },
        validations: 1,
      },
      {
        name: 'unknown token: IAM answers 403 with a verdict',
        send: () => {
          harness.standin.invalidTokenAnswer = { status: 403, body: { valid: false, code: 20403, message: 'Forbidden', status: 403 } };
          return postJson(queue(), { ...queueFields(), Token: unknownToken() });
        },
        validations: 1,
      },
      {
        name: 'unknown token: IAM answers 401 with a verdict',
        send: () => {
          harness.standin.invalidTokenAnswer = { status: 401, body: { valid: false, code: 20003, message: 'Authenticate', status: 401 } };
          return postJson(queue(), { ...queueFields(), Token: unknownToken() });
        },
        validations: 1,
      },
      {
        name: 'signed field tampered after signing',
        send: () => {
          const fields = queueFields();
          const signature = sign(localUrl('http', '/transfer-to-queue'), fields);
          return postForm(queue(), { ...fields, queueSid: newSid('WQ') }, { 'x-twilio-signature': signature });
        },
      },
      {
        name: 'unsigned field added after signing',
        send: () => {
          const fields = queueFields();
          const signature = sign(localUrl('http', '/transfer-to-queue'), fields);
          return postForm(queue(), { ...fields, transferType: 'cold', participantSid: newSid('UT') }, { 'x-twilio-signature': signature });
        },
      },
      {
        name: 'signature for the other function',
        send: () => {
          const fields = queueFields();
          return postForm(queue(), fields, { 'x-twilio-signature': sign(localUrl('https', '/transfer-to-agent'), fields) });
        },
      },
      {
        name: 'signature for another host',
        send: () => {
          const fields = queueFields();
          return postForm(queue(), fields, { 'x-twilio-signature': sign('https://example-1234.twil.io/transfer-to-queue', fields) });
        },
      },
      {
        name: 'signature made with another auth token',
        send: () => {
          const fields = queueFields();
          return postForm(queue(), fields, {
            'x-twilio-signature': sign(localUrl('http', '/transfer-to-queue'), fields, OTHER_AUTH_TOKEN),
          });
        },
      },
      {
        name: 'signed JSON body (valid form signature over the same fields)',
        send: () => {
          const fields = queueFields();
          return postJson(queue(), fields, { 'x-twilio-signature': sign(localUrl('http', '/transfer-to-queue'), fields) });
        },
      },
      {
        name: 'X-Twilio-Signature header sent twice (both valid)',
        send: () => {
          const fields = queueFields();
          const signature = sign(localUrl('http', '/transfer-to-queue'), fields);
          return rawPost(
            queue(),
            [
              ['content-type', form],
              ['x-twilio-signature', signature],
              ['x-twilio-signature', signature],
            ],
            new URLSearchParams(fields).toString(),
          );
        },
      },
      {
        name: 'Authorization header sent twice (both a valid Bearer token)',
        send: () => {
          const { token } = issueToken(harness.standin);
          return rawPost(
            queue(),
            [
              ['content-type', 'application/json'],
              ['authorization', `Bearer ${token}`],
              ['authorization', `Bearer ${token}`],
            ],
            JSON.stringify(queueFields()),
          );
        },
      },
      {
        name: 'HTTP Basic while it is disabled',
        send: () => postJson(queue(), queueFields(), { authorization: basic(BASIC_USER, BASIC_PASSWORD) }),
      },
      // A `request` field replaces the runtime's own object (which holds the headers). One not shaped like the runtime's
      // (headers AND cookies objects) is ignored whole, so even valid credentials inside it count for nothing. A forgery
      // of the full shape cannot be told apart by any function (README, "What is never accepted"): it still has to pass
      // the same checks as real headers, as the last case shows.
      {
        name: 'JSON `request` field (no cookies) carrying a valid Bearer token as a header',
        send: () => {
          const { token } = issueToken(harness.standin);
          return postJson(queue(), {
            ...queueFields(),
            request: { headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
          });
        },
      },
      {
        name: 'query-string `request[headers][authorization]` (no cookies) carrying a valid Bearer token',
        send: () => {
          // Not added to `secrets`: twilio-run's own access log prints the query string, which the function cannot prevent.
          const { token } = agentToken(harness.standin);
          const query = new URLSearchParams({
            'request[headers][authorization]': `Bearer ${token}`,
            'request[headers][content-type]': form,
          });
          return postForm(`${queue()}?${query.toString()}`, queueFields());
        },
      },
      {
        name: 'JSON `request` field of the full runtime shape carrying a signature made with another auth token',
        send: () => {
          const fields = queueFields();
          const signature = sign(localUrl('http', '/transfer-to-queue'), fields, '0'.repeat(32));
          return postJson(queue(), {
            ...fields,
            request: { headers: { 'x-twilio-signature': signature, 'content-type': form }, cookies: {} },
          });
        },
      },
      {
        name: 'form `request` fields carrying a valid Bearer token',
        send: () => {
          const { token } = issueToken(harness.standin);
          return postForm(queue(), { ...queueFields(), request: `Bearer ${token}`, 'request[headers][authorization]': `Bearer ${token}` });
        },
      },
    ];

    test.each(cases)('$name -> 401', async ({ send, validations }) => {
      const answer = await send();
      expectRefused(harness, answer, 401, 'unauthenticated');
      expect(answer.headers.get('access-control-allow-origin')).toBeNull(); // no Origin sent
      if (validations !== undefined) expect(harness.standin.requestsTo('token-validate')).toHaveLength(validations);
      if (validations === undefined) expect(harness.standin.requestsTo('token-validate')).toHaveLength(0);
    });
  });

  describe('token validator unreachable or slow', () => {
    test.each([
      { name: 'never answers', fault: { hang: true as const } },
      { name: 'answers 500', fault: { status: 500 } },
      { name: 'resets the connection', fault: { reset: true as const } },
    ])('validator $name -> 503 well inside 9 s, never 401/403', async ({ fault }) => {
      const { token } = issueToken(harness.standin);
      harness.standin.script('token-validate', fault);
      const answer = await postJson(harness.url('/transfer-to-queue'), { ...queueFields(), Token: token });
      expectRefused(harness, answer, 503, 'upstream_unavailable');
      expect(answer.elapsedMs).toBeLessThan(9000);
    });
  });

  describe('CORS', () => {
    test.each([
      { origin: FLEX_ORIGIN, allowed: FLEX_ORIGIN },
      { origin: 'https://evil.example.com', allowed: null },
      { origin: 'https://flex.twilio.com.evil.example.com', allowed: null },
    ])('Origin $origin on a refused request -> Access-Control-Allow-Origin $allowed', async ({ origin, allowed }) => {
      const answer = await postJson(harness.url('/transfer-to-agent'), agentFields(), { origin });
      expectRefused(harness, answer, 401, 'unauthenticated');
      expect(answer.headers.get('access-control-allow-origin')).toBe(allowed);
    });
  });

  test('no token or auth token in the server output', () => {
    expectNoSecretsInOutput(harness);
  });
});

describe('HTTP Basic enabled, custom roles and origins', () => {
  const ADMIN_ORIGIN = 'https://admin.example.com';
  const harness = useFunctions({
    settings: {
      TRANSFER_BASIC_AUTH_USER: BASIC_USER,
      TRANSFER_BASIC_AUTH_PASSWORD: BASIC_PASSWORD,
      TRANSFER_ALLOWED_ROLES: 'supervisor',
      TRANSFER_ALLOWED_ORIGINS: `${ADMIN_ORIGIN}, https://flex.example.org`,
    },
  });

  test('correct Basic credentials: accepted, no token validation, no worker identity', async () => {
    const fields = agentFields();
    const answer = await postJson(harness.url('/transfer-to-agent'), fields, {
      authorization: basic(BASIC_USER, BASIC_PASSWORD),
      origin: ADMIN_ORIGIN,
    });
    const properties = expectTransferred(harness, answer);
    expect(properties.worker_sid).toBe(fields.workerSid);
    expect(properties.attributes).not.toHaveProperty('transferredByWorkerSid');
    expect(harness.standin.requestsTo('token-validate')).toHaveLength(0);
    expect(answer.headers.get('access-control-allow-origin')).toBe(ADMIN_ORIGIN);
  });

  test.each([
    { name: 'wrong password', authorization: basic(BASIC_USER, 'wrong') },
    { name: 'password missing its last character', authorization: basic(BASIC_USER, BASIC_PASSWORD.slice(0, -1)) },
    { name: 'wrong user', authorization: basic('admin', BASIC_PASSWORD) },
    { name: 'empty user and password', authorization: basic('', '') },
    { name: 'no credentials after the scheme', authorization: 'Basic' },
  ])('Basic with $name -> 401', async ({ authorization }) => {
    const answer = await postJson(harness.url('/transfer-to-queue'), queueFields(), { authorization });
    expectRefused(harness, answer, 401, 'unauthenticated');
  });

  test('JSON `request` field (no cookies) carrying the correct Basic credentials -> 401', async () => {
    const answer = await postJson(harness.url('/transfer-to-queue'), {
      ...queueFields(),
      request: { headers: { authorization: basic(BASIC_USER, BASIC_PASSWORD), 'content-type': 'application/json' } },
    });
    expectRefused(harness, answer, 401, 'unauthenticated');
  });

  test.each([
    { roles: ['agent'], status: 403 },
    { roles: ['admin'], status: 403 },
    { roles: ['supervisor'], status: 201 },
  ])('TRANSFER_ALLOWED_ROLES=supervisor: Flex token with roles $roles -> $status', async ({ roles, status }) => {
    const { token } = issueToken(harness.standin, roles);
    const answer = await postJson(harness.url('/transfer-to-queue'), { ...queueFields(), Token: token });
    if (status === 201) expectTransferred(harness, answer);
    else expectRefused(harness, answer, 403, 'forbidden');
  });

  test.each([
    { origin: 'https://flex.example.org', allowed: 'https://flex.example.org' },
    { origin: FLEX_ORIGIN, allowed: null },
  ])('TRANSFER_ALLOWED_ORIGINS replaces the default: Origin $origin -> $allowed', async ({ origin, allowed }) => {
    const answer = await postJson(harness.url('/transfer-to-queue'), queueFields(), { origin });
    expectRefused(harness, answer, 401, 'unauthenticated');
    expect(answer.headers.get('access-control-allow-origin')).toBe(allowed);
  });

  test('no Basic password, token or auth token in the server output', () => {
    expectNoSecretsInOutput(harness);
  });
});
