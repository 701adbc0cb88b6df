import type { Settings } from '../config';
import type { Deadline } from '../deadline';
import { ForbiddenError, UnauthenticatedError } from '../errors';
import { type IncomingRequest, singleHeader } from '../incoming';
import { basicCredentialsMatch, parseBasicAuthorization } from './basic';
import { validateFlexToken } from './flex-token';
import { hasValidTwilioSignature } from './twilio-signature';

/** Who is asking for the transfer, as proven by one credential. */
export type Caller =
  { kind: 'flex-token'; workerSid: string | undefined; roles: readonly string[] } | { kind: 'twilio-signature' } | { kind: 'basic' };

function bearerToken(authorization: string | undefined): string | undefined {
  const match = authorization === undefined ? null : /^Bearer[ ]+(\S+)[ ]*$/i.exec(authorization);
  return match?.[1];
}

/** The Flex token from the `Token` field or an `Authorization: Bearer` header; both, when different, is refused. */
function presentedFlexToken(incoming: IncomingRequest, authorization: string | undefined): string | undefined {
  const field = incoming.params.Token;
  if (field !== undefined && typeof field !== 'string') throw new UnauthenticatedError('The Token field must be a string.');
  const fromField = field === '' ? undefined : field;
  const fromHeader = bearerToken(authorization);
  if (fromField !== undefined && fromHeader !== undefined && fromField !== fromHeader) {
    throw new UnauthenticatedError('The Token field and the Bearer token differ.');
  }
  return fromField ?? fromHeader;
}

/**
 * Accepts exactly the credentials of the contract, cheapest check first:
 * a Twilio signature, HTTP Basic (when enabled), then a Flex token, which
 * costs a round trip to Twilio unless recently validated.
 */
export async function authenticate(incoming: IncomingRequest, settings: Settings, deadline: Deadline): Promise<Caller> {
  const authorization = singleHeader(incoming, 'authorization');
  const signature = singleHeader(incoming, 'x-twilio-signature');
  if (authorization === 'duplicated' || signature === 'duplicated') {
    throw new UnauthenticatedError('A credential header was sent more than once.');
  }

  if (signature !== undefined) {
    const contentType = singleHeader(incoming, 'content-type');
    const signed = hasValidTwilioSignature(
      {
        signature,
        contentType: typeof contentType === 'string' ? contentType : '',
        domainName: incoming.domainName,
        path: incoming.path,
        params: incoming.params,
      },
      settings.authToken,
    );
    if (signed) return { kind: 'twilio-signature' };
  }

  const basic = authorization === undefined ? undefined : parseBasicAuthorization(authorization);
  if (basic !== undefined && settings.basicAuth !== undefined && basicCredentialsMatch(basic, settings.basicAuth)) {
    return { kind: 'basic' };
  }

  const token = presentedFlexToken(incoming, authorization);
  if (token !== undefined) {
    const identity = await validateFlexToken(token, {
      accountSid: settings.accountSid,
      authToken: settings.authToken,
      cacheSeconds: settings.tokenCacheSeconds,
      deadline,
    });
    if (!identity.roles.some((role) => settings.allowedRoles.has(role))) {
      throw new ForbiddenError('Your Flex role is not allowed to transfer conversations.');
    }
    return { kind: 'flex-token', workerSid: identity.workerSid, roles: identity.roles };
  }

  if (signature !== undefined) throw new UnauthenticatedError('The X-Twilio-Signature does not match this request.');
  if (basic !== undefined) {
    throw new UnauthenticatedError(settings.basicAuth ? 'The Basic credentials are wrong.' : 'HTTP Basic authentication is not enabled.');
  }
  throw new UnauthenticatedError(
    'No credential: send the Flex token as Token or Authorization: Bearer, a Twilio signature, or Basic credentials.',
  );
}
