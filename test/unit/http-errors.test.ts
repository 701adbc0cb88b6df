import { parseSettings } from '../../src/config';
import {
  AgentWorkflowMisconfiguredError,
  AlreadyParticipantError,
  TransferCloseFailedError,
  TransferringAgentGoneError,
  asFailure,
  ConflictError,
  type Failure,
  ForbiddenError,
  IdempotencyKeyReusedError,
  InternalError,
  InvalidRequestError,
  MethodNotAllowedError,
  MisconfiguredError,
  NotFoundError,
  PayloadTooLargeError,
  TwilioApiError,
  UnauthenticatedError,
  UnsupportedMediaTypeError,
  UpstreamConnectionLostError,
  UpstreamMalformedAnswerError,
  type UpstreamOperation,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from '../../src/errors';
import { withConsequences } from '../../src/core/consequences';
import { type ErrorCode, failureToHttp } from '../../src/http/errors';
import { requiredEnv } from '../support/fixtures';

const MORE_INFO = 'https://www.twilio.com/docs/errors/20001';

function twilioAnswer(status: number, retryAfterSeconds?: number, operation: UpstreamOperation = 'invite-create'): TwilioApiError {
  return new TwilioApiError({
    operation,
    status,
    twilioMessage: 'Twilio said no',
    twilioCode: 20001,
    moreInfo: MORE_INFO,
    retryAfterSeconds,
  });
}

/** One failure of every kind, with the contract's status and code: the compiler demands an entry for each kind. */
const EVERY_KIND: Record<Failure['kind'], [Failure, number, ErrorCode]> = {
  'method-not-allowed': [new MethodNotAllowedError(), 405, 'method_not_allowed'],
  'unsupported-media-type': [new UnsupportedMediaTypeError('text/plain'), 415, 'unsupported_media_type'],
  misconfigured: [new MisconfiguredError({ variable: 'TWILIO_FLEX_WORKSPACE_SID', problem: 'is not set' }), 500, 'misconfigured'],
  unauthenticated: [new UnauthenticatedError('no credential'), 401, 'unauthenticated'],
  forbidden: [new ForbiddenError('role not allowed'), 403, 'forbidden'],
  'invalid-request': [new InvalidRequestError([{ field: 'priority', message: 'must be a whole number' }]), 400, 'invalid_request'],
  'payload-too-large': [new PayloadTooLargeError([{ field: 'attributes', message: 'too large' }]), 413, 'payload_too_large'],
  'not-found': [new NotFoundError({ field: 'taskSid', message: 'No such task in the workspace.' }), 404, 'not_found'],
  conflict: [new ConflictError({ message: 'still in progress', retryAfterSeconds: 1 }), 409, 'conflict'],
  'already-participant': [new AlreadyParticipantError('WK' + '0'.repeat(32)), 409, 'already_participant'],
  'transferring-agent-gone': [new TransferringAgentGoneError('WT' + '0'.repeat(32), 'no-agent-left'), 409, 'transferring_agent_gone'],
  'transfer-close-failed': [
    new TransferCloseFailedError({
      participantSid: 'UT' + '0'.repeat(32),
      channelSid: 'UO' + '0'.repeat(32),
      interactionSid: 'KD' + '0'.repeat(32),
      status: 'closed',
      cause: new Error('x'),
    }),
    502,
    'upstream_error',
  ],
  'agent-workflow-misconfigured': [new AgentWorkflowMisconfiguredError('WW' + '0'.repeat(32)), 500, 'misconfigured'],
  'idempotency-key-reused': [new IdempotencyKeyReusedError(), 422, 'idempotency_key_reused'],
  'twilio-api': [twilioAnswer(400), 422, 'upstream_rejected'],
  'upstream-unavailable': [new UpstreamUnavailableError('invite-create'), 503, 'upstream_unavailable'],
  'upstream-connection-lost': [new UpstreamConnectionLostError('invite-create'), 502, 'upstream_error'],
  'upstream-malformed-answer': [new UpstreamMalformedAnswerError('invite-create', { detail: 'not JSON' }), 502, 'upstream_error'],
  'upstream-timeout': [new UpstreamTimeoutError('invite-create'), 504, 'upstream_timeout'],
  internal: [new InternalError({ cause: new TypeError('x is undefined') }), 500, 'internal_error'],
};

describe('failureToHttp: status and code for each failure', () => {
  test.each(Object.entries(EVERY_KIND))('%s', (kind, [failure, status, code]) => {
    expect(failure.kind).toBe(kind);
    const answer = failureToHttp(failure);
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(answer.body.error.message.length).toBeGreaterThan(0);
  });

  test('every failure class carries its own name and keeps what caused it', () => {
    const cause = new Error('socket hang up');
    const failure = new UpstreamConnectionLostError('invite-create', { cause });
    expect(failure.name).toBe('UpstreamConnectionLostError');
    expect(failure.cause).toBe(cause);
    for (const [instance] of Object.values(EVERY_KIND)) expect(instance.name).toBe(instance.constructor.name);
  });

  test.each<[string, Failure, number, string]>([
    ['validator unreachable', new UpstreamUnavailableError('token-validate'), 503, 'upstream_unavailable'],
    ['validator timed out', new UpstreamTimeoutError('token-validate'), 504, 'upstream_timeout'],
    ['Twilio unreachable for the task fetch', new UpstreamUnavailableError('task-fetch'), 503, 'upstream_unavailable'],
    ['Sync unreachable', new UpstreamUnavailableError('sync-create'), 503, 'upstream_unavailable'],
    ['Twilio 404', twilioAnswer(404), 404, 'not_found'],
    ['Twilio 404 on participant lookup', twilioAnswer(404, undefined, 'participant-list'), 404, 'not_found'],
    ['Twilio 409', twilioAnswer(409), 409, 'conflict'],
    ['Twilio 429', twilioAnswer(429, 2), 429, 'rate_limited'],
    ['Twilio 400', twilioAnswer(400), 422, 'upstream_rejected'],
    ['Twilio 405', twilioAnswer(405), 422, 'upstream_rejected'],
    ['Twilio 413', twilioAnswer(413), 422, 'upstream_rejected'],
    ['Twilio 422', twilioAnswer(422), 422, 'upstream_rejected'],
    ['Twilio 401 (own credentials)', twilioAnswer(401), 502, 'upstream_error'],
    ['Twilio 403 (own credentials)', twilioAnswer(403), 502, 'upstream_error'],
    ['Twilio 401 to the token validation (own credentials)', twilioAnswer(401, undefined, 'token-validate'), 502, 'upstream_error'],
    ['Twilio 500', twilioAnswer(500), 502, 'upstream_error'],
    ['Twilio 502', twilioAnswer(502), 502, 'upstream_error'],
    ['Twilio 503 after retries', twilioAnswer(503), 502, 'upstream_error'],
    ['Twilio 504', twilioAnswer(504), 502, 'upstream_error'],
  ])('%s -> %i %s', (_label, failure, status, code) => {
    const answer = failureToHttp(failure);
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
  });

  test('Twilio refusing the function’s own credentials is never reported as the caller’s 401/403', () => {
    for (const status of [401, 403]) {
      for (const operation of ['participant-list', 'invite-create', 'participant-update', 'task-fetch', 'sync-create'] as const) {
        const answer = failureToHttp(twilioAnswer(status, undefined, operation));
        expect(answer.status).toBe(502);
        expect(answer.body.error.message).toMatch(/ACCOUNT_SID and AUTH_TOKEN/);
      }
    }
  });
});

describe('failureToHttp: what the caller is told about Twilio’s state', () => {
  test.each<[string, Failure]>([
    ['the connection broke', new UpstreamConnectionLostError('invite-create')],
    [
      'the answer was not understood',
      new UpstreamMalformedAnswerError('invite-create', { detail: 'a success status with a body that is not the resource' }),
    ],
    ['no answer in time', new UpstreamTimeoutError('invite-create')],
    ['Twilio answered 500', twilioAnswer(500)],
    ['Twilio answered 504', twilioAnswer(504)],
  ])('invite, %s: the invite may have been created, and the way to find out is said', (_label, failure) => {
    const message = failureToHttp(withConsequences(failure)).body.error.message;
    expect(message).toContain('may have been created');
    expect(message).toContain('Idempotency-Key');
  });

  test.each<[string, Failure]>([
    ['unreachable (nothing was sent)', new UpstreamUnavailableError('invite-create')],
    ['rate limited', twilioAnswer(429)],
    ['503 after retries (Twilio did not act)', twilioAnswer(503)],
    ['rejected', twilioAnswer(400)],
  ])('invite %s: never says it may have been created', (_label, failure) => {
    expect(failureToHttp(withConsequences(failure)).body.error.message).not.toContain('may have been created');
  });

  test.each<[string, Failure]>([
    ['the task fetch timed out', new UpstreamTimeoutError('task-fetch')],
    ['the participant list was not understood', new UpstreamMalformedAnswerError('participant-list', { detail: 'not JSON' })],
    ['the Sync claim connection broke', new UpstreamConnectionLostError('sync-create')],
  ])('a read before the invite failed (%s): nothing was created', (_label, failure) => {
    const message = failureToHttp(withConsequences(failure)).body.error.message;
    expect(message).toContain('Nothing was created');
    expect(message).not.toContain('may have been created');
  });

  test('the participant close failing: the invite stands', () => {
    expect(failureToHttp(withConsequences(new UpstreamTimeoutError('participant-update'))).body.error.message).toContain(
      'The invite was created',
    );
  });

  test('recording the result failing after the invite: the transfer was made', () => {
    const message = failureToHttp(withConsequences(new UpstreamTimeoutError('sync-update'))).body.error.message;
    expect(message).toContain('The transfer was made');
    expect(message).not.toContain('Nothing was created');
  });

  test('a task cancel whose outcome is unknown says the transfer may have been canceled', () => {
    expect(failureToHttp(withConsequences(new UpstreamConnectionLostError('task-update'))).body.error.message).toMatch(
      /may have been canceled/,
    );
    expect(failureToHttp(withConsequences(new UpstreamUnavailableError('task-update'))).body.error.message).toContain(
      'Nothing was canceled',
    );
  });

  test('the token validator unreachable or slow: the Flex token could not be validated', () => {
    expect(failureToHttp(withConsequences(new UpstreamUnavailableError('token-validate'))).body.error.message).toMatch(
      /Flex token could not be validated/,
    );
    expect(failureToHttp(withConsequences(new UpstreamTimeoutError('token-validate'))).body.error.message).toMatch(
      /Flex token could not be validated/,
    );
  });
});

describe('failureToHttp: 401 and the Basic challenge', () => {
  test('no WWW-Authenticate unless the failure challenges for Basic', () => {
    expect(failureToHttp(new UnauthenticatedError('no credential')).headers).not.toHaveProperty('WWW-Authenticate');
  });

  test('a Basic challenge names the realm', () => {
    const failure = new UnauthenticatedError('no credential');
    failure.challengeBasic = true;
    expect(failureToHttp(failure).headers['WWW-Authenticate']).toMatch(/^Basic realm="[^"]+"/);
  });

  test('every 401 says the same thing, whatever the reason', () => {
    const messages = ['no credential', 'the Basic credentials were refused', 'the Flex token was rejected'].map(
      (reason) => failureToHttp(new UnauthenticatedError(reason)).body.error.message,
    );
    expect(new Set(messages).size).toBe(1);
    expect(messages[0]).not.toMatch(/refused|rejected/);
  });

  test.each<Failure>([new ForbiddenError('no'), new InvalidRequestError([]), twilioAnswer(401)])(
    'no other failure challenges (%p)',
    (failure) => {
      expect(failureToHttp(failure).headers).not.toHaveProperty('WWW-Authenticate');
    },
  );
});

describe('failureToHttp: Retry-After', () => {
  test.each([1, 7, 30])('429: the seconds Twilio asked for (%i s)', (seconds) => {
    expect(failureToHttp(twilioAnswer(429, seconds)).headers['Retry-After']).toBe(String(seconds));
  });

  test.each([[undefined], [0], [2.5]])('429: a positive whole number of seconds, never shorter than asked (%p)', (seconds) => {
    const header = failureToHttp(twilioAnswer(429, seconds)).headers['Retry-After'];
    expect(header).toMatch(/^[1-9]\d*$/);
    expect(Number(header)).toBeGreaterThanOrEqual(seconds ?? 0);
  });

  test.each([
    ['the validation bound of this instance', new UpstreamUnavailableError('token-validate', { retryAfterSeconds: 1 }), '1'],
    ['Twilio asked for 4 s', new UpstreamUnavailableError('invite-create', { retryAfterSeconds: 4 }), '4'],
    ['a fraction is rounded up', new UpstreamUnavailableError('sync-create', { retryAfterSeconds: 0.2 }), '1'],
  ])('503 carries Retry-After when known (%s)', (_label, failure, header) => {
    const answer = failureToHttp(failure);
    expect(answer.status).toBe(503);
    expect(answer.headers['Retry-After']).toBe(header);
  });

  test('503 without a known delay carries no Retry-After', () => {
    expect(failureToHttp(new UpstreamUnavailableError('invite-create')).headers).not.toHaveProperty('Retry-After');
  });

  test('409 while the same Idempotency-Key is in progress carries Retry-After', () => {
    const answer = failureToHttp(new ConflictError({ message: 'in progress', retryAfterSeconds: 1 }));
    expect(answer.status).toBe(409);
    expect(answer.headers['Retry-After']).toBe('1');
  });

  test('409 that retrying cannot fix (a transfer no longer pending) carries no Retry-After', () => {
    expect(failureToHttp(new ConflictError({ message: 'already accepted' })).headers).not.toHaveProperty('Retry-After');
  });

  test.each([400, 404, 409, 500, 503])('no Retry-After header on a Twilio %i', (status) => {
    expect(failureToHttp(twilioAnswer(status, 5)).headers).not.toHaveProperty('Retry-After');
  });
});

describe('failureToHttp: details and Twilio fields', () => {
  test('400 lists every problem in details', () => {
    const problems = [
      { field: 'interactionSid', message: 'is required' },
      { field: 'priority', message: 'must be a whole number' },
    ];
    expect(failureToHttp(new InvalidRequestError(problems)).body.error.details).toEqual(problems);
  });

  test('413 names the attributes field in details', () => {
    const problems = [{ field: 'attributes', message: 'too large' }];
    expect(failureToHttp(new PayloadTooLargeError(problems)).body.error.details).toEqual(problems);
  });

  test('404 found before anything was changed names the field', () => {
    const answer = failureToHttp(new NotFoundError({ field: 'taskSid', message: 'No such task.' }));
    expect(answer.body.error.details).toEqual([{ field: 'taskSid', message: 'No such task.' }]);
  });

  test.each([400, 404, 409, 422])('Twilio %i: twilioCode and moreInfo are passed on', (status) => {
    const error = failureToHttp(twilioAnswer(status)).body.error;
    expect(error.twilioCode).toBe(20001);
    expect(error.moreInfo).toBe(MORE_INFO);
  });

  test('422 without a Twilio code carries no invented twilioCode/moreInfo', () => {
    const error = failureToHttp(new TwilioApiError({ operation: 'invite-create', status: 400 })).body.error;
    expect(error.code).toBe('upstream_rejected');
    expect(error.twilioCode).toBeUndefined();
    expect(error.moreInfo).toBeUndefined();
  });
});

describe('failureToHttp: nothing secret or internal leaks', () => {
  test('a misconfigured setting names the variable and not its value', () => {
    const secret = 'SECRETvalue-that-is-not-a-token';
    let thrown: unknown;
    try {
      parseSettings({ ...requiredEnv(), AUTH_TOKEN: secret });
    } catch (error) {
      thrown = error;
    }
    const answer = failureToHttp(asFailure(thrown));
    expect(answer.status).toBe(500);
    expect(answer.body.error.code).toBe('misconfigured');
    expect(answer.body.error.message).toContain('AUTH_TOKEN');
    expect(JSON.stringify(answer)).not.toContain(secret);
  });

  test('an unexpected exception becomes a JSON 500 without its message or stack trace', () => {
    const defect = new TypeError('Cannot read properties of undefined (reading "sid") token=eyJabc');
    const failure = asFailure(defect);
    expect(failure.kind).toBe('internal');
    expect(failure.cause).toBe(defect);
    const answer = failureToHttp(failure);
    expect(answer.status).toBe(500);
    const text = JSON.stringify(answer);
    expect(text).not.toContain('eyJabc');
    expect(text).not.toContain('Cannot read properties');
    expect(text).not.toMatch(/\bat .*\.(ts|js):\d+/);
    expect(answer.body.error).not.toHaveProperty('stack');
  });

  test('a thrown value that is not an Error is an internal failure too', () => {
    expect(failureToHttp(asFailure('a string')).status).toBe(500);
    expect(failureToHttp(asFailure(undefined)).body.error.code).toBe('internal_error');
  });

  test('a failure of ours passes through asFailure unchanged', () => {
    const failure = new ForbiddenError('no');
    expect(asFailure(failure)).toBe(failure);
  });

  test.each(Object.entries(EVERY_KIND))('%s: the body holds only the contract’s error fields', (_kind, [failure]) => {
    const answer = failureToHttp(failure);
    expect(Object.keys(answer.body)).toEqual(['error']);
    for (const key of Object.keys(answer.body.error)) {
      expect(['code', 'message', 'details', 'twilioCode', 'moreInfo']).toContain(key);
    }
    expect(JSON.stringify(answer.body)).not.toMatch(/\n\s+at /);
  });
});
