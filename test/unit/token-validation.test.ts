/**
 * The verdict rules of src/twilio/tokens.ts: what Twilio's token validation
 * answer means for the caller. The real transport and helper library run; only
 * the socket is replaced by the Twilio stand-in (dev/standin-sender.ts).
 */
import { standinSender } from '../../dev/standin-sender';
import { type Fault, TwilioStandin } from '../../dev/twilio-standin';
import { Deadline, REQUEST_BUDGET_MS } from '../../src/core/deadline';
import { asFailure, TwilioApiError, UnauthenticatedError, UpstreamMalformedAnswerError, UpstreamUnavailableError } from '../../src/errors';
import { failureToHttp } from '../../src/http/errors';
import { TOKEN_VALIDATION_MAX_MS, validateToken } from '../../src/twilio/tokens';
import { TwilioTransport } from '../../src/twilio/transport';
import { ACCOUNT_SID, AUTH_TOKEN, sid } from '../support/fixtures';

const TOKEN = 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aXYtc2VnbWVudA.Y2lwaGVydGV4dA.dGFn';
const WORKER = sid('WK', 0x77);

const standin = new TwilioStandin(ACCOUNT_SID, AUTH_TOKEN);
beforeEach(() => standin.reset());

function transport(options: { authToken?: string; deadline?: Deadline } = {}): TwilioTransport {
  return new TwilioTransport({
    accountSid: ACCOUNT_SID,
    authToken: options.authToken ?? AUTH_TOKEN,
    deadline: options.deadline ?? Deadline.after(REQUEST_BUDGET_MS),
    sender: standinSender(standin),
    random: () => 0,
  });
}

/** What validating TOKEN threw, or a failure of the test if it was accepted. */
async function refusal(via: TwilioTransport = transport()): Promise<unknown> {
  try {
    await validateToken(via, { accountSid: ACCOUNT_SID, token: TOKEN });
  } catch (thrown) {
    return thrown;
  }
  throw new Error('expected the token to be refused, but it was accepted');
}

function answerTo(thrown: unknown): { status: number; code: string } {
  const answer = failureToHttp(asFailure(thrown));
  return { status: answer.status, code: answer.body.error.code };
}

function scriptValidation(...faults: Fault[]): void {
  standin.script('token-validate', ...faults);
}

