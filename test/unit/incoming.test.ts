import { readHeader, singleHeader } from '../../src/core/request';
import { checkIncoming, type IncomingRequest, readIncomingRequest } from '../../src/http/incoming';
import { runtimeEvent as eventAsTheRuntimeBuildsIt } from '../support/in-process';
import { refusalIfAny, sid } from '../support/fixtures';

const DOMAIN = 'example-1234.twil.io';
const PATH = '/transfer-to-queue';
const FIELDS = { interactionSid: sid('KD', 1), channelSid: sid('UO', 2), queueSid: sid('WQ', 3) };
const JSON_HEADERS = { 'content-type': 'application/json', 'content-length': '120' };

/** An event as the runtime builds it: its `request` object, then query and body fields. */
function runtimeEvent(headers: Record<string, unknown>, fields: Record<string, unknown> = FIELDS): Record<string, unknown> {
  return { request: { headers, cookies: {} }, ...fields };
}

function read(event: Record<string, unknown>): IncomingRequest {
  return readIncomingRequest({ event, domainName: DOMAIN, path: PATH });
}

function incomingWith(headers: Record<string, string | string[]>, fields: Record<string, unknown> = FIELDS): IncomingRequest {
  return read(runtimeEvent(headers, fields));
}

describe('readIncomingRequest', () => {
  test('separates the runtime’s headers from the request fields', () => {
    const incoming = incomingWith({ 'content-type': 'application/json' });
    expect(incoming.params).toEqual(FIELDS);
    expect(incoming.headers['content-type']).toBe('application/json');
    expect(incoming.headersKnown).toBe(true);
    expect(incoming.reservedFieldMisused).toBe(false);
    expect(incoming.domainName).toBe(DOMAIN);
    expect(incoming.path).toBe(PATH);
  });

  test('header names are matched case-insensitively', () => {
    const incoming = incomingWith({ 'X-Twilio-Signature': 'abc', Authorization: 'Basic x' });
    expect(singleHeader(incoming, 'x-twilio-signature')).toBe('abc');
    expect(singleHeader(incoming, 'authorization')).toBe('Basic x');
  });

  test('the runtime’s request object without cookies (older runtimes, the deployed one) still gives the headers', () => {
    const incoming = read({ request: { headers: { authorization: 'Bearer t', 'content-type': 'application/json' } }, ...FIELDS });
    expect(incoming.headersKnown).toBe(true);
    expect(incoming.reservedFieldMisused).toBe(false);
    expect(singleHeader(incoming, 'authorization')).toBe('Bearer t');
    expect(incoming.params).toEqual(FIELDS);
  });

  test('no `request` object at all: nothing is known about the headers, and nothing was misused', () => {
    const incoming = read({ ...FIELDS });
    expect(incoming.headersKnown).toBe(false);
    expect(incoming.reservedFieldMisused).toBe(false);
    expect(incoming.headers).toEqual({});
  });

  test.each<[string, unknown]>([
    ['a string (form field)', 'authorization=Basic abc'],
    ['a list', ['Basic abc']],
    ['an object without headers', { authorization: 'Basic abc' }],
    ['an object whose headers are not strings', { headers: { authorization: { value: 'Basic abc' } } }],
    ['an object whose headers are a list of numbers', { headers: { authorization: [1, 2] } }],
    ['an object whose headers are a string', { headers: 'authorization: Basic abc' }],
    ['an object whose cookies are a string', { headers: { authorization: 'Basic abc' }, cookies: 'a=b' }],
    ['null', null],
  ])('a `request` field shaped as %s gives no headers and is marked as misused', (_label, shadow) => {
    const incoming = read({ ...runtimeEvent({ authorization: 'Bearer real' }), request: shadow });
    expect(incoming.headers).toEqual({});
    expect(incoming.headersKnown).toBe(false);
    expect(incoming.reservedFieldMisused).toBe(true);
    expect(singleHeader(incoming, 'authorization')).toBeUndefined();
    expect(incoming.params).not.toHaveProperty('request');
  });

  test.each([[undefined], [42], [{ host: DOMAIN }]])('a missing or odd domain/path (%p) becomes empty', (value) => {
    const incoming = readIncomingRequest({ event: runtimeEvent({}), domainName: value, path: value });
    expect(incoming.domainName).toBe('');
    expect(incoming.path).toBe('');
  });
});

