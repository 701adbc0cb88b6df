import { helperLibrary } from '../twilio/helper-library';

const LOCAL_HOST = /^(localhost|127\.0\.0\.1)(:\d+)?$/;

/** The URLs Twilio may have signed for this function. */
export function signedUrlCandidates(domainName: string, path: string): string[] {
  const urls = [`https://${domainName}${path}`];
  if (LOCAL_HOST.test(domainName)) urls.push(`http://${domainName}${path}`);
  return urls;
}

export interface SignedRequest {
  signature: string;
  contentType: string;
  domainName: string;
  path: string;
  params: Readonly<Record<string, unknown>>;
}

/**
 * Twilio signs webhooks (and Studio's Run Function widget) over the
 * form-encoded parameters. A JSON body is never signed that way, so it is
 * never accepted on a signature.
 */
export function hasValidTwilioSignature(request: SignedRequest, authToken: string): boolean {
  if (request.signature === '' || request.domainName === '' || request.path === '') return false;
  if (!/^application\/x-www-form-urlencoded\b/i.test(request.contentType.trim())) return false;
  const params: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(request.params)) {
    if (typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string'))) {
      params[name] = value as string | string[];
    } else {
      return false;
    }
  }
  const { validateRequest } = helperLibrary();
  return signedUrlCandidates(request.domainName, request.path).some((url) =>
    validateRequest(authToken, request.signature, url, params as Record<string, string>),
  );
}
