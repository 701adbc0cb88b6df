import { type HeaderValue, type IncomingRequest, singleHeader } from '../core/request';
import { InvalidRequestError, MethodNotAllowedError, UnsupportedMediaTypeError } from '../errors';

export type { IncomingRequest } from '../core/request';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function isHeaderValue(value: unknown): value is HeaderValue {
  return typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string'));
}

/**
 * The runtime builds `event` as `{ request: { headers, cookies }, ...query, ...body }`,
 * so a field called `request` replaces it. The runtime's object has plain
 * `headers` with string values (and `cookies`, which older runtimes omit);
 * anything else is a caller's field. A forgery of exactly that shape cannot be
 * told apart (deployed Functions never receive Host, so no header can be
 * required as a tell); it can only present credentials its sender holds.
 */
function readHeaders(runtimeRequest: unknown): Record<string, HeaderValue> | undefined {
  if (!isPlainObject(runtimeRequest) || !isPlainObject(runtimeRequest.headers)) return undefined;
  if (runtimeRequest.cookies !== undefined && !isPlainObject(runtimeRequest.cookies)) return undefined;
  // No prototype: a forged header named __proto__ is just a header.
  const headers = Object.create(null) as Record<string, HeaderValue>;
  for (const [name, value] of Object.entries(runtimeRequest.headers)) {
    if (!isHeaderValue(value)) return undefined;
    headers[name.toLowerCase()] = value;
  }
  return headers;
}

export function readIncomingRequest(options: {
  event: Readonly<Record<string, unknown>>;
  domainName: unknown;
  path: unknown;
}): IncomingRequest {
  const { request: runtimeRequest, ...params } = options.event;
  const headers = runtimeRequest === undefined ? undefined : readHeaders(runtimeRequest);
  return {
    headers: headers ?? {},
    headersKnown: headers !== undefined,
    params,
    domainName: typeof options.domainName === 'string' ? options.domainName : '',
    path: typeof options.path === 'string' ? options.path : '',
    reservedFieldMisused: runtimeRequest !== undefined && headers === undefined,
  };
}

const PARSED_CONTENT_TYPES = /^(application\/json|application\/x-www-form-urlencoded)\b/i;

/** A form body that is really one JSON text (curl -d '{...}' without a Content-Type) parses as a single odd field name. */
function looksLikeJsonSentAsForm(params: Readonly<Record<string, unknown>>): boolean {
  const names = Object.keys(params);
  return names.length === 1 && /^\s*[[{]/.test(names[0] as string);
}

/**
 * Checks that the request is one the functions can read, before anything else:
 * the `request` field is reserved; the runtime does not pass the HTTP method
 * on, so a request without a body (neither Content-Type nor a positive
 * Content-Length: a GET, a HEAD) is refused; and only the two body types the
 * runtime parses are read.
 */
export function checkIncoming(incoming: IncomingRequest): void {
  if (incoming.reservedFieldMisused) {
    throw new InvalidRequestError([{ field: 'request', message: 'is reserved by the Twilio runtime: do not send a field with this name' }]);
  }
  if (!incoming.headersKnown) return;
  const contentType = singleHeader(incoming, 'content-type')?.trim() ?? '';
  const contentLength = Number(singleHeader(incoming, 'content-length') ?? '0');
  if (contentType === '' && !(contentLength > 0)) throw new MethodNotAllowedError();
  if (!PARSED_CONTENT_TYPES.test(contentType)) throw new UnsupportedMediaTypeError(contentType);
  if (/^application\/x-www-form-urlencoded\b/i.test(contentType) && looksLikeJsonSentAsForm(incoming.params)) {
    throw new UnsupportedMediaTypeError(contentType);
  }
}