describe('readHeader and singleHeader', () => {
  test('a header sent once', () => {
    expect(readHeader(incomingWith({ authorization: 'Bearer t' }), 'authorization')).toEqual({ kind: 'single', value: 'Bearer t' });
    expect(singleHeader(incomingWith({ authorization: 'Bearer t' }), 'authorization')).toBe('Bearer t');
    expect(singleHeader(incomingWith({ authorization: ['Bearer t'] }), 'authorization')).toBe('Bearer t');
  });

  test('a header sent twice is reported as repeated and has no single value', () => {
    const incoming = incomingWith({ authorization: ['Bearer a', 'Basic b'] });
    expect(readHeader(incoming, 'authorization')).toEqual({ kind: 'repeated' });
    expect(singleHeader(incoming, 'authorization')).toBeUndefined();
  });

  test('a header whose value is literally "duplicated" is an ordinary value', () => {
    const incoming = incomingWith({ authorization: 'duplicated' });
    expect(readHeader(incoming, 'authorization')).toEqual({ kind: 'single', value: 'duplicated' });
  });

  test('an absent header', () => {
    expect(readHeader(incomingWith({}), 'authorization')).toEqual({ kind: 'absent' });
    expect(singleHeader(incomingWith({}), 'authorization')).toBeUndefined();
  });

  test('repeated headers as the local runtime builds them', () => {
    const event = eventAsTheRuntimeBuildsIt({ json: FIELDS, headers: { 'X-Twilio-Signature': ['a', 'b'] } });
    expect(readHeader(read(event), 'x-twilio-signature')).toEqual({ kind: 'repeated' });
  });
});

describe('checkIncoming: the reserved `request` field', () => {
  test.each<[string, unknown]>([
    ['a string', 'x'],
    ['an array', ['a', 'b']],
    ['an object without headers', { method: 'POST' }],
    ['an object with a header that is not a string', { headers: { 'content-type': 'application/json', authorization: 42 } }],
    ['an object with nested header values', { headers: { authorization: { scheme: 'Bearer' } } }],
    ['a number', 7],
  ])('shaped as %s -> 400 naming `request`', (_label, shadow) => {
    expect(refusalIfAny(() => checkIncoming(read({ ...runtimeEvent(JSON_HEADERS), request: shadow })))).toMatchObject({
      status: 400,
      code: 'invalid_request',
      fields: ['request'],
    });
  });

  test.each([
    ['JSON body', { json: { ...FIELDS, request: 'x' } }],
    ['form body', { form: { ...FIELDS, request: 'x' } }],
    ['query string', { json: FIELDS, query: { request: 'x' } }],
  ])('sent in a %s (as the local runtime spreads it over its own) -> 400', (_label, request) => {
    expect(refusalIfAny(() => checkIncoming(read(eventAsTheRuntimeBuildsIt(request))))).toMatchObject({ status: 400, fields: ['request'] });
  });

  test.each([
    ['with cookies', { headers: JSON_HEADERS, cookies: {} }],
    ['without cookies', { headers: JSON_HEADERS }],
    ['with repeated headers as lists', { headers: { ...JSON_HEADERS, 'x-forwarded-for': ['a', 'b'] }, cookies: { session: 'x' } }],
  ])('the runtime’s own shape %s is accepted', (_label, runtimeRequest) => {
    expect(refusalIfAny(() => checkIncoming(read({ request: runtimeRequest, ...FIELDS })))).toBeUndefined();
  });

  test('a refused `request` field is reported before the missing body', () => {
    // A GET whose query string carries `request=x` must not slip past the method rule as "headers unknown".
    expect(refusalIfAny(() => checkIncoming(read({ ...runtimeEvent({}), request: 'x' })))).toMatchObject({
      status: 400,
      fields: ['request'],
    });
  });
});

