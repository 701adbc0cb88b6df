/**
 * The memory of Flex token validations, seen from outside: one function
 * instance (one verifier, as a deployed instance between requests) and the
 * number of validation calls that reach Twilio. The instance's clock is one
 * the test moves, so expiry is tested without waiting; the token's own
 * expiration comes from the validator's answer, as in production.
 */
import { newSid, type TwilioStandin } from '../../dev/twilio-standin';
import { transferSids } from '../support/harness';
import { type CallResult, type InProcessFunctions, inProcessFunctions } from '../support/in-process';
import { TEST_AUTH_TOKEN } from '../support/functions-server';

const issued = new Set<string>([TEST_AUTH_TOKEN]);

function jweShaped(): string {
  const segment = () => Buffer.from(newSid('')).toString('base64url');
  return ['eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0', segment(), segment(), segment(), segment()].join('.');
}

/** A fresh Flex-token-shaped token, granted at the stand-in (`grant` false: Twilio does not know it). Supervisors are not restricted to their own channels. */
function newToken(standin: TwilioStandin, options: { expiresAtMs?: number; grant?: boolean } = {}): { token: string; workerSid: string } {
  const workerSid = newSid('WK');
  const token = jweShaped();
  issued.add(token);
  if (options.grant !== false) grant(standin, token, workerSid, options.expiresAtMs);
  return { token, workerSid };
}

function grant(standin: TwilioStandin, token: string, workerSid: string, expiresAtMs?: number): void {
  standin.grantToken(token, {
    worker_sid: workerSid,
    roles: ['supervisor'],
    expiration: expiresAtMs === undefined ? undefined : new Date(expiresAtMs).toISOString(),
  });
}

/** One queue transfer with the token, alternating the Token field (JSON) and the Bearer header (form). */
function transfer(functions: InProcessFunctions, token: string, asBearer = false): Promise<CallResult> {
  const { interactionSid, channelSid, queueSid } = transferSids(functions.standin);
  const fields = { interactionSid, channelSid, queueSid };
  return asBearer
    ? functions.call('transfer-to-queue', { form: fields, headers: { authorization: `Bearer ${token}` } })
    : functions.call('transfer-to-queue', { json: { ...fields, Token: token } });
}

const validations = (functions: InProcessFunctions) => functions.standin.requestsTo('token-validate').length;

function expectStatus(answer: CallResult, status: number, code?: string): void {
  expect({ status: answer.status, code: answer.body?.error?.code }).toEqual({ status, code });
  const text = JSON.stringify(answer.body) + JSON.stringify(answer.headers);
  for (const token of issued) expect(text).not.toContain(token);
}

/** The function instance's clock, moved by the test; starts at the real time so token expirations line up. */
function movableClock(functions: InProcessFunctions): { advance: (ms: number) => void; nowMs: () => number } {
  let nowMs = Date.now();
  beforeEach(() => {
    nowMs = Date.now();
    functions.newInstance({ now: () => nowMs });
  });
  return {
    advance: (ms) => {
      nowMs += ms;
    },
    nowMs: () => nowMs,
  };
}

function expectNoTokensLogged(functions: InProcessFunctions): void {
  const logged = JSON.stringify(functions.logs);
  expect(functions.logs.length).toBeGreaterThan(0);
  for (const token of issued) expect(logged).not.toContain(token);
}

