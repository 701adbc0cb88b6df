import { parseSettings } from '../../src/lib/config';
import {
  asTransferFailure,
  ForbiddenError,
  InternalError,
  InvalidRequestError,
  MethodNotAllowedError,
  MisconfiguredError,
  PayloadTooLargeError,
  type TransferFailure,
  TwilioApiError,
  UnauthenticatedError,
  UpstreamConnectionLostError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
  type UpstreamOperation,
} from '../../src/lib/errors';
import { failureToHttp } from '../../src/lib/http-errors';
import { requiredEnv } from './fixtures';

const MORE_INFO = 'https://www.twilio.com/docs/errors/20001';

function twilioAnswer(status: number, retryAfterSeconds?: number, operation: UpstreamOperation = 'invite'): TwilioApiError {
  return new TwilioApiError(operation, status, 'Twilio said no', 20001, MORE_INFO, retryAfterSeconds);
}

describe('failureToHttp: status and code for each failure', () => {
  test.each<[string, TransferFailure, number, string]>([
    ['invalid request', new InvalidRequestError([{ field: 'priority', message: 'must be a whole number' }]), 400, 'invalid_request'],
    ['unauthenticated', new UnauthenticatedError('no credential'), 401, 'unauthenticated'],
    ['forbidden', new ForbiddenError('role not allowed'), 403, 'forbidden'],
    ['not POST', new MethodNotAllowedError(), 405, 'method_not_allowed'],
    ['payload too large', new PayloadTooLargeError([{ field: 'attributes', message: 'too large' }]), 413, 'payload_too_large'],
    ['misconfigured', new MisconfiguredError('TWILIO_FLEX_WORKSPACE_SID', 'is not set'), 500, 'misconfigured'],
    ['validator unreachable', new UpstreamUnavailableError('token-validation'), 503, 'upstream_unavailable'],
    ['Twilio unreachable', new UpstreamUnavailableError('invite'), 503, 'upstream_unavailable'],
    ['no answer within the deadline', new UpstreamTimeoutError('invite'), 504, 'upstream_timeout'],
    ['Twilio 404', twilioAnswer(404), 404, 'not_found'],
    ['Twilio 404 on participant lookup', twilioAnswer(404, undefined, 'participant-lookup'), 404, 'not_found'],
    ['Twilio 409', twilioAnswer(409), 409, 'conflict'],
    ['Twilio 429', twilioAnswer(429, 2), 429, 'rate_limited'],
    ['Twilio 400', twilioAnswer(400), 422, 'upstream_rejected'],
    ['Twilio 405', twilioAnswer(405), 422, 'upstream_rejected'],
    ['Twilio 413', twilioAnswer(413), 422, 'upstream_rejected'],
    ['Twilio 422', twilioAnswer(422), 422, 'upstream_rejected'],
    ['Twilio 401 (own credentials)', twilioAnswer(401), 502, 'upstream_error'],
    ['Twilio 403 (own credentials)', twilioAnswer(403), 502, 'upstream_error'],
    ['Twilio 500', twilioAnswer(500), 502, 'upstream_error'],
    ['Twilio 502', twilioAnswer(502), 502, 'upstream_error'],
    ['Twilio 503 after retries', twilioAnswer(503), 502, 'upstream_error'],
    ['Twilio 504', twilioAnswer(504), 502, 'upstream_error'],
  ])('%s -> %i %s', (_label, failure, status, code) => {
    const answer = failureToHttp(failure);
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(typeof answer.body.error.message).toBe('string');
    expect(answer.body.error.message.length).toBeGreaterThan(0);
  });

  test('a connection lost mid-request is reported as an upstream failure, never as the caller’s fault', () => {
    const answer = failureToHttp(new UpstreamConnectionLostError('invite'));
    expect(answer.status).toBeGreaterThanOrEqual(500);
    expect(['upstream_error', 'upstream_unavailable', 'upstream_timeout']).toContain(answer.body.error.code);
  });

  test('Twilio refusing the function’s own credentials is never reported as the caller’s 401/403', () => {
    for (const status of [401, 403]) {
      for (const operation of ['participant-lookup', 'invite', 'participant-close'] as const) {
        expect(failureToHttp(twilioAnswer(status, undefined, operation)).status).toBe(502);
      }
    }
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

  test.each([400, 404, 409, 422])('Twilio %i: twilioCode and moreInfo are passed on', (status) => {
    const error = failureToHttp(twilioAnswer(status)).body.error;
    expect(error.twilioCode).toBe(20001);
    expect(error.moreInfo).toBe(MORE_INFO);
  });

  test('422 without a Twilio code carries no invented twilioCode/moreInfo', () => {
    const error = failureToHttp(new TwilioApiError('invite', 400, undefined, undefined, undefined, undefined)).body.error;
    expect(error.code).toBe('upstream_rejected');
    expect(error.twilioCode).toBeUndefined();
    expect(error.moreInfo).toBeUndefined();
  });
});

describe('failureToHttp: 429 Retry-After', () => {
  test.each([1, 7, 30])('Retry-After is the seconds Twilio asked for (%i s)', (seconds) => {
    expect(failureToHttp(twilioAnswer(429, seconds)).headers['Retry-After']).toBe(String(seconds));
  });

  test.each([[undefined], [0], [2.5]])('Retry-After is a positive whole number of seconds, never shorter than asked (%p)', (seconds) => {
    const header = failureToHttp(twilioAnswer(429, seconds)).headers['Retry-After'];
    expect(header).toMatch(/^[1-9]\d*$/);
    expect(Number(header)).toBeGreaterThanOrEqual(seconds ?? 0);
  });

  test.each([400, 404, 409, 500, 503])('no Retry-After header on a Twilio %i', (status) => {
    expect(failureToHttp(twilioAnswer(status, 5)).headers).not.toHaveProperty('Retry-After');
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
    const answer = failureToHttp(asTransferFailure(thrown));
    expect(answer.status).toBe(500);
    expect(answer.body.error.code).toBe('misconfigured');
    expect(answer.body.error.message).toContain('AUTH_TOKEN');
    expect(JSON.stringify(answer)).not.toContain(secret);
  });

  test('an unexpected exception becomes a JSON 500 without its message or stack trace', () => {
    const defect = new TypeError('Cannot read properties of undefined (reading "sid") token=eyJabc');
    const answer = failureToHttp(asTransferFailure(defect));
    expect(answer.status).toBe(500);
    const text = JSON.stringify(answer);
    expect(text).not.toContain('eyJabc');
    expect(text).not.toContain('Cannot read properties');
    expect(text).not.toMatch(/\bat .*\.(ts|js):\d+/);
    expect(answer.body.error).not.toHaveProperty('stack');
  });

  test.each<[string, TransferFailure]>([
    ['invalid request', new InvalidRequestError([{ field: 'priority', message: 'bad' }])],
    ['Twilio 500', twilioAnswer(500)],
    ['timeout', new UpstreamTimeoutError('invite')],
    ['internal', new InternalError('TypeError')],
  ])('%s: the body holds only the contract’s error fields', (_label, failure) => {
    const answer = failureToHttp(failure);
    expect(Object.keys(answer.body)).toEqual(['error']);
    for (const key of Object.keys(answer.body.error)) {
      expect(['code', 'message', 'details', 'twilioCode', 'moreInfo']).toContain(key);
    }
    expect(JSON.stringify(answer.body)).not.toMatch(/\n\s+at /);
  });
});
