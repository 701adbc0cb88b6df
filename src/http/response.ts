import { allowedOriginsLeniently, type Environment } from '../config';
import { assertNever } from '../errors';
import type { Effect, Outcome } from '../core/outcome';
import { type IncomingRequest, singleHeader } from '../core/request';
import { type ErrorBody, failureToHttp } from './errors';

/** What the caller gets back, before an adapter turns it into the runtime's Response. */
export interface Answer<Body extends object | undefined = object | undefined> {
  status: number;
  /** Undefined for 204 No Content. */
  body: Body;
  headers: Record<string, string>;
}

/** Headers a browser plugin may read on an allowed origin's answer. */
const EXPOSED_HEADERS = 'Retry-After, X-Request-Id, Idempotent-Replayed';

/** CORS for browsers (Flex UI): only origins listed in TRANSFER_ALLOWED_ORIGINS are echoed. */
export function corsHeaders(incoming: IncomingRequest, allowedOrigins: ReadonlySet<string>): Record<string, string> {
  const headers: Record<string, string> = { Vary: 'Origin' };
  const origin = singleHeader(incoming, 'origin');
  if (origin !== undefined && allowedOrigins.has(origin)) {
    headers['Access-Control-Allow-Origin'] = origin;
    headers['Access-Control-Expose-Headers'] = EXPOSED_HEADERS;
  }
  return headers;
}

function statusOf(effect: Effect): number {
  switch (effect) {
    case 'created':
      return 201;
    case 'done':
      return 200;
    case 'acknowledged':
      return 204;
    default:
      return assertNever(effect);
  }
}

/** The status and body of an outcome, before the headers every answer carries. */
function answerOf(outcome: Outcome): Answer {
  if (outcome.result.kind === 'failed') return failureToHttp(outcome.result.failure);
  const { effect, body, replayed } = outcome.result.value;
  return {
    status: statusOf(effect),
    body: effect === 'acknowledged' ? undefined : (body ?? {}),
    headers: replayed === true ? { 'Idempotent-Replayed': 'true' } : {},
  };
}

/** The error code of a failed answer, or undefined for a success. */
export function errorCodeOf(answer: Answer): string | undefined {
  return (answer.body as Partial<ErrorBody> | undefined)?.error?.code;
}

/**
 * The response as it goes out, whatever the outcome: JSON (even a 204 says
 * so, as TaskRouter asks), no caching, the request id of its log line, CORS
 * for allowed origins (read leniently when the settings themselves are what
 * failed).
 */
export function toHttpAnswer(options: { outcome: Outcome; incoming: IncomingRequest; env: Environment }): Answer {
  const { outcome } = options;
  const answer = answerOf(outcome);
  const headers = {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    'X-Request-Id': outcome.requestId,
    ...answer.headers,
    ...corsHeaders(options.incoming, outcome.settings?.allowedOrigins ?? allowedOriginsLeniently(options.env)),
  };
  return { status: answer.status, body: answer.body, headers };
}