describe('one instance, default cache (60 s)', () => {
  const functions = inProcessFunctions();
  const clock = movableClock(functions);

  test('N transfers with the same token: ONE validation call, every invite attributed to its worker', async () => {
    const { token, workerSid } = newToken(functions.standin);
    const N = 6;
    for (let index = 0; index < N; index += 1) {
      expectStatus(await transfer(functions, token, index % 2 === 1), 201);
      clock.advance(5_000);
    }
    expect(validations(functions)).toBe(1);
    const invites = functions.standin.requestsTo('invite-create');
    expect(invites).toHaveLength(N);
    for (const invite of invites) expect(invite.routing?.properties.attributes).toMatchObject({ transferredByWorkerSid: workerSid });
    expectNoTokensLogged(functions);
  });

  test('the default cache ends after 60 s even for a token that lives an hour', async () => {
    const { token } = newToken(functions.standin, { expiresAtMs: clock.nowMs() + 3_600_000 });
    expectStatus(await transfer(functions, token), 201);
    clock.advance(59_000);
    expectStatus(await transfer(functions, token, true), 201);
    expect(validations(functions)).toBe(1);
    clock.advance(2_000);
    expectStatus(await transfer(functions, token), 201);
    expect(validations(functions)).toBe(2);
  });

  test('a cached token vouches for nothing else: other tokens are validated, a near-identical unknown one is refused', async () => {
    const first = newToken(functions.standin);
    const second = newToken(functions.standin);
    expectStatus(await transfer(functions, first.token), 201);
    expectStatus(await transfer(functions, second.token), 201);
    expect(validations(functions)).toBe(2);

    const lastCharacterChanged = first.token.slice(0, -1) + (first.token.endsWith('A') ? 'B' : 'A');
    expectStatus(await transfer(functions, lastCharacterChanged), 401, 'unauthenticated');
    expectStatus(await transfer(functions, first.token + 'x'), 401, 'unauthenticated');
    expect(validations(functions)).toBe(4);
    expect(functions.standin.requestsTo('invite-create').map((invite) => invite.routing?.properties.attributes)).toEqual([
      expect.objectContaining({ transferredByWorkerSid: first.workerSid }),
      expect.objectContaining({ transferredByWorkerSid: second.workerSid }),
    ]);
  });

  test('a rejection is remembered for a few seconds only: then the token is asked about again, and cached once accepted', async () => {
    const { token, workerSid } = newToken(functions.standin, { grant: false });
    expectStatus(await transfer(functions, token), 401, 'unauthenticated');
    expectStatus(await transfer(functions, token, true), 401, 'unauthenticated');
    expect(validations(functions)).toBe(1);

    grant(functions.standin, token, workerSid); // e.g. a token Twilio had not yet seen propagate
    clock.advance(4_000);
    expectStatus(await transfer(functions, token), 401, 'unauthenticated');
    expect(validations(functions)).toBe(1);

    clock.advance(1_500); // past the 5 s memory
    expectStatus(await transfer(functions, token), 201);
    expectStatus(await transfer(functions, token, true), 201);
    expect(validations(functions)).toBe(2);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(2);
  });

  test('validator failures are never remembered: 503, then the next transfer validates again', async () => {
    const { token } = newToken(functions.standin);
    functions.standin.script('token-validate', { status: 500 });
    expectStatus(await transfer(functions, token), 503, 'upstream_unavailable');
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
    expectStatus(await transfer(functions, token), 201);
    expectStatus(await transfer(functions, token), 201);
    expect(validations(functions)).toBe(2);
  });

  test("the token's own expiration in the near future ends its cache entry", async () => {
    const expiresAtMs = clock.nowMs() + 1_500;
    const { token, workerSid } = newToken(functions.standin, { expiresAtMs });
    expectStatus(await transfer(functions, token), 201);
    clock.advance(1_000);
    expectStatus(await transfer(functions, token, true), 201);
    expect(validations(functions)).toBe(1);

    clock.advance(800); // past the expiration, well inside the 60 s cache
    // The agent's Flex UI has refreshed the token meanwhile: Twilio now reports a later expiration.
    grant(functions.standin, token, workerSid, clock.nowMs() + 3_600_000);
    expectStatus(await transfer(functions, token), 201);
    expect(validations(functions)).toBe(2);
    expectStatus(await transfer(functions, token), 201);
    expect(validations(functions)).toBe(2);
  });

  test('a token whose expiration is already past is never cached', async () => {
    const { token } = newToken(functions.standin, { expiresAtMs: clock.nowMs() - 1_000 });
    const answers = [await transfer(functions, token), await transfer(functions, token, true), await transfer(functions, token)];
    expect(validations(functions)).toBe(3);
    // Twilio is the authority on validity (the stand-in still says valid); the cache only must not outlive the expiration.
    for (const answer of answers) expectStatus(answer, 201);
  });

  test('a new instance knows nothing: the first transfer there validates again', async () => {
    const { token } = newToken(functions.standin);
    expectStatus(await transfer(functions, token), 201);
    functions.newInstance({ now: clock.nowMs });
    expectStatus(await transfer(functions, token), 201);
    expect(validations(functions)).toBe(2);
  });
});

describe('one instance, TRANSFER_TOKEN_CACHE_SECONDS=1', () => {
  const functions = inProcessFunctions({ settings: { TRANSFER_TOKEN_CACHE_SECONDS: '1' } });
  const clock = movableClock(functions);

  test('the setting bounds the cache even when the token lives for an hour', async () => {
    const { token } = newToken(functions.standin, { expiresAtMs: clock.nowMs() + 3_600_000 });
    expectStatus(await transfer(functions, token), 201);
    clock.advance(900);
    expectStatus(await transfer(functions, token, true), 201);
    expect(validations(functions)).toBe(1);

    clock.advance(200);
    expectStatus(await transfer(functions, token), 201);
    expect(validations(functions)).toBe(2);
    expectNoTokensLogged(functions);
  });
});

describe('one instance, TRANSFER_TOKEN_CACHE_SECONDS=0', () => {
  const functions = inProcessFunctions({ settings: { TRANSFER_TOKEN_CACHE_SECONDS: '0' } });
  movableClock(functions);

  test('caching disabled: every transfer validates the token', async () => {
    const { token } = newToken(functions.standin);
    const N = 4;
    for (let index = 0; index < N; index += 1) expectStatus(await transfer(functions, token, index % 2 === 1), 201);
    expect(validations(functions)).toBe(N);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(N);
    expectNoTokensLogged(functions);
  });
});
