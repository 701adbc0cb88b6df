import { createHash } from 'node:crypto';
import type { Caller } from '../../src/core/authenticate';
import { claimKey, twilioDidNotAct } from '../../src/core/idempotency';
import type { KeyStore } from '../../src/core/key-store';
import { fingerprintOf, idempotencyKey, readIdempotencyKeyInto } from '../../src/core/idempotency-key';
import {
  ConflictError,
  type Failure,
  type FieldProblem,
  ForbiddenError,
  InternalError,
  InvalidRequestError,
  TwilioApiError,
  UnauthenticatedError,
  UpstreamConnectionLostError,
  UpstreamMalformedAnswerError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from '../../src/errors';
import { failureToHttp } from '../../src/http/errors';
import { type IncomingRequest, readIncomingRequest } from '../../src/http/incoming';
import { ACCOUNT_SID, refusalOf, sid } from '../support/fixtures';

const FIELDS = { interactionSid: sid('KD', 1), channelSid: sid('UO', 2), workerSid: sid('WK', 3) };

function incoming(options: { header?: string | string[]; field?: unknown }) {
  const headers: Record<string, string | string[]> = { 'content-type': 'application/json' };
  if (options.header !== undefined) headers['idempotency-key'] = options.header;
  const fields = options.field === undefined ? FIELDS : { ...FIELDS, idempotencyKey: options.field };
  return readIncomingRequest({
    event: { request: { headers, cookies: {} }, ...fields },
    domainName: 'x.twil.io',
    path: '/transfer-to-agent',
  });
}

/** The key as a function reads it: a malformed one is refused with 400, like any other bad field. */
function readIdempotencyKey(request: IncomingRequest): string | undefined {
  const problems: FieldProblem[] = [];
  const key = readIdempotencyKeyInto(request, problems);
  if (problems.length > 0) throw new InvalidRequestError(problems);
  return key;
}

describe('readIdempotencyKey', () => {
  test('from the Idempotency-Key header', () => {
    expect(readIdempotencyKey(incoming({ header: 'click-1' }))).toBe('click-1');
  });

  test('from the idempotencyKey field (Studio)', () => {
    expect(readIdempotencyKey(incoming({ field: 'FN123-step-2' }))).toBe('FN123-step-2');
  });

  test('both, equal: the key', () => {
    expect(readIdempotencyKey(incoming({ header: 'same', field: 'same' }))).toBe('same');
  });

  test('none: no key, nothing refused', () => {
    expect(readIdempotencyKey(incoming({ field: undefined }))).toBeUndefined();
  });

  test.each([[''], ['   ']])('v3: an empty or blank field (%p) is a malformed key -> 400, never "no key"', (field) => {
    expect(refusalOf(() => readIdempotencyKey(incoming({ field })))).toMatchObject({ status: 400, fields: ['idempotencyKey'] });
  });

  test('both, different -> 400 naming idempotencyKey', () => {
    expect(refusalOf(() => readIdempotencyKey(incoming({ header: 'one', field: 'two' })))).toMatchObject({
      status: 400,
      details: [{ field: 'idempotencyKey', message: expect.stringContaining('differs') }],
    });
  });

  test('the header sent twice -> 400', () => {
    expect(refusalOf(() => readIdempotencyKey(incoming({ header: ['a', 'b'] })))).toMatchObject({
      status: 400,
      details: [{ field: 'idempotencyKey' }],
    });
  });

  test('255 printable ASCII characters are accepted', () => {
    const key = ' !"#$%&()*+,-./0123456789:;<=>?@AZ[\\]^_`az{|}~'.padEnd(255, 'k');
    expect(readIdempotencyKey(incoming({ header: key }))).toBe(key);
    expect(readIdempotencyKey(incoming({ field: key }))).toBe(key);
  });

  test.each([
    ['256 characters', 'k'.repeat(256)],
    ['a non-ASCII letter', 'clé-1'],
    ['an emoji', 'key-🙂'],
    ['a newline', 'key\n1'],
    ['a tab', 'key\t1'],
  ])('%s -> 400 naming idempotencyKey', (_label, key) => {
    expect(refusalOf(() => readIdempotencyKey(incoming({ field: key })))).toMatchObject({
      status: 400,
      details: [{ field: 'idempotencyKey' }],
    });
  });

  test('256 characters in the header -> 400 too', () => {
    expect(refusalOf(() => readIdempotencyKey(incoming({ header: 'k'.repeat(256) })))).toMatchObject({ status: 400 });
  });

  test.each([[42], [{ key: 'x' }], [['a']]])('a field that is not a string (%p) -> 400', (field) => {
    expect(refusalOf(() => readIdempotencyKey(incoming({ field })))).toMatchObject({
      status: 400,
      details: [{ field: 'idempotencyKey', message: 'must be a string' }],
    });
  });
});

describe('fingerprintOf: what makes two requests the same', () => {
  const agent: Caller = { kind: 'flex-token', workerSid: sid('WK', 0xa), roles: ['agent'] };
  const print = (params: Record<string, unknown>, caller: Caller = agent, functionName = 'transfer-to-agent') =>
    fingerprintOf({ functionName, fields: params, caller });
  const body = { ...FIELDS, transferType: 'cold', attributes: { a: 1 } };

  test('field order does not matter', () => {
    const reversed = Object.fromEntries(Object.entries(body).reverse());
    expect(print(reversed)).toBe(print(body));
  });

  test('the order of keys inside attributes does not matter', () => {
    expect(print({ ...body, attributes: { b: { y: 1, x: 2 }, a: 1 } })).toBe(print({ ...body, attributes: { a: 1, b: { x: 2, y: 1 } } }));
  });

  test.each<[string, Record<string, unknown>]>([
    ['a changed field', { ...body, workerSid: sid('WK', 9) }],
    ['an added field', { ...body, priority: 5 }],
    ['a removed field', { interactionSid: body.interactionSid, channelSid: body.channelSid, workerSid: body.workerSid }],
    ['a changed nested attribute', { ...body, attributes: { a: 2 } }],
  ])('the body does: %s', (_label, other) => {
    expect(print(other)).not.toBe(print(body));
  });

  test.each<[string, Caller]>([
    ['another agent', { kind: 'flex-token', workerSid: sid('WK', 0xb), roles: ['agent'] }],
    ['a Basic caller', { kind: 'basic' }],
    ['a signed caller', { kind: 'twilio-signature' }],
    ['a token without a worker', { kind: 'flex-token', workerSid: undefined, roles: ['admin'] }],
  ])('the caller does: %s', (_label, caller) => {
    expect(print(body, caller)).not.toBe(print(body));
  });

  test('the same agent with other roles is the same caller', () => {
    expect(print(body, { ...agent, roles: ['agent', 'supervisor'] } as Caller)).toBe(print(body));
  });

  test('the function does', () => {
    expect(print(body, agent, 'transfer-to-queue')).not.toBe(print(body));
  });
});

describe('idempotencyKey: what is stored', () => {
  const options = {
    key: 'click-1',
    accountSid: ACCOUNT_SID,
    functionName: 'transfer-to-agent',
    fields: FIELDS,
    caller: { kind: 'basic' } as Caller,
  };

  test('the key is stored only as a SHA-256 hash, scoped to the account', () => {
    const { hash } = idempotencyKey(options);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(createHash('sha256').update(`${ACCOUNT_SID}:click-1`).digest('hex'));
    expect(hash).not.toContain('click-1');
  });

  test('another account or another key gives another hash', () => {
    const { hash } = idempotencyKey(options);
    expect(idempotencyKey({ ...options, accountSid: sid('AC', 0xb) }).hash).not.toBe(hash);
    expect(idempotencyKey({ ...options, key: 'click-2' }).hash).not.toBe(hash);
  });

  test('the fingerprint is the request’s', () => {
    expect(idempotencyKey(options).fingerprint).toBe(fingerprintOf(options));
  });
});

describe('twilioDidNotAct: when a failed first attempt frees its key', () => {
  const twilio = (status: number) => new TwilioApiError({ operation: 'invite-create', status });

  test.each<[string, Failure]>([
    ['Twilio refused the invite (400)', twilio(400)],
    ['Twilio found nothing (404)', twilio(404)],
    ['Twilio reported a conflict (409)', twilio(409)],
    ['Twilio rate-limited it (429)', twilio(429)],
    ['Twilio was unavailable (503)', twilio(503)],
    ['Twilio could not be reached', new UpstreamUnavailableError('invite-create')],
    ['a check refused the request', new InvalidRequestError([])],
    ['the caller was not allowed', new ForbiddenError('no')],
    ['the caller was not authenticated', new UnauthenticatedError('no credential')],
    ['a conflict found before the invite', new ConflictError({ message: 'no' })],
  ])('released: %s', (_label, failure) => {
    expect(twilioDidNotAct(failure)).toBe(true);
  });

  test.each<[string, Failure]>([
    ['Twilio failed (500)', twilio(500)],
    ['a bad gateway (502)', twilio(502)],
    ['a gateway timeout (504)', twilio(504)],
    ['no answer in time', new UpstreamTimeoutError('invite-create')],
    ['the connection broke', new UpstreamConnectionLostError('invite-create')],
    ['an answer not understood', new UpstreamMalformedAnswerError('invite-create', { detail: 'not JSON' })],
    ['a defect of ours', new InternalError({ cause: new Error('bug') })],
  ])('kept (the invite may exist): %s', (_label, failure) => {
    expect(twilioDidNotAct(failure)).toBe(false);
  });
});

describe('claimKey: the claim protocol against any KeyStore', () => {
  const key = { hash: 'h', fingerprint: 'f' };
  const now = () => 1_000_000;

  /** A store whose record vanishes (expires) between each lost create and the read that follows; a create wins on `winsOnTry`. */
  function expiringStore(winsOnTry?: number): KeyStore & { creates: number } {
    const store = {
      creates: 0,
      createIfAbsent: async () => (store.creates += 1) === winsOnTry,
      read: async () => undefined,
      replace: async () => 'replaced' as const,
      delete: async () => undefined,
    };
    return store;
  }

  test('a record that expired between the lost create and the read is claimed again', async () => {
    const store = expiringStore(2);
    await expect(claimKey({ store, key, now })).resolves.toEqual({ kind: 'first' });
    expect(store.creates).toBe(2);
  });

  test('twice in a row: 409, retry shortly with the same key', async () => {
    const store = expiringStore();
    const refusal = await claimKey({ store, key, now }).catch((thrown: unknown) => thrown);
    expect(refusal).toBeInstanceOf(ConflictError);
    expect(failureToHttp(refusal as ConflictError)).toMatchObject({ status: 409, headers: { 'Retry-After': '1' } });
    expect(store.creates).toBe(2);
  });
});
