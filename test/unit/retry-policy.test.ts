import fc from 'fast-check';
import { type AttemptOutcome, classifyTransportError, parseRetryAfterSeconds, retryDelayMs } from '../../src/twilio/retry-policy';

const PLENTY_MS = 8000;
const answered = (status: number, retryAfterSeconds?: number): AttemptOutcome => ({ kind: 'answered', status, retryAfterSeconds });
const midJitter = () => 0.5;

/** The wait before the next attempt, for a call that may change something in Twilio unless `safeToRepeat`. */
function delayFor(outcome: AttemptOutcome, attemptsMade: number, remainingMs: number, random: () => number, safeToRepeat?: boolean) {
  return retryDelayMs({ outcome, attemptsMade, remainingMs, random, safeToRepeat });
}

describe('retryDelayMs: what is retried', () => {
  test.each<[string, AttemptOutcome]>([
    ['429 answer', answered(429)],
    ['503 answer', answered(503)],
    ['connection failure before sending', { kind: 'not-sent' }],
  ])('%s is retried while time remains', (_label, outcome) => {
    const delay = delayFor(outcome, 1, PLENTY_MS, midJitter);
    expect(delay).toBeDefined();
    expect(delay).toBeGreaterThan(0);
  });

  test.each<[string, AttemptOutcome]>([
    ['400 answer', answered(400)],
    ['401 answer', answered(401)],
    ['403 answer', answered(403)],
    ['404 answer', answered(404)],
    ['409 answer', answered(409)],
    ['422 answer', answered(422)],
    ['500 answer (Twilio may have acted)', answered(500)],
    ['502 answer (Twilio may have acted)', answered(502)],
    ['504 answer (Twilio may have acted)', answered(504)],
    ['a request that may have been sent', { kind: 'maybe-sent' }],
    ['a timeout after sending', { kind: 'timed-out' }],
  ])('%s is never retried', (_label, outcome) => {
    for (const attemptsMade of [1, 2, 3]) {
      expect(delayFor(outcome, attemptsMade, 60_000, midJitter)).toBeUndefined();
    }
  });

  test.each<[string, AttemptOutcome]>([
    ['a broken connection that may have delivered it', { kind: 'maybe-sent' }],
    ['429 answer', answered(429)],
    ['connection failure before sending', { kind: 'not-sent' }],
  ])('a call that changes nothing (a read, a token validation) is retried after %s', (_label, outcome) => {
    expect(delayFor(outcome, 1, PLENTY_MS, midJitter, true)).toBeGreaterThan(0);
  });

  test.each<[string, AttemptOutcome]>([
    ['500 answer', answered(500)],
    ['404 answer', answered(404)],
    ['a timeout (the deadline is spent)', { kind: 'timed-out' }],
  ])('a call that changes nothing is still not retried after %s', (_label, outcome) => {
    expect(delayFor(outcome, 1, PLENTY_MS, midJitter, true)).toBeUndefined();
  });

  test('a broken connection is not retried unless the call is declared to change nothing', () => {
    expect(delayFor({ kind: 'maybe-sent' }, 1, PLENTY_MS, midJitter)).toBeUndefined();
    expect(delayFor({ kind: 'maybe-sent' }, 1, PLENTY_MS, midJitter, false)).toBeUndefined();
  });

  test('retries stop after a bounded number of attempts, even with time left', () => {
    expect(delayFor(answered(429), 20, 10_000_000, midJitter)).toBeUndefined();
  });
});

