import { FlexTokenVerifier, REJECTION_MEMORY_MS, VALIDATIONS_PER_SECOND } from '../../src/core/flex-token';
import { asFailure, UnauthenticatedError, UpstreamUnavailableError } from '../../src/errors';
import { failureToHttp } from '../../src/http/errors';
import type { FlexTokenIdentity } from '../../src/twilio/tokens';
import { sid } from '../support/fixtures';

const START_MS = 1_700_000_000_000;
const HOUR_MS = 3_600_000;

/** A token of the Flex shape (compact JWE: five base64url segments, the encrypted key empty), distinct per `n`. */
function flexToken(n = 1): string {
  return `eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aXYt${n}.Y2lwaGVydGV4dC${n}.dGFn`;
}

/** A verifier on a clock the test moves, and a validation function that counts its calls (what Twilio would see). */
function setUp(options: { validationsPerSecond?: number } = {}) {
  const clock = { nowMs: START_MS };
  const verifier = new FlexTokenVerifier({ now: () => clock.nowMs, ...options });
  const validations: string[] = [];
  let answer: (token: string) => Promise<FlexTokenIdentity> = () =>
    Promise.resolve({ workerSid: sid('WK', 1), roles: ['agent'], expiresAtMs: clock.nowMs + HOUR_MS });
  const validate = (token: string) => {
    validations.push(token);
    return answer(token);
  };
  const verify = (token: string, cacheSeconds = 60) => verifier.verify(token, { cacheSeconds, validate });
  return {
    clock,
    validations,
    verify,
    answerWith(next: (token: string) => Promise<FlexTokenIdentity>) {
      answer = next;
    },
  };
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (thrown) {
    return thrown;
  }
  throw new Error('expected a refusal, but the token was accepted');
}

