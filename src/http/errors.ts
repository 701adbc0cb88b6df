import { assertNever, type Failure, type FieldProblem, type TwilioApiError, type UpstreamUnavailableError } from '../errors';
import type { Answer } from './response';

export type ErrorCode =
  | 'invalid_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'already_participant'
  | 'transferring_agent_gone'
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

/** What the core said a failed call means for the caller (see core/consequences.ts), as a sentence after the failure. */
function uncertaintyNote(failure: Failure): string {
  return failure.consequences === undefined ? '' : ` ${failure.consequences.uncertain}`;
}

function notSentNote(failure: Failure): string {
  return failure.consequences === undefined ? '' : ` ${failure.consequences.notSent}`;
}

function unavailableMessage(failure: UpstreamUnavailableError): string {
  const { operation } = failure;
  const tried = failure.tried === undefined ? '' : ` (${failure.tried})`;
  if (operation === 'token-validate') {
    return failure.tried === 'busy'
      ? 'The Flex token could not be validated now: this service is busy validating other tokens. Try again in a second.'
      : `The Flex token could not be validated: the validation service was unreachable${tried}. Try again shortly.`;
  }
  if (operation.startsWith('sync-')) {
    return `Twilio Sync, where Idempotency-Key claims are kept, failed or could not be reached${tried}, so nothing was done. Try again shortly with the same key.`;
  }
  return `Twilio could not be reached for the ${operation} request${tried}, which was not sent.${notSentNote(failure)} Try again shortly.`;
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
    case 'already-participant':
      return answer(409, 'already_participant', failure.message, { details: [{ field: 'workerSid', message: failure.message }] });
    case 'transferring-agent-gone':
      return answer(409, 'transferring_agent_gone', failure.message);
    case 'agent-workflow-misconfigured':
      return answer(500, 'misconfigured', failure.message);
    case 'transfer-close-failed':
      return answer(502, 'upstream_error', failure.message);
    case 'idempotency-key-reused':
      return answer(422, 'idempotency_key_reused', failure.message);
    case 'upstream-unavailable':
      return withRetryAfter(answer(503, 'upstream_unavailable', unavailableMessage(failure)), failure.retryAfterSeconds);
    case 'upstream-connection-lost':
      return answer(
        502,
        'upstream_error',
        `The connection to Twilio broke during the ${failure.operation} request.${uncertaintyNote(failure)}`,
      );
    case 'upstream-malformed-answer':
      return answer(502, 'upstream_error', `${failure.message}${uncertaintyNote(failure)}`);
    case 'upstream-timeout':
      return answer(
        504,
        'upstream_timeout',
        failure.operation === 'token-validate'
          ? 'The Flex token could not be validated in time. Try again shortly.'
          : `Twilio did not answer the ${failure.operation} request in time.${uncertaintyNote(failure)}`,
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
      answer(429, 'rate_limited', `Twilio is rate limiting the ${operation} request.${notSentNote(failure)} Retry shortly.`, twilioFields),
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
      `Twilio failed the ${operation} request (HTTP ${status}).${uncertaintyNote(failure)}`,
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
