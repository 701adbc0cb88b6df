import twilio from 'twilio';
import { hasValidTwilioSignature, type SignedRequest, signedUrlCandidates } from '../../src/core/twilio-signature';
import { readIncomingRequest } from '../../src/http/incoming';
import { AUTH_TOKEN, sid } from '../support/fixtures';

const DOMAIN = 'example-1234.twil.io';
const PATH = '/transfer-to-agent';
const FORM = 'application/x-www-form-urlencoded';

const PARAMS: Record<string, string> = {
  interactionSid: sid('KD', 1),
  channelSid: sid('UO', 2),
  workerSid: sid('WK', 3),
  attributes: '{"source":"studio"}',
};

/** The signature Twilio would send for `url` and `params`, computed by the twilio library itself. */
function signatureFor(url: string, params: Record<string, unknown> = PARAMS, authToken = AUTH_TOKEN): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
}

function request(overrides: Partial<SignedRequest> = {}): SignedRequest {
  return {
    signature: signatureFor(`https://${DOMAIN}${PATH}`),
    contentType: FORM,
    domainName: DOMAIN,
    path: PATH,
    params: PARAMS,
    ...overrides,
  };
}

describe('signedUrlCandidates', () => {
  test('a deployed domain is only signed over https', () => {
    expect(signedUrlCandidates(DOMAIN, PATH)).toEqual([`https://${DOMAIN}${PATH}`]);
  });

  test.each(['localhost', 'localhost:3000', '127.0.0.1', '127.0.0.1:3000'])('local %s is accepted over https and http', (domain) => {
    expect([...signedUrlCandidates(domain, PATH)].sort()).toEqual([`http://${domain}${PATH}`, `https://${domain}${PATH}`].sort());
  });

  test.each(['localhost.evil.example', 'evil-localhost', 'notlocalhost:3000', '127.0.0.1.nip.io', '127.0.0.10', 'localhost:abc'])(
    '%s is not local: https only',
    (domain) => {
      expect(signedUrlCandidates(domain, PATH)).toEqual([`https://${domain}${PATH}`]);
    },
  );
});

describe('hasValidTwilioSignature: accepted', () => {
  test('a signature over https://DOMAIN/PATH and the form params', () => {
    expect(hasValidTwilioSignature(request(), AUTH_TOKEN)).toBe(true);
  });

  test.each([
    'application/x-www-form-urlencoded; charset=UTF-8',
    'Application/X-WWW-Form-Urlencoded',
    ' application/x-www-form-urlencoded ',
  ])('a form content type written as %p', (contentType) => {
    expect(hasValidTwilioSignature(request({ contentType }), AUTH_TOKEN)).toBe(true);
  });

  test('an empty form (no params)', () => {
    const signature = signatureFor(`https://${DOMAIN}${PATH}`, {});
    expect(hasValidTwilioSignature(request({ params: {}, signature }), AUTH_TOKEN)).toBe(true);
  });

  test('a repeated form field (array value)', () => {
    const params = { ...PARAMS, tag: ['a', 'b'] };
    const signature = signatureFor(`https://${DOMAIN}${PATH}`, params);
    expect(hasValidTwilioSignature(request({ params, signature }), AUTH_TOKEN)).toBe(true);
  });

  test.each(['localhost:3000', '127.0.0.1:3000', 'localhost'])('http://%s/PATH when running locally', (domain) => {
    const signature = signatureFor(`http://${domain}${PATH}`);
    expect(hasValidTwilioSignature(request({ domainName: domain, signature }), AUTH_TOKEN)).toBe(true);
  });

  test('https://localhost:3000/PATH when running locally', () => {
    const signature = signatureFor(`https://localhost:3000${PATH}`);
    expect(hasValidTwilioSignature(request({ domainName: 'localhost:3000', signature }), AUTH_TOKEN)).toBe(true);
  });

  test('the other function’s path with its own signature', () => {
    const path = '/transfer-to-queue';
    const signature = signatureFor(`https://${DOMAIN}${path}`);
    expect(hasValidTwilioSignature(request({ path, signature }), AUTH_TOKEN)).toBe(true);
  });
});