describe('checkIncoming: POST with a body only', () => {
  test.each<[string, Record<string, string>]>([
    ['a JSON body', JSON_HEADERS],
    ['a JSON body with a charset', { 'content-type': 'application/json; charset=utf-8', 'content-length': '2' }],
    ['a form body', { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '80' }],
    ['a form body with a charset', { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' }],
    ['a Content-Type alone', { 'content-type': 'application/json' }],
    ['a content type in capitals', { 'content-type': 'Application/JSON' }],
  ])('%s is accepted', (_label, headers) => {
    expect(refusalIfAny(() => checkIncoming(incomingWith(headers)))).toBeUndefined();
  });

  test.each<[string, Record<string, string>]>([
    ['a GET with a query string (no body headers)', { host: DOMAIN, accept: '*/*' }],
    ['Content-Length 0 and no Content-Type', { 'content-length': '0' }],
    ['no headers at all', {}],
  ])('%s -> 405 method_not_allowed', (_label, headers) => {
    expect(refusalIfAny(() => checkIncoming(incomingWith(headers)))).toMatchObject({ status: 405, code: 'method_not_allowed', fields: [] });
  });

  test('a GET as the local runtime builds it -> 405', () => {
    expect(refusalIfAny(() => checkIncoming(read(eventAsTheRuntimeBuildsIt({ query: FIELDS }))))).toMatchObject({ status: 405 });
  });

  test('no `request` object at all (nothing known of the HTTP request) is left to authentication', () => {
    expect(refusalIfAny(() => checkIncoming(read({ ...FIELDS })))).toBeUndefined();
  });
});

describe('checkIncoming: only the body types the runtime parses', () => {
  test.each<[string, Record<string, string>]>([
    ['text/plain', { 'content-type': 'text/plain', 'content-length': '20' }],
    ['multipart/form-data', { 'content-type': 'multipart/form-data; boundary=----x', 'content-length': '200' }],
    ['application/xml', { 'content-type': 'application/xml', 'content-length': '20' }],
    ['a body without a Content-Type', { 'content-length': '20' }],
    ['a look-alike type', { 'content-type': 'application/jsonp', 'content-length': '20' }],
  ])('%s -> 415 unsupported_media_type', (_label, headers) => {
    expect(refusalIfAny(() => checkIncoming(incomingWith(headers)))).toMatchObject({
      status: 415,
      code: 'unsupported_media_type',
      fields: [],
    });
  });

  test.each([
    ['an object', JSON.stringify(FIELDS)],
    ['an array', '[1,2]'],
    ['an object after spaces', '   {"interactionSid":"KD"}'],
  ])('a form body that is one JSON text (%s, curl -d without a Content-Type) -> 415', (_label, body) => {
    const event = eventAsTheRuntimeBuildsIt({ raw: { contentType: 'application/x-www-form-urlencoded', body } });
    expect(refusalIfAny(() => checkIncoming(read(event)))).toMatchObject({ status: 415, code: 'unsupported_media_type', fields: [] });
  });

  test('a form body whose one field merely holds JSON is an ordinary form', () => {
    const event = eventAsTheRuntimeBuildsIt({ form: { attributes: '{"a":1}' } });
    expect(refusalIfAny(() => checkIncoming(read(event)))).toBeUndefined();
  });

  test('the same JSON text sent as JSON is accepted', () => {
    expect(refusalIfAny(() => checkIncoming(read(eventAsTheRuntimeBuildsIt({ json: FIELDS }))))).toBeUndefined();
  });
});

describe('a forged header named __proto__', () => {
  test('is an ordinary header: it changes no other header and no object', () => {
    const incoming = readIncomingRequest({
      event: { request: JSON.parse('{"headers":{"__proto__":["x"],"content-type":"application/json"},"cookies":{}}') },
      domainName: 'example.twil.io',
      path: '/transfer-to-queue',
    });
    expect(readHeader(incoming, '__proto__')).toEqual({ kind: 'single', value: 'x' });
    expect(readHeader(incoming, 'length')).toEqual({ kind: 'absent' });
    expect(singleHeader(incoming, 'content-type')).toBe('application/json');
    expect(({} as Record<string, unknown>).length).toBeUndefined();
  });
});
