import { asTransferFailure } from '../../src/lib/errors';
import { failureToHttp } from '../../src/lib/http-errors';
import { type IncomingRequest, readIncomingRequest, requireBody, singleHeader } from '../../src/lib/incoming';
import { sid } from './fixtures';

const DOMAIN = 'example-1234.twil.io';
const PATH = '/transfer-to-queue';
const FIELDS = { interactionSid: sid('KD', 1), channelSid: sid('UO', 2), queueSid: sid('WQ', 3) };

/** An event as the runtime builds it: its `request` object, then query and body fields. */
function runtimeEvent(headers: Record<string, unknown>, fields: Record<string, unknown> = FIELDS): Record<string, unknown> {
  return { request: { headers, cookies: {} }, ...fields };
}

function incomingWith(headers: Record<string, string | string[]>): IncomingRequest {
  return readIncomingRequest(runtimeEvent(headers), DOMAIN, PATH);
}

/** The HTTP status requireBody leads to, or undefined when the request may proceed. */
function bodyCheckStatus(incoming: IncomingRequest): number | undefined {
  try {
    requireBody(incoming);
    return undefined;
  } catch (error) {
    return failureToHttp(asTransferFailure(error)).status;
  }
}

describe('readIncomingRequest', () => {
  test('separates the runtime’s headers from the request fields', () => {
    const incoming = readIncomingRequest(runtimeEvent({ 'content-type': 'application/json' }), DOMAIN, PATH);
    expect(incoming.params).toEqual(FIELDS);
    expect(incoming.headers['content-type']).toBe('application/json');
    expect(incoming.domainName).toBe(DOMAIN);
    expect(incoming.path).toBe(PATH);
  });

  test('header names are matched case-insensitively', () => {
    const incoming = readIncomingRequest(runtimeEvent({ 'X-Twilio-Signature': 'abc', Authorization: 'Basic x' }), DOMAIN, PATH);
    expect(singleHeader(incoming, 'x-twilio-signature')).toBe('abc');
    expect(singleHeader(incoming, 'authorization')).toBe('Basic x');
  });

  test('a `request` field is never a request field', () => {
    const incoming = readIncomingRequest({ ...FIELDS, request: 'from-the-body' }, DOMAIN, PATH);
    expect(incoming.params).not.toHaveProperty('request');
    expect(incoming.params).toEqual(FIELDS);
  });

  test.each<[string, unknown]>([
    ['a string (form field)', 'authorization=Basic abc'],
    ['a list', ['Basic abc']],
    ['an object whose headers are not strings', { headers: { authorization: { value: 'Basic abc' } } }],
    ['an object whose headers are a string', { headers: 'authorization: Basic abc' }],
    ['null', null],
  ])('a `request` field shaped as %s gives no headers at all', (_label, shadow) => {
    const incoming = readIncomingRequest({ ...runtimeEvent({ authorization: 'Bearer real' }), request: shadow }, DOMAIN, PATH);
    expect(incoming.headers).toEqual({});
    expect(singleHeader(incoming, 'authorization')).toBeUndefined();
    expect(incoming.params).not.toHaveProperty('request');
  });

  test.each([[undefined], [42], [{ host: DOMAIN }]])('a missing or odd domain/path (%p) becomes empty', (value) => {
    const incoming = readIncomingRequest(runtimeEvent({}), value, value);
    expect(incoming.domainName).toBe('');
    expect(incoming.path).toBe('');
  });
});

describe('singleHeader', () => {
  test('a header sent once', () => {
    expect(singleHeader(incomingWith({ authorization: 'Bearer t' }), 'authorization')).toBe('Bearer t');
    expect(singleHeader(incomingWith({ authorization: ['Bearer t'] }), 'authorization')).toBe('Bearer t');
  });

  test('a header sent twice is not taken at face value', () => {
    expect(singleHeader(incomingWith({ authorization: ['Bearer a', 'Basic b'] }), 'authorization')).toBe('duplicated');
  });

  test('an absent header', () => {
    expect(singleHeader(incomingWith({}), 'authorization')).toBeUndefined();
  });
});

describe('requireBody: POST only', () => {
  test.each<[string, Record<string, string>]>([
    ['a JSON body', { 'content-type': 'application/json', 'content-length': '120' }],
    ['a form body', { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '80' }],
    ['a Content-Type alone', { 'content-type': 'application/json' }],
    ['a positive Content-Length alone', { 'content-length': '12' }],
  ])('%s is accepted', (_label, headers) => {
    expect(bodyCheckStatus(incomingWith(headers))).toBeUndefined();
  });

  test.each<[string, Record<string, string>]>([
    ['a GET with a query string (no body headers)', { host: DOMAIN, accept: '*/*' }],
    ['Content-Length 0 and no Content-Type', { 'content-length': '0' }],
    ['no headers at all', {}],
  ])('%s -> 405', (_label, headers) => {
    expect(bodyCheckStatus(incomingWith(headers))).toBe(405);
  });

  test('the 405 carries the method_not_allowed code', () => {
    let thrown: unknown;
    try {
      requireBody(incomingWith({}));
    } catch (error) {
      thrown = error;
    }
    expect(failureToHttp(asTransferFailure(thrown)).body.error.code).toBe('method_not_allowed');
  });

  test("a `request` object missing the runtime's cookies is not taken for the runtime's", () => {
    const forged = { request: { headers: { authorization: 'Basic c3R1ZGlvOnNlY3JldA==', 'content-type': 'application/json' } } };
    const incoming = readIncomingRequest({ ...forged, ...FIELDS }, DOMAIN, PATH);
    expect(incoming.headersKnown).toBe(false);
    expect(singleHeader(incoming, 'authorization')).toBeUndefined();
  });

  test('a `request` field hiding the runtime headers leaves the method unknown: the gate defers to authentication', () => {
    // The runtime spreads fields over its own `request` key, so neither the method nor any header can be known.
    // Documented choice (README, "What is never accepted"): no header credential is read, only the Token field can
    // authenticate such a request; refusing it here would also refuse a POST that merely carries a `request` field.
    const incoming = readIncomingRequest({ ...runtimeEvent({ host: DOMAIN }), request: 'x' }, DOMAIN, PATH);
    expect(incoming.headersKnown).toBe(false);
    expect(incoming.headers).toEqual({});
    expect(() => requireBody(incoming)).not.toThrow();
  });
});
