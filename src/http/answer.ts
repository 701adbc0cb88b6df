import { allowedOriginsLeniently, type Environment } from '../config';
import type { Outcome } from '../core/engine';
import { type IncomingRequest, singleHeader } from './incoming';

/** What the caller gets back, before an adapter turns it into the runtime's Response. */
export interface Answer<Body extends object = object> {
  status: number;
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

/**
 * The response as it goes out, whatever the answer: JSON, no caching, the
 * request id of its log line, CORS for allowed origins (read leniently when
 * the settings themselves are what failed).
 */
export function finalResponse(options: { outcome: Outcome; incoming: IncomingRequest; env: Environment }): Answer {
  const { answer, requestId, settings } = options.outcome;
  const headers = {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    'X-Request-Id': requestId,
    ...answer.headers,
    ...corsHeaders(options.incoming, settings?.allowedOrigins ?? allowedOriginsLeniently(options.env)),
  };
  return { status: answer.status, body: answer.body, headers };
}
