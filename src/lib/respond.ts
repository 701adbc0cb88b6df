import type { TwilioResponse } from '@twilio-labs/serverless-runtime-types/types';
import { type IncomingRequest, singleHeader } from './incoming';

/** What the caller gets back, before it becomes the runtime's Response. */
export interface Answer<Body extends object = object> {
  status: number;
  body: Body;
  headers: Record<string, string>;
}

/** CORS for browsers (Flex UI): only origins listed in TRANSFER_ALLOWED_ORIGINS are echoed. */
export function corsHeaders(incoming: IncomingRequest, allowedOrigins: ReadonlySet<string>): Record<string, string> {
  const headers: Record<string, string> = { Vary: 'Origin' };
  const origin = singleHeader(incoming, 'origin');
  if (typeof origin === 'string' && origin !== 'duplicated' && allowedOrigins.has(origin)) {
    headers['Access-Control-Allow-Origin'] = origin;
    // Lets a Flex plugin read how long to wait after a 429.
    headers['Access-Control-Expose-Headers'] = 'Retry-After';
  }
  return headers;
}

export function toRuntimeResponse(answer: Answer, incoming: IncomingRequest, allowedOrigins: ReadonlySet<string>): TwilioResponse {
  const response = new Twilio.Response();
  response.setStatusCode(answer.status);
  response.appendHeader('Content-Type', 'application/json');
  response.appendHeader('Cache-Control', 'no-store');
  const headers = { ...answer.headers, ...corsHeaders(incoming, allowedOrigins) };
  for (const [name, value] of Object.entries(headers)) response.appendHeader(name, value);
  response.setBody(answer.body);
  return response;
}
