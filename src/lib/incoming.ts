import { MethodNotAllowedError } from './errors';

export type HeaderValue = string | string[];

/** What the runtime tells a function about the HTTP request, normalised. */
export interface IncomingRequest {
  /** Lower-cased header names. Empty when the runtime's `request` key was shadowed by a field. */
  headers: Readonly<Record<string, HeaderValue>>;
  /** False when a field named `request` replaced the runtime's: nothing is known about the HTTP request then. */
  headersKnown: boolean;
  /** Query and body fields, without the runtime's own `request` key. */
  params: Readonly<Record<string, unknown>>;
  /** Host (and port) the function was called on, e.g. `example-1234.twil.io`. */
  domainName: string;
  /** The function's path, e.g. `/transfer-to-agent`. */
  path: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function isHeaderValue(value: unknown): value is HeaderValue {
  return typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string'));
}

/**
 * The runtime merges query, body and `{ request: { headers, cookies } }` into
 * one event, so a field called `request` replaces the headers. Anything not
 * shaped like the runtime's object (headers and cookies objects, string
 * header values) is treated as "no headers at all". Deployed Functions never
 * see some headers (Host among them), so nothing more can be required.
 */
function readHeaders(runtimeRequest: unknown): Record<string, HeaderValue> | undefined {
  if (!isPlainObject(runtimeRequest) || !isPlainObject(runtimeRequest.headers) || !isPlainObject(runtimeRequest.cookies)) return undefined;
  const headers: Record<string, HeaderValue> = {};
  for (const [name, value] of Object.entries(runtimeRequest.headers)) {
    if (!isHeaderValue(value)) return undefined;
    headers[name.toLowerCase()] = value;
  }
  return headers;
}

export function readIncomingRequest(event: Record<string, unknown>, domainName: unknown, path: unknown): IncomingRequest {
  const { request: runtimeRequest, ...params } = event;
  const headers = readHeaders(runtimeRequest);
  return {
    headers: headers ?? {},
    headersKnown: headers !== undefined,
    params,
    domainName: typeof domainName === 'string' ? domainName : '',
    path: typeof path === 'string' ? path : '',
  };
}

/** The single value of a header; a header sent twice counts as absent-and-suspicious (`'duplicated'`). */
export function singleHeader(incoming: IncomingRequest, name: string): string | undefined | 'duplicated' {
  const value = incoming.headers[name];
  if (Array.isArray(value)) return value.length === 1 ? value[0] : 'duplicated';
  return value;
}

/**
 * The runtime does not pass the HTTP method on. A POST carries a body; a
 * request with neither a Content-Type nor a positive Content-Length (a GET,
 * a HEAD, a DELETE without body) is refused before anything else happens.
 * When a `request` field hid the headers there is nothing to judge by; such a
 * request can then only authenticate with the Token field.
 */
export function requireBody(incoming: IncomingRequest): void {
  if (!incoming.headersKnown) return;
  const contentType = singleHeader(incoming, 'content-type');
  const contentLength = Number(singleHeader(incoming, 'content-length') ?? '0');
  const hasContentType = typeof contentType === 'string' && contentType.trim() !== '';
  if (!hasContentType && !(contentLength > 0)) throw new MethodNotAllowedError();
}
