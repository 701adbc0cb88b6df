import type { FieldProblem, TransferFailure, UpstreamOperation } from './errors';
import type { Answer } from './respond';

export type ErrorCode =
  | 'invalid_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'payload_too_large'
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

const UNCERTAIN_INVITE = 'The transfer may or may not have happened: check the interaction in Flex before trying again.';

/** Whether Twilio may have acted on a request that did not get a clear answer. */
function uncertaintyNote(operation: UpstreamOperation): string {
  if (operation === 'invite') return ` ${UNCERTAIN_INVITE}`;
  if (operation === 'participant-close') return ' The invite was created; the transferring participant may not be closed.';
  return ' No invite was created.';
}

function answer(status: number, code: ErrorCode, message: string, extra: Partial<ErrorBody['error']> = {}): Answer<ErrorBody> {
  return { status, body: { error: { code, message, ...extra } }, headers: {} };
}

/** The one place where a failure becomes an HTTP status and body. */
export function failureToHttp(failure: TransferFailure): Answer<ErrorBody> {
  switch (failure.kind) {
    case 'method-not-allowed':
      return answer(405, 'method_not_allowed', failure.message);
    case 'misconfigured':
      return answer(500, 'misconfigured', failure.message);
    case 'unauthenticated':
      return answer(401, 'unauthenticated', failure.message);
    case 'forbidden':
      return answer(403, 'forbidden', failure.message);
    case 'invalid-request':
      return answer(400, 'invalid_request', failure.message, { details: failure.problems });
    case 'payload-too-large':
      return answer(413, 'payload_too_large', failure.message, { details: failure.problems });
    case 'upstream-unavailable':
      return answer(
        503,
        'upstream_unavailable',
        failure.operation === 'token-validation'
          ? 'The Flex token could not be validated: the validation service was unreachable. Try again shortly.'
          : `Twilio could not be reached for the ${failure.operation} request, which was not sent.${
              failure.operation === 'participant-close'
                ? ' The invite was created; the transferring participant is not closed.'
                : ' Nothing was created.'
            } Try again shortly.`,
      );
    case 'upstream-connection-lost':
      return answer(
        502,
        'upstream_error',
        `The connection to Twilio broke during the ${failure.operation} request.${uncertaintyNote(failure.operation)}`,
      );
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
  }
}

function twilioApiErrorToHttp(failure: Extract<TransferFailure, { kind: 'twilio-api' }>): Answer<ErrorBody> {
  const twilioFields: Partial<ErrorBody['error']> = {};
  if (failure.twilioCode !== undefined) twilioFields.twilioCode = failure.twilioCode;
  if (failure.moreInfo !== undefined) twilioFields.moreInfo = failure.moreInfo;
  const said = failure.twilioMessage ? `: ${failure.twilioMessage}` : '';
  const { status, operation } = failure;

  if (status === 404) {
    return answer(404, 'not_found', `Twilio found no such resource for the ${operation} request${said}`, twilioFields);
  }
  if (status === 409) {
    return answer(409, 'conflict', `Twilio reported a conflict for the ${operation} request${said}`, twilioFields);
  }
  if (status === 429) {
    const retryAfterSeconds = Math.max(1, Math.ceil(failure.retryAfterSeconds ?? 1));
    const rateLimited = answer(
      429,
      'rate_limited',
      `Twilio is rate limiting the ${operation} request; nothing was created. Retry after ${retryAfterSeconds} s.`,
      twilioFields,
    );
    rateLimited.headers['Retry-After'] = String(retryAfterSeconds);
    return rateLimited;
  }
  if (status === 401 || status === 403) {
    return answer(
      502,
      'upstream_error',
      `Twilio refused this function's own credentials (HTTP ${status}): check ACCOUNT_SID and AUTH_TOKEN.`,
      twilioFields,
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
  return answer(422, 'upstream_rejected', `Twilio rejected the ${operation} request${said}`, twilioFields);
}
