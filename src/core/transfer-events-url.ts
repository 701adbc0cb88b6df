import type { IncomingRequest } from './request';
import { signedUrlCandidates } from './twilio-signature';

/** The URLs this service's /transfer-events is reached at, as a workspace's EventCallbackUrl would name it (https first). */
export function transferEventsUrls(incoming: Pick<IncomingRequest, 'domainName'>): string[] {
  return signedUrlCandidates(incoming.domainName, '/transfer-events');
}