describe('retryDelayMs: when', () => {
  test.each([1, 2, 5])('honours a Retry-After of %i s', (seconds) => {
    const delay = delayFor(answered(429, seconds), 1, 60_000, () => 0);
    expect(delay).toBeGreaterThanOrEqual(seconds * 1000);
  });

  test('honours Retry-After on a 503 too', () => {
    expect(delayFor(answered(503, 2), 1, 60_000, () => 0)).toBeGreaterThanOrEqual(2000);
  });

  test('gives up when Retry-After would pass the deadline', () => {
    expect(delayFor(answered(429, 30), 1, 7500, midJitter)).toBeUndefined();
    expect(delayFor(answered(429, 7.5), 1, 7500, midJitter)).toBeUndefined();
  });

  test('gives up when the deadline has (almost) passed', () => {
    expect(delayFor(answered(429), 1, 0, midJitter)).toBeUndefined();
    expect(delayFor({ kind: 'not-sent' }, 1, 1, midJitter)).toBeUndefined();
  });

  test('the wait is jittered', () => {
    const low = delayFor(answered(429), 2, PLENTY_MS, () => 0);
    const high = delayFor(answered(429), 2, PLENTY_MS, () => 0.999);
    expect(low).toBeDefined();
    expect(high).toBeDefined();
    expect(high).not.toBe(low);
  });

  test('the wait backs off as attempts accumulate', () => {
    const first = delayFor(answered(503), 1, 60_000, () => 0);
    const third = delayFor(answered(503), 3, 60_000, () => 0);
    expect(first).toBeDefined();
    expect(third).toBeDefined();
    expect(third as number).toBeGreaterThan(first as number);
  });

  test('a retry always leaves time before the deadline (any outcome, attempt, remaining time, jitter, kind of call)', () => {
    const outcome = fc.oneof(
      fc.record({
        kind: fc.constant('answered' as const),
        status: fc.constantFrom(429, 503, 500, 404),
        retryAfterSeconds: fc.option(fc.double({ min: 0, max: 20, noNaN: true }), { nil: undefined }),
      }),
      fc.constantFrom<AttemptOutcome>({ kind: 'not-sent' }, { kind: 'maybe-sent' }, { kind: 'timed-out' }),
    );
    fc.assert(
      fc.property(
        outcome,
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 9000 }),
        fc.double({ min: 0, max: 0.9999, noNaN: true }),
        fc.boolean(),
        (attempt, attemptsMade, remainingMs, random, safeToRepeat) => {
          const delay = delayFor(attempt, attemptsMade, remainingMs, () => random, safeToRepeat);
          if (delay === undefined) return;
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(remainingMs);
          if (attempt.kind === 'answered' && attempt.retryAfterSeconds !== undefined) {
            expect(delay).toBeGreaterThanOrEqual(attempt.retryAfterSeconds * 1000);
          }
        },
      ),
    );
  });
});

describe('classifyTransportError', () => {
  test.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'])('%s (nothing was sent) is retried', (code) => {
    expect(delayFor(classifyTransportError(code), 1, PLENTY_MS, midJitter)).toBeDefined();
  });

  test.each([['ECONNRESET'], ['EPIPE'], ['ETIMEDOUT'], ['ECONNABORTED'], ['ESOMETHINGNEW'], [undefined], [42]])(
    '%p (the invite may have reached Twilio) is never retried',
    (code) => {
      expect(delayFor(classifyTransportError(code), 1, PLENTY_MS, midJitter)).toBeUndefined();
    },
  );

  test.each(['ETIMEDOUT', 'ECONNABORTED'])('%s counts as a timeout', (code) => {
    expect(classifyTransportError(code).kind).toBe('timed-out');
  });
});

describe('parseRetryAfterSeconds', () => {
  test.each<[unknown, number]>([
    ['3', 3],
    ['0', 0],
    ['120', 120],
    [5, 5],
    [['4'], 4],
  ])('%p -> %p seconds', (header, seconds) => {
    expect(parseRetryAfterSeconds(header)).toBe(seconds);
  });

  test.each<[unknown]>([[undefined], [null], ['soon'], ['-5'], ['Wed, 21 Oct 2015 07:28:00 GMT'], [{}], [NaN], ['Infinity']])(
    '%p is not a usable delay',
    (header) => {
      expect(parseRetryAfterSeconds(header)).toBeUndefined();
    },
  );
});
