/**
 * The cache of successful Flex token validations, seen from outside: one warm
 * function process (`forkPerRequest: false`, as a deployed instance between
 * requests) and the number of validation calls that reach IAM.
 */
import { type Harness, type HttpResult, postForm, postJson, transferSids, useFunctions } from '../support/harness';
import { newSid, type TwilioStandin } from '../support/twilio-standin';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const issued = new Set<string>();

/** A fresh token granted at the stand-in (`grant` false: IAM does not know it). */
function newToken(standin: TwilioStandin, options: { expiration?: string; grant?: boolean } = {}): { token: string; workerSid: string } {
  const workerSid = newSid('WK');
  const token = `eyJ${newSid('c').slice(1)}.cache.${Math.random().toString(36).slice(2)}`;
  issued.add(token);
  if (options.grant !== false) standin.grantToken(token, { worker_sid: workerSid, roles: ['agent'], expiration: options.expiration });
  return { token, workerSid };
}

/** One queue transfer with the token, alternating the Token field (JSON) and the Bearer header (form). */
function transfer(harness: Harness, token: string, asBearer = false): Promise<HttpResult> {
  const sids = transferSids();
  const fields = { interactionSid: sids.interactionSid, channelSid: sids.channelSid, queueSid: sids.queueSid };
  return asBearer
    ? postForm(harness.url('/transfer-to-queue'), fields, { authorization: `Bearer ${token}` })
    : postJson(harness.url('/transfer-to-queue'), { ...fields, Token: token });
}

const validations = (harness: Harness) => harness.standin.requestsTo('token-validate').length;

function expectStatus(answer: HttpResult, status: number, code?: string): void {
  expect({ status: answer.status, code: answer.json?.error?.code }).toEqual({ status, code });
}

describe('warm instance, default cache (60 s)', () => {
  const harness = useFunctions({ forkPerRequest: false });

  test('N transfers with the same token: ONE validation call, every invite attributed to its worker', async () => {
    const { token, workerSid } = newToken(harness.standin);
    const N = 6;
    for (let index = 0; index < N; index += 1) {
      expectStatus(await transfer(harness, token, index % 2 === 1), 201);
    }
    expect(validations(harness)).toBe(1);
    const invites = harness.standin.requestsTo('invite');
    expect(invites).toHaveLength(N);
    for (const invite of invites) expect(invite.routing?.properties.attributes).toMatchObject({ transferredByWorkerSid: workerSid });
  });

  test('a cached token vouches for nothing else: other tokens are validated, a near-identical unknown one is refused', async () => {
    const first = newToken(harness.standin);
    const second = newToken(harness.standin);
    expectStatus(await transfer(harness, first.token), 201);
    expectStatus(await transfer(harness, second.token), 201);
    expect(validations(harness)).toBe(2);

    expectStatus(await transfer(harness, first.token.slice(0, -1) + (first.token.endsWith('a') ? 'b' : 'a')), 401, 'unauthenticated');
    expectStatus(await transfer(harness, first.token + 'x'), 401, 'unauthenticated');
    expect(validations(harness)).toBe(4);
    expect(harness.standin.requestsTo('invite').map((invite) => invite.routing?.properties.attributes)).toEqual([
      expect.objectContaining({ transferredByWorkerSid: first.workerSid }),
      expect.objectContaining({ transferredByWorkerSid: second.workerSid }),
    ]);
  });

  test('rejections are never cached: an unknown token is asked about every time, then cached once IAM accepts it', async () => {
    const { token, workerSid } = newToken(harness.standin, { grant: false });
    expectStatus(await transfer(harness, token), 401, 'unauthenticated');
    expectStatus(await transfer(harness, token, true), 401, 'unauthenticated');
    expect(validations(harness)).toBe(2);

    harness.standin.grantToken(token, { worker_sid: workerSid, roles: ['agent'] });
    expectStatus(await transfer(harness, token), 201);
    expectStatus(await transfer(harness, token, true), 201);
    expect(validations(harness)).toBe(3);
    expect(harness.standin.requestsTo('invite')).toHaveLength(2);
  });

  test('validator failures are never cached: 503, then the next transfer validates again', async () => {
    const { token } = newToken(harness.standin);
    harness.standin.script('token-validate', { status: 500 });
    expectStatus(await transfer(harness, token), 503, 'upstream_unavailable');
    expect(harness.standin.requestsTo('invite')).toHaveLength(0);
    expectStatus(await transfer(harness, token), 201);
    expectStatus(await transfer(harness, token), 201);
    expect(validations(harness)).toBe(2);
  });

  test("the token's own expiration in the near future ends its cache entry", async () => {
    const expiresAt = Date.now() + 1500;
    const { token, workerSid } = newToken(harness.standin, { expiration: new Date(expiresAt).toISOString() });
    expectStatus(await transfer(harness, token), 201);
    expectStatus(await transfer(harness, token, true), 201);
    expect(validations(harness)).toBe(1);

    await sleep(Math.max(0, expiresAt - Date.now()) + 300);
    // The agent's Flex UI has refreshed the token meanwhile: IAM now reports a later expiration.
    harness.standin.grantToken(token, {
      worker_sid: workerSid,
      roles: ['agent'],
      expiration: new Date(Date.now() + 3600_000).toISOString(),
    });
    expectStatus(await transfer(harness, token), 201);
    expect(validations(harness)).toBe(2);
    expectStatus(await transfer(harness, token), 201);
    expect(validations(harness)).toBe(2);
  });

  test('a token whose expiration is already past is never cached', async () => {
    const { token } = newToken(harness.standin, { expiration: new Date(Date.now() - 1000).toISOString() });
    const answers = [await transfer(harness, token), await transfer(harness, token, true), await transfer(harness, token)];
    expect(validations(harness)).toBe(3);
    // IAM is the authority on validity; the cache only must not outlive the expiration.
    const statuses = answers.map((answer) => answer.status);
    expect(new Set(statuses).size).toBe(1);
    expect([201, 401]).toContain(statuses[0]);
  });

  test('no token or auth token in the server output', () => {
    const output = harness.server.output();
    expect(output).toContain('"status":');
    for (const token of issued) expect(output).not.toContain(token);
  });
});

describe('warm instance, TRANSFER_TOKEN_CACHE_SECONDS=1', () => {
  const harness = useFunctions({ forkPerRequest: false, settings: { TRANSFER_TOKEN_CACHE_SECONDS: '1' } });

  test('the setting bounds the cache even when the token lives for an hour', async () => {
    const { token } = newToken(harness.standin, { expiration: new Date(Date.now() + 3600_000).toISOString() });
    const startedAt = Date.now();
    expectStatus(await transfer(harness, token), 201);
    expectStatus(await transfer(harness, token, true), 201);
    expect(validations(harness)).toBe(1);

    await sleep(Math.max(0, startedAt + 1300 - Date.now()));
    expectStatus(await transfer(harness, token), 201);
    expect(validations(harness)).toBe(2);
  });
});

describe('warm instance, TRANSFER_TOKEN_CACHE_SECONDS=0', () => {
  const harness = useFunctions({ forkPerRequest: false, settings: { TRANSFER_TOKEN_CACHE_SECONDS: '0' } });

  test('caching disabled: every transfer validates the token', async () => {
    const { token } = newToken(harness.standin);
    const N = 4;
    for (let index = 0; index < N; index += 1) expectStatus(await transfer(harness, token, index % 2 === 1), 201);
    expect(validations(harness)).toBe(N);
    expect(harness.standin.requestsTo('invite')).toHaveLength(N);
  });
});