describe('validateToken: a verdict', () => {
  test('a valid token gives its worker, roles and expiry, from one call with the account’s credentials', async () => {
    standin.grantToken(TOKEN, { worker_sid: WORKER, roles: ['agent', 'supervisor'], expiration: '2030-01-02T03:04:05Z' });
    const identity = await validateToken(transport(), { accountSid: ACCOUNT_SID, token: TOKEN });
    expect(identity).toEqual({ workerSid: WORKER, roles: ['agent', 'supervisor'], expiresAtMs: Date.parse('2030-01-02T03:04:05Z') });
    const [seen, ...more] = standin.requestsTo('token-validate');
    expect(more).toHaveLength(0);
    expect(seen?.host).toBe('iam.twilio.com');
    expect(seen?.path).toBe(`/v1/Accounts/${ACCOUNT_SID}/Tokens/validate`);
    expect(seen?.json).toEqual({ token: TOKEN });
    expect(seen?.headers.authorization).toBe('Basic ' + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64'));
  });

  test('odd identity fields are read leniently: roles that are not strings dropped, an empty worker or a bad date absent', async () => {
    scriptValidation({ status: 200, body: { valid: true, roles: ['agent', 5, null], worker_sid: '', expiration: 'tomorrow' } });
    const identity = await validateToken(transport(), { accountSid: ACCOUNT_SID, token: TOKEN });
    expect(identity).toEqual({ workerSid: undefined, roles: ['agent'], expiresAtMs: undefined });
  });

  test.each<[string, Fault]>([
    ['200 {valid: false}', { status: 200, body: { valid: false, code: 20151, message: 'Expired token' } }],
    ['403 {valid: false}', { status: 403, body: { valid: false, message: 'not valid' } }],
    ['401 {valid: false}', { status: 401, body: { valid: false, message: 'not valid' } }],
  ])('%s -> UnauthenticatedError (401), asked once', async (_label, fault) => {
    scriptValidation(fault);
    const thrown = await refusal();
    expect(thrown).toBeInstanceOf(UnauthenticatedError);
    expect(answerTo(thrown)).toEqual({ status: 401, code: 'unauthenticated' });
    expect(standin.requestsTo('token-validate')).toHaveLength(1);
  });

  test('an unknown token (the stand-in’s own verdict) -> UnauthenticatedError', async () => {
    expect(await refusal()).toBeInstanceOf(UnauthenticatedError);
  });
});

describe('validateToken: no verdict', () => {
  test('Twilio refusing the function’s own credentials -> TwilioApiError, answered 502', async () => {
    const thrown = await refusal(transport({ authToken: 'ffffffffffffffffffffffffffffffff' }));
    expect(thrown).toBeInstanceOf(TwilioApiError);
    expect(thrown).toMatchObject({ operation: 'token-validate', status: 401, twilioCode: 20003 });
    expect(answerTo(thrown)).toEqual({ status: 502, code: 'upstream_error' });
    expect(standin.requestsTo('token-validate')).toHaveLength(1);
  });

  test.each([401, 403])('%i with Twilio’s error body -> TwilioApiError, answered 502', async (status) => {
    scriptValidation({ status });
    const thrown = await refusal();
    expect(thrown).toBeInstanceOf(TwilioApiError);
    expect(thrown).toMatchObject({ status });
    expect(answerTo(thrown)).toEqual({ status: 502, code: 'upstream_error' });
  });

  test.each<[string, Fault]>([
    ['404', { status: 404 }],
    ['400', { status: 400 }],
    ['200 {}', { status: 200, body: {} }],
    ['200 null', { status: 200, body: null }],
    ['200 {valid: "yes"}', { status: 200, body: { valid: 'yes' } }],
    ['200 with a body that is not JSON', { status: 200, body: '<html>proxy error</html>' }],
    ['302 {valid: true} (not a success)', { status: 302, body: { valid: true } }],
  ])('%s -> UpstreamMalformedAnswerError, answered 502 (never 404 or 422)', async (_label, fault) => {
    scriptValidation(fault);
    const thrown = await refusal();
    expect(thrown).toBeInstanceOf(UpstreamMalformedAnswerError);
    expect(answerTo(thrown)).toEqual({ status: 502, code: 'upstream_error' });
    expect(standin.requestsTo('token-validate')).toHaveLength(1);
  });
});

describe('validateToken: the token could not be judged', () => {
  test.each([429, 503])('%i on every attempt -> UpstreamUnavailableError (503), after retrying', async (status) => {
    scriptValidation({ status }, { status }, { status }, { status });
    const thrown = await refusal();
    expect(thrown).toBeInstanceOf(UpstreamUnavailableError);
    expect(answerTo(thrown)).toEqual({ status: 503, code: 'upstream_unavailable' });
    expect(standin.requestsTo('token-validate').length).toBeGreaterThan(1);
  });

  test.each([500, 502, 504])('%i -> UpstreamUnavailableError (503), not retried', async (status) => {
    scriptValidation({ status, body: '<html>oops</html>' });
    const thrown = await refusal();
    expect(thrown).toBeInstanceOf(UpstreamUnavailableError);
    expect(answerTo(thrown)).toEqual({ status: 503, code: 'upstream_unavailable' });
    expect(standin.requestsTo('token-validate')).toHaveLength(1);
  });

  test('a 429 with Retry-After: the delay is passed on to the caller', async () => {
    const throttled: Fault = { status: 429, headers: { 'Retry-After': '1' } };
    scriptValidation(throttled, throttled, throttled, throttled);
    const thrown = await refusal();
    expect(thrown).toBeInstanceOf(UpstreamUnavailableError);
    expect(failureToHttp(asFailure(thrown)).headers['Retry-After']).toBe('1');
  });

  test('a single 429 is retried into a verdict', async () => {
    standin.grantToken(TOKEN, { worker_sid: WORKER });
    scriptValidation({ status: 429 });
    await expect(validateToken(transport(), { accountSid: ACCOUNT_SID, token: TOKEN })).resolves.toMatchObject({ workerSid: WORKER });
    expect(standin.requestsTo('token-validate')).toHaveLength(2);
  });

  test('a broken connection is retried (validation changes nothing)', async () => {
    standin.grantToken(TOKEN, { worker_sid: WORKER });
    scriptValidation({ reset: true });
    await expect(validateToken(transport(), { accountSid: ACCOUNT_SID, token: TOKEN })).resolves.toMatchObject({ workerSid: WORKER });
    expect(standin.requestsTo('token-validate')).toHaveLength(2);
  });

  test.each<[string, Fault]>([
    ['refused', { refuse: true }],
    ['reset', { reset: true }],
  ])('a connection %s on every attempt -> UpstreamUnavailableError (503)', async (_label, fault) => {
    scriptValidation(fault, fault, fault, fault);
    const thrown = await refusal();
    expect(thrown).toBeInstanceOf(UpstreamUnavailableError);
    expect(answerTo(thrown)).toEqual({ status: 503, code: 'upstream_unavailable' });
  });

  test(`no answer within ${TOKEN_VALIDATION_MAX_MS} ms -> UpstreamUnavailableError (503), leaving the request time to answer`, async () => {
    scriptValidation({ hang: true });
    const deadline = Deadline.after(REQUEST_BUDGET_MS);
    const thrown = await refusal(transport({ deadline }));
    expect(thrown).toBeInstanceOf(UpstreamUnavailableError);
    expect(answerTo(thrown)).toEqual({ status: 503, code: 'upstream_unavailable' });
    // The cap, not the request's whole budget, ended the wait.
    expect(deadline.remainingMs()).toBeGreaterThan(REQUEST_BUDGET_MS - TOKEN_VALIDATION_MAX_MS - 1000);
    expect(standin.requestsTo('token-validate')).toHaveLength(1);
  });
});