describe('FlexTokenVerifier: tokens that cannot be Flex tokens are refused locally', () => {
  test.each([
    ['a JWT (three segments)', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln'],
    ['six segments', `${flexToken()}.extra`],
    ['four segments', 'a.b.c.d'],
    ['an empty first segment', '.b.c.d.e'],
    ['an empty last segment', 'a.b.c.d.'],
    ['a space', `${flexToken()} `],
    ['a non-ASCII letter', flexToken().replace('dGFn', 'dGFé')],
    ['base64 padding', flexToken().replace('dGFn', 'dGFn==')],
    ['standard base64 characters', flexToken().replace('dGFn', 'dG+/')],
    ['over 16384 characters', flexToken().replace('dGFn', 'x'.repeat(16400))],
    ['an empty string', ''],
  ])('%s -> 401 without asking Twilio', async (_label, token) => {
    const { verify, validations } = setUp();
    const thrown = await failureOf(verify(token));
    expect(thrown).toBeInstanceOf(UnauthenticatedError);
    expect(failureToHttp(asFailure(thrown)).status).toBe(401);
    expect(validations).toEqual([]);
  });

  test('a token of the Flex shape is validated', async () => {
    const { verify, validations } = setUp();
    await expect(verify(flexToken())).resolves.toMatchObject({ workerSid: sid('WK', 1) });
    expect(validations).toEqual([flexToken()]);
  });

  test('a long token of the right shape is validated', async () => {
    const { verify, validations } = setUp();
    const token = flexToken().replace('dGFn', 'x'.repeat(16000));
    await verify(token);
    expect(validations).toHaveLength(1);
  });

  test('refusals by shape spend nothing of the rate bound', async () => {
    const { verify, validations } = setUp({ validationsPerSecond: 1 });
    for (let i = 0; i < 50; i += 1) await failureOf(verify(`not-a-token-${i}`));
    await verify(flexToken());
    expect(validations).toHaveLength(1);
  });
});

describe('FlexTokenVerifier: successes are remembered', () => {
  test('until the cache time has passed', async () => {
    const { verify, validations, clock } = setUp();
    await verify(flexToken(), 60);
    clock.nowMs += 59_999;
    await verify(flexToken(), 60);
    expect(validations).toHaveLength(1);
    clock.nowMs += 1;
    await verify(flexToken(), 60);
    expect(validations).toHaveLength(2);
  });

  test('never past the token’s expiry, even when the cache time is longer', async () => {
    const { verify, validations, clock, answerWith } = setUp();
    answerWith(() => Promise.resolve({ workerSid: undefined, roles: ['admin'], expiresAtMs: START_MS + 10_000 }));
    await verify(flexToken(), 3600);
    clock.nowMs = START_MS + 9_999;
    await verify(flexToken(), 3600);
    expect(validations).toHaveLength(1);
    clock.nowMs = START_MS + 10_000;
    await verify(flexToken(), 3600);
    expect(validations).toHaveLength(2);
  });

  test('a token whose expiry is unknown is not remembered', async () => {
    const { verify, validations, answerWith } = setUp();
    answerWith(() => Promise.resolve({ workerSid: undefined, roles: ['agent'], expiresAtMs: undefined }));
    await verify(flexToken());
    await verify(flexToken());
    expect(validations).toHaveLength(2);
  });

  test('a cache time of 0 turns the cache off', async () => {
    const { verify, validations } = setUp();
    await verify(flexToken(), 0);
    await verify(flexToken(), 0);
    expect(validations).toHaveLength(2);
  });

  test('each token is remembered on its own', async () => {
    const { verify, validations } = setUp();
    await verify(flexToken(1));
    await verify(flexToken(2));
    await verify(flexToken(1));
    expect(validations).toEqual([flexToken(1), flexToken(2)]);
  });

  test('a remembered token costs nothing of the rate bound', async () => {
    const { verify, validations } = setUp({ validationsPerSecond: 1 });
    await verify(flexToken(1));
    for (let i = 0; i < 30; i += 1) await verify(flexToken(1));
    expect(validations).toHaveLength(1);
  });
});

describe('FlexTokenVerifier: rejections are remembered briefly', () => {
  test(`a rejected token is refused without asking again for ${REJECTION_MEMORY_MS} ms, then asked again`, async () => {
    expect(REJECTION_MEMORY_MS).toBe(5000);
    const { verify, validations, clock, answerWith } = setUp();
    answerWith(() => Promise.reject(new UnauthenticatedError('the Flex token was rejected')));
    expect(await failureOf(verify(flexToken()))).toBeInstanceOf(UnauthenticatedError);
    clock.nowMs += 4_999;
    for (let i = 0; i < 20; i += 1) expect(await failureOf(verify(flexToken()))).toBeInstanceOf(UnauthenticatedError);
    expect(validations).toHaveLength(1);
    clock.nowMs += 1;
    expect(await failureOf(verify(flexToken()))).toBeInstanceOf(UnauthenticatedError);
    expect(validations).toHaveLength(2);
  });

  test('a token rejected moments ago and granted since is accepted once the memory has passed', async () => {
    const { verify, validations, clock, answerWith } = setUp();
    answerWith(() => Promise.reject(new UnauthenticatedError('rejected')));
    await failureOf(verify(flexToken()));
    answerWith(() => Promise.resolve({ workerSid: sid('WK', 2), roles: ['agent'], expiresAtMs: clock.nowMs + HOUR_MS }));
    clock.nowMs += REJECTION_MEMORY_MS;
    await expect(verify(flexToken())).resolves.toMatchObject({ workerSid: sid('WK', 2) });
    expect(validations).toHaveLength(2);
  });

  test('a failure to validate (Twilio unreachable) is not remembered as a rejection', async () => {
    const { verify, validations, answerWith, clock } = setUp();
    answerWith(() => Promise.reject(new UpstreamUnavailableError('token-validate')));
    expect(await failureOf(verify(flexToken()))).toBeInstanceOf(UpstreamUnavailableError);
    answerWith(() => Promise.resolve({ workerSid: sid('WK', 3), roles: ['agent'], expiresAtMs: clock.nowMs + HOUR_MS }));
    await expect(verify(flexToken())).resolves.toMatchObject({ workerSid: sid('WK', 3) });
    expect(validations).toHaveLength(2);
  });

  test('a rejection of one token says nothing about another', async () => {
    const { verify, validations, answerWith, clock } = setUp();
    answerWith((token) =>
      token === flexToken(1)
        ? Promise.reject(new UnauthenticatedError('rejected'))
        : Promise.resolve({ workerSid: sid('WK', 4), roles: ['agent'], expiresAtMs: clock.nowMs + HOUR_MS }),
    );
    await failureOf(verify(flexToken(1)));
    await expect(verify(flexToken(2))).resolves.toMatchObject({ workerSid: sid('WK', 4) });
    expect(validations).toEqual([flexToken(1), flexToken(2)]);
  });
});

describe('FlexTokenVerifier: concurrent first uses of one token share one validation', () => {
  /** A validation that stays pending until released, as a slow round trip to Twilio would. */
  function pendingAnswer<T>() {
    let release!: (outcome: { value?: T; error?: unknown }) => void;
    const promise = new Promise<T>((resolve, reject) => {
      release = ({ value, error }) => (error === undefined ? resolve(value as T) : reject(error));
    });
    return { promise, release };
  }

  test('40 concurrent verifies -> 1 validation, and all 40 get the identity', async () => {
    const { verify, validations, answerWith } = setUp();
    const slow = pendingAnswer<FlexTokenIdentity>();
    answerWith(() => slow.promise);
    const all = Promise.all(Array.from({ length: 40 }, () => verify(flexToken())));
    const identity = { workerSid: sid('WK', 5), roles: ['agent'], expiresAtMs: START_MS + HOUR_MS };
    slow.release({ value: identity });
    const results = await all;
    expect(validations).toHaveLength(1);
    expect(results).toHaveLength(40);
    for (const result of results) expect(result).toEqual(identity);
  });

  test('40 concurrent verifies of a rejected token -> 1 validation, 40 refusals', async () => {
    const { verify, validations, answerWith } = setUp();
    const slow = pendingAnswer<FlexTokenIdentity>();
    answerWith(() => slow.promise);
    const all = Promise.allSettled(Array.from({ length: 40 }, () => verify(flexToken())));
    slow.release({ error: new UnauthenticatedError('rejected') });
    const results = await all;
    expect(validations).toHaveLength(1);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(UnauthenticatedError);
    }
  });

  test('concurrent verifies with the cache off still share one validation', async () => {
    const { verify, validations, answerWith } = setUp();
    const slow = pendingAnswer<FlexTokenIdentity>();
    answerWith(() => slow.promise);
    const all = Promise.all(Array.from({ length: 10 }, () => verify(flexToken(), 0)));
    slow.release({ value: { workerSid: undefined, roles: ['agent'], expiresAtMs: undefined } });
    await all;
    expect(validations).toHaveLength(1);
  });

  test('once the shared validation has settled, a later use is judged afresh (when not cached)', async () => {
    const { verify, validations } = setUp();
    await Promise.all([verify(flexToken(), 0), verify(flexToken(), 0)]);
    await verify(flexToken(), 0);
    expect(validations).toHaveLength(2);
  });
});

