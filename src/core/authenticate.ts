import type { Settings } from '../config';
import { ForbiddenError, UnauthenticatedError } from '../errors';
import { type IncomingRequest, readHeader, singleHeader } from './request';
import type { FlexTokenIdentity } from '../twilio/tokens';
import { basicCredentialsMatch, parseBasicAuthorization } from './basic-auth';
import type { FlexTokenVerifier } from './flex-token';
import { hasValidTwilioSignature } from './twilio-signature';

/** Who is asking, as proven by one credential. */
export type Caller =
  { kind: 'flex-token'; workerSid: string | undefined; roles: readonly string[] } | { kind: 'twilio-signature' } | { kind: 'basic' };

export interface AuthenticationOptions {
  settings: Settings;
  verifier: FlexTokenVerifier;
  validate: (token: string) => Promise<FlexTokenIdentity>;
  /** Accept a Twilio signature only (TaskRouter's event callback). */
  signedOnly?: boolean | undefined;
}

function bearerToken(authorization: string | undefined): string | undefined {
  const match = authorization === undefined ? null : /^\s*Bearer[ ]+(\S+)\s*$/i.exec(authorization);
  return match?.[1];
}

/** The Flex token from the `Token` field or an `Authorization: Bearer` header; both, when different, is refused. */
function presentedFlexToken(incoming: IncomingRequest, authorization: string | undefined): string | undefined {
  const field = incoming.params.Token;
  if (field !== undefined && typeof field !== 'string') throw new UnauthenticatedError('the Token field is not a string');
  // A token pasted with a trailing newline or spaces is the same token.
  const trimmed = field?.trim();
  const fromField = trimmed === '' ? undefined : trimmed;
  const fromHeader = bearerToken(authorization);
  if (fromField !== undefined && fromHeader !== undefined && fromField !== fromHeader) {
    throw new UnauthenticatedError('the Token field and the Bearer token differ');
  }
  return fromField ?? fromHeader;
}

/**
 * Who is asking, as well as the request tells: the client address where the
 * runtime passes one (Twilio Functions withhold X-Forwarded-*), else the
 * browser's Origin and User-Agent. A flooder can vary these; the budget's
 * global bound still holds, and an ordinary flood from one tool stays within
 * its share.
 */
function sourceOf(incoming: IncomingRequest): string {
  const forwarded = singleHeader(incoming, 'x-forwarded-for')?.split(',')[0]?.trim();
  if (forwarded !== undefined && forwarded !== '') return `address:${forwarded}`;
  return `client:${singleHeader(incoming, 'origin') ?? ''}|${singleHeader(incoming, 'user-agent') ?? ''}`;
}

async function identify(incoming: IncomingRequest, options: AuthenticationOptions): Promise<Caller> {
  const { settings } = options;
  const authorizationRead = readHeader(incoming, 'authorization');
  const signatureRead = readHeader(incoming, 'x-twilio-signature');
  if (authorizationRead.kind === 'repeated' || signatureRead.kind === 'repeated') {
    throw new UnauthenticatedError('a credential header was sent more than once');
  }
  const authorization = authorizationRead.kind === 'single' ? authorizationRead.value : undefined;
  const signature = signatureRead.kind === 'single' ? signatureRead.value : undefined;

  if (signature !== undefined) {
    const contentType = readHeader(incoming, 'content-type');
    const signed = hasValidTwilioSignature(
      {
        signature,
        contentType: contentType.kind === 'single' ? contentType.value : '',
        domainName: incoming.domainName,
        path: incoming.path,
        params: incoming.params,
      },
      settings.authToken,
    );
    if (signed) return { kind: 'twilio-signature' };
  }
  if (options.signedOnly === true) {
    throw new UnauthenticatedError(
      signature === undefined ? 'only a Twilio signature is accepted here' : 'the X-Twilio-Signature does not match',
    );
  }

  const basic = authorization === undefined ? undefined : parseBasicAuthorization(authorization);
  if (basic !== undefined && settings.basicAuth !== undefined && basicCredentialsMatch(basic, settings.basicAuth)) {
    return { kind: 'basic' };
  }

  const token = presentedFlexToken(incoming, authorization);
  if (token !== undefined) {
    const identity = await options.verifier.verify(token, {
      cacheSeconds: settings.tokenCacheSeconds,
      validate: options.validate,
      source: sourceOf(incoming),
    });
    if (!identity.roles.some((role) => settings.allowedRoles.has(role))) {
      throw new ForbiddenError('Your Flex role is not allowed to use this function.');
    }
    return { kind: 'flex-token', workerSid: identity.workerSid, roles: identity.roles };
  }

  if (signature !== undefined) throw new UnauthenticatedError('the X-Twilio-Signature does not match');
  if (basic !== undefined) throw new UnauthenticatedError('the Basic credentials were refused');
  throw new UnauthenticatedError('no credential');
}

/**
 * Accepts exactly the credentials of the contract, cheapest check first:
 * a Twilio signature, HTTP Basic (when enabled), then a Flex token, which
 * costs a round trip to Twilio unless recently validated.
 */
export async function authenticate(incoming: IncomingRequest, options: AuthenticationOptions): Promise<Caller> {
  try {
    return await identify(incoming, options);
  } catch (thrown) {
    if (thrown instanceof UnauthenticatedError)
      thrown.challengeBasic = options.settings.basicAuth !== undefined && options.signedOnly !== true;
    throw thrown;
  }
}
