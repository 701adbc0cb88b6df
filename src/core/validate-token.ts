import { type FlexTokenIdentity, validateToken } from '../twilio/tokens';
import type { RequestContext } from './context';

/** Token validation for this request, through its transport (deadline, retries, attempt count). */
export function validateWithTwilio(context: RequestContext): (token: string) => Promise<FlexTokenIdentity> {
  return (token) => validateToken(context.twilio, { accountSid: context.settings.accountSid, token });
}