describe('FlexTokenVerifier: validations per second are bounded', () => {
  test(`the ${VALIDATIONS_PER_SECOND + 1}st distinct token within a second -> 503 Retry-After 1, not validated`, async () => {
    expect(VALIDATIONS_PER_SECOND).toBe(20);
    const { verify, validations, clock } = setUp();
    for (let n = 1; n <= VALIDATIONS_PER_SECOND; n += 1) await verify(flexToken(n));
    clock.nowMs += 20; // still within the same second
    const thrown = await failureOf(verify(flexToken(VALIDATIONS_PER_SECOND + 1)));
    expect(thrown).toBeInstanceOf(UpstreamUnavailableError);
    expect(thrown).toMatchObject({ operation: 'token-validate', retryAfterSeconds: 1 });
    const answer = failureToHttp(asFailure(thrown));
    expect(answer.status).toBe(503);
    expect(answer.headers['Retry-After']).toBe('1');
    expect(validations).toHaveLength(VALIDATIONS_PER_SECOND);
  });

  test('none is validated past the bound, however many arrive', async () => {
    const { verify, validations } = setUp();
    const results = await Promise.allSettled(Array.from({ length: 400 }, (_, n) => verify(flexToken(n))));
    expect(validations).toHaveLength(VALIDATIONS_PER_SECOND);
    const refused = results.filter((result) => result.status === 'rejected');
    expect(refused).toHaveLength(400 - VALIDATIONS_PER_SECOND);
    for (const result of refused) expect((result as PromiseRejectedResult).reason).toBeInstanceOf(UpstreamUnavailableError);
  });

  test('validations resume as the second passes', async () => {
    const { verify, validations, clock } = setUp();
    await Promise.allSettled(Array.from({ length: 30 }, (_, n) => verify(flexToken(n))));
    expect(validations).toHaveLength(VALIDATIONS_PER_SECOND);
    clock.nowMs += 1000;
    await verify(flexToken(1000));
    expect(validations).toHaveLength(VALIDATIONS_PER_SECOND + 1);
  });

  test('a token already known is still answered while the bound is spent', async () => {
    const { verify, validations } = setUp();
    await verify(flexToken(0));
    await Promise.allSettled(Array.from({ length: 30 }, (_, n) => verify(flexToken(n + 1))));
    await expect(verify(flexToken(0))).resolves.toMatchObject({ workerSid: sid('WK', 1) });
    expect(await failureOf(verify(flexToken(999)))).toBeInstanceOf(UpstreamUnavailableError);
    expect(validations).toHaveLength(VALIDATIONS_PER_SECOND);
  });

  test('a sustained flood is held to the rate: at most one burst plus 20 a second', async () => {
    const { verify, validations, clock } = setUp();
    // 100 distinct tokens a second for 5 seconds.
    for (let n = 0; n < 500; n += 1) {
      await verify(flexToken(n)).catch(() => undefined);
      clock.nowMs += 10;
    }
    expect(validations.length).toBeLessThanOrEqual(VALIDATIONS_PER_SECOND + 5 * VALIDATIONS_PER_SECOND);
  });

  test('the bound is a setting of the instance', async () => {
    const { verify, validations } = setUp({ validationsPerSecond: 2 });
    const results = await Promise.allSettled([1, 2, 3].map((n) => verify(flexToken(n))));
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(validations).toHaveLength(2);
  });
});

describe('FlexTokenVerifier: the rate bound holds in any one-second window', () => {
  test(`distinct tokens spread over two seconds: never more than ${VALIDATIONS_PER_SECOND} validations in any second`, async () => {
    const { clock, verify, validations } = setUp();
    const validatedAt: number[] = [];
    for (let i = 0; i < 200; i += 1) {
      const before = validations.length;
      await verify(flexToken(1000 + i)).catch(() => undefined);
      if (validations.length > before) validatedAt.push(clock.nowMs);
      clock.nowMs += 10;
    }
    for (const start of validatedAt) {
      expect(validatedAt.filter((at) => at >= start && at < start + 1000).length).toBeLessThanOrEqual(VALIDATIONS_PER_SECOND);
    }
    expect(validatedAt.length).toBeGreaterThanOrEqual(2 * VALIDATIONS_PER_SECOND - 1);
  });
});
