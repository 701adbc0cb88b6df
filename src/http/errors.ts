import { assertNever, type Failure, type FieldProblem, type TwilioApiError, type UpstreamOperation } from '../errors';
import type { Answer } from './answer';

export type ErrorCode =
  | 'invalid_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'idempotency_key_reused'
  | 'upstream_rejected'
  | 'rate_limited'
  | 'misconfigured'
  | 'internal_error'
  | 'upstream_error'
  | 'upstream_unavailable'
  | 'upstream_timeout';

export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    details?: FieldProblem[];
    twilioCode?: number;
    moreInfo?: string;
  };
}

export const BASIC_REALM = 'flex-transfer-functions';

/** What is known of Twilio's state when `operation` got no clear answer. */
function uncertaintyNote(operation: UpstreamOperation): string {
  switch (operation) {
    case 'invite':
      return ' The invite may have been created: repeat the request with the same Idempotency-Key (or list the transfers) rather than sending a new one.';
    case 'participant-close':
      return ' The invite was created; the transferring participant may not be closed.';
    case 'task-cancel':
      return ' The transfer may have been canceled: list the transfers to see.';
    case 'idempotency-record':
      return ' The transfer was made.';
    default:
      return ' Nothing was created.';
  }
}

function notSentNote(operation: UpstreamOperation): string {
  if (operation === 'participant-close') return ' The invite was created; the transferring participant is not closed.';
  if (operation === 'task-cancel') return ' Nothing was canceled.';
  return ' Nothing was created.';
}

function unavailableMessage(operation: UpstreamOperation): string {
  if (operation === 'token-validation')
    return 'The Flex token could not be validated: the validation service was unreachable or busy. Try again shortly.';
  if (operation.startsWith('idempotency-')) {
    return 'Twilio Sync, where Idempotency-Key claims are kept, failed or could not be reached, so nothing was done. Try again shortly with the same key.';
  }
  return `Twilio could not be reached for the ${operation} request, which was not sent.${notSentNote(operation)} Try again shortly.`;
}

function answer(status: number, code: ErrorCode, message: string, extra: Partial<ErrorBody['error']> = {}): Answer<ErrorBody> {
  return { status, body: { error: { code, message, ...extra } }, headers: {} };
}

function withRetryAfter(answered: Answer<ErrorBody>, seconds: number | undefined): Answer<ErrorBody> {
  if (seconds !== undefined) answered.headers['Retry-After'] = String(Math.max(1, Math.ceil(seconds)));
  return answered;
}

/** The one place where a failure becomes an HTTP status and body. */
export function failureToHttp(failure: Failure): Answer<ErrorBody> {
  switch (failure.kind) {
    case 'method-not-allowed':
      return answer(405, 'method_not_allowed', failure.message);
    case 'unsupported-media-type':
      return answer(415, 'unsupported_media_type', failure.message);
    case 'misconfigured':
      return answer(500, 'misconfigured', failure.message);
    case 'unauthenticated': {
      const refused = answer(401, 'unauthenticated', failure.message);
      if (failure.challengeBasic) refused.headers['WWW-Authenticate'] = `Basic realm="${BASIC_REALM}", charset="UTF-8"`;
      return refused;
    }
    case 'forbidden':
      return answer(403, 'forbidden', failure.message);
    case 'invalid-request':
      return answer(400, 'invalid_request', failure.message, { details: failure.problems });
    case 'payload-too-large':
      return answer(413, 'payload_too_large', failure.message, { details: failure.problems });
    case 'not-found':
      return answer(404, 'not_found', failure.message, { details: [{ field: failure.field, message: failure.message }] });
    case 'conflict':
      return withRetryAfter(answer(409, 'conflict', failure.message), failure.retryAfterSeconds);
    case 'idempotency-key-reused':
      return answer(422, 'idempotency_key_reused', failure.message);
    case 'upstream-unavailable':
      return withRetryAfter(answer(503, 'upstream_unavailable', unavailableMessage(failure.operation)), failure.retryAfterSeconds);
    case 'upstream-connection-lost':
      return answer(
        502,
        'upstream_error',
        `The connection to Twilio broke during the ${failure.operation} request.${uncertaintyNote(failure.operation)}`,
      );
    case 'upstream-malformed-answer':
      return answer(502, 'upstream_error', `${failure.message}${uncertaintyNote(failure.operation)}`);
    case 'upstream-timeout':
      return answer(
        504,
        'upstream_timeout',
        failure.operation === 'token-validation'
          ? 'The Flex token could not be validated in time. Try again shortly.'
          : `Twilio did not answer the ${failure.operation} request in time.${uncertaintyNote(failure.operation)}`,
      );
    case 'internal':
      return answer(500, 'internal_error', failure.message);
    case 'twilio-api':
      return twilioApiErrorToHttp(failure);
    default:
      return assertNever(failure);
  }
}

function twilioApiErrorToHttp(failure: TwilioApiError): Answer<ErrorBody> {
  const twilioFields: Partial<ErrorBody['error']> = {};
  if (failure.twilioCode !== undefined) twilioFields.twilioCode = failure.twilioCode;
  if (failure.moreInfo !== undefined) twilioFields.moreInfo = failure.moreInfo;
  const said = failure.twilioMessage ? `: ${failure.twilioMessage}` : '';
  const { status, operation } = failure;

  if (status === 401 || status === 403) {
    return answer(
      502,
      'upstream_error',
      `Twilio refused this function's own credentials (HTTP ${status}): check ACCOUNT_SID and AUTH_TOKEN.`,
      twilioFields,
    );
  }
  if (status === 429) {
    return withRetryAfter(
      answer(
        429,
        'rate_limited',
        `Twilio is rate limiting the ${operation} request.${notSentNote(operation)} Retry shortly.`,
        twilioFields,
      ),
      failure.retryAfterSeconds ?? 1,
    );
  }
  if (status === 503) {
    return answer(
      502,
      'upstream_error',
      `Twilio was unavailable (HTTP 503) for the ${operation} request after retrying; it did not act on it. Try again shortly.`,
      twilioFields,
    );
  }
  if (status >= 500) {
    return answer(
      502,
      'upstream_error',
      `Twilio failed the ${operation} request (HTTP ${status}).${uncertaintyNote(operation)}`,
      twilioFields,
    );
  }
  if (status === 404) {
    return answer(404, 'not_found', `Twilio found no such resource for the ${operation} request${said}`, twilioFields);
  }
  if (status === 409) {
    return answer(409, 'conflict', `Twilio reported a conflict for the ${operation} request${said}`, twilioFields);
  }
  return answer(422, 'upstream_rejected', `Twilio rejected the ${operation} request${said}`, twilioFields);
}