describe('hasValidTwilioSignature: rejected', () => {
  test.each(['application/json', 'application/json; charset=utf-8', 'text/plain', 'multipart/form-data; boundary=x', ''])(
    'content type %p, even with a signature that is otherwise valid',
    (contentType) => {
      expect(hasValidTwilioSignature(request({ contentType }), AUTH_TOKEN)).toBe(false);
    },
  );

  test('http:// on a deployed domain', () => {
    const signature = signatureFor(`http://${DOMAIN}${PATH}`);
    expect(hasValidTwilioSignature(request({ signature }), AUTH_TOKEN)).toBe(false);
  });

  test.each([
    ['another domain', `https://attacker.example${PATH}`],
    ['another path', `https://${DOMAIN}/transfer-to-queue`],
    ['a longer path', `https://${DOMAIN}${PATH}/extra`],
    ['a query string', `https://${DOMAIN}${PATH}?workerSid=${sid('WK', 9)}`],
  ])('a signature made for %s', (_label, url) => {
    expect(hasValidTwilioSignature(request({ signature: signatureFor(url) }), AUTH_TOKEN)).toBe(false);
  });

  test.each([
    ['a changed param', { ...PARAMS, workerSid: sid('WK', 0xbad) }],
    ['an added param', { ...PARAMS, priority: '100' }],
    ['a removed param', { interactionSid: PARAMS.interactionSid, channelSid: PARAMS.channelSid, workerSid: PARAMS.workerSid }],
    ['a renamed param', { ...PARAMS, attributes: undefined, Attributes: PARAMS.attributes }],
  ])('%s', (_label, params) => {
    const defined = Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined));
    expect(hasValidTwilioSignature(request({ params: defined }), AUTH_TOKEN)).toBe(false);
  });

  test('a signature made with another auth token', () => {
    const signature = signatureFor(`https://${DOMAIN}${PATH}`, PARAMS, 'ffffffffffffffffffffffffffffffff');
    expect(hasValidTwilioSignature(request({ signature }), AUTH_TOKEN)).toBe(false);
  });

  test.each([
    ['empty', ''],
    ['garbage', 'not-a-signature'],
    ['truncated', signatureFor(`https://${DOMAIN}${PATH}`).slice(0, -2)],
  ])('a signature that is %s', (_label, signature) => {
    expect(hasValidTwilioSignature(request({ signature }), AUTH_TOKEN)).toBe(false);
  });

  test('no domain or path to check against', () => {
    expect(hasValidTwilioSignature(request({ domainName: '' }), AUTH_TOKEN)).toBe(false);
    expect(hasValidTwilioSignature(request({ path: '' }), AUTH_TOKEN)).toBe(false);
  });

  test('params that a form cannot carry (objects, numbers)', () => {
    const params = { ...PARAMS, attributes: { source: 'studio' } };
    const signature = signatureFor(`https://${DOMAIN}${PATH}`, params);
    expect(hasValidTwilioSignature(request({ params, signature }), AUTH_TOKEN)).toBe(false);
  });
});

describe('hasValidTwilioSignature: the runtime’s `request` key', () => {
  function eventWith(signature: string, fields: Record<string, unknown>): Record<string, unknown> {
    return {
      request: { headers: { 'x-twilio-signature': signature, 'content-type': FORM }, cookies: {} },
      ...fields,
    };
  }

  function signedAsReceived(event: Record<string, unknown>): boolean {
    const incoming = readIncomingRequest({ event, domainName: DOMAIN, path: PATH });
    const signature = incoming.headers['x-twilio-signature'];
    const contentType = incoming.headers['content-type'];
    return hasValidTwilioSignature(
      {
        signature: typeof signature === 'string' ? signature : '',
        contentType: typeof contentType === 'string' ? contentType : '',
        domainName: incoming.domainName,
        path: incoming.path,
        params: incoming.params,
      },
      AUTH_TOKEN,
    );
  }

  test('is not part of the signed params', () => {
    expect(signedAsReceived(eventWith(signatureFor(`https://${DOMAIN}${PATH}`), PARAMS))).toBe(true);
  });

  test('a signature that covers a `request` param does not validate the request without it', () => {
    const signature = signatureFor(`https://${DOMAIN}${PATH}`, { ...PARAMS, request: 'x' });
    expect(signedAsReceived(eventWith(signature, PARAMS))).toBe(false);
  });

  test('a `request` form field replacing the runtime’s headers leaves no signature to accept', () => {
    const signature = signatureFor(`https://${DOMAIN}${PATH}`);
    const event = { ...eventWith(signature, PARAMS), request: `x-twilio-signature=${signature}` };
    expect(signedAsReceived(event)).toBe(false);
  });
});
