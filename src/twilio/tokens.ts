import {
  TwilioApiError,
  UnauthenticatedError,
  UpstreamConnectionLostError,
  UpstreamMalformedAnswerError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from '../errors';
import { plainObject } from '../untrusted-json';
import { parseRetryAfterSeconds } from './retry-policy';
import type { TwilioTransport } from './transport';

/** What a validated Flex token says about its holder. */
export interface FlexTokenIdentity {
  workerSid: string | undefined;
  roles: readonly string[];
  expiresAtMs: number | undefined;
}

/** Validation should be quick; a slow validator must leave time for the 503 and for the transfer itself. */
export const TOKEN_VALIDATION_MAX_MS = 3000;

function asObject(body: unknown): Record<string, unknown> | undefined {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return plainObject(value);
}

/**
 * Asks Twilio's token validation endpoint (the one `twilio-flex-token-validator`
 * calls) through the helper client's generic request, so it shares the
 * transport's deadline and retry policy. A verdict (`valid`) decides; 401/403
 * without one means this function's own credentials were refused; a 429 or 5xx
 * means the token could not be judged; anything else is not the service's API.
 */
export async function validateToken(
  transport: TwilioTransport,
  request: { accountSid: string; token: string },
): Promise<FlexTokenIdentity> {
  const answer = await callValidation(transport, request);
  const status = answer.statusCode;
  const fields = asObject(answer.body);
  if (status === 429 || status >= 500) {
    throw new UpstreamUnavailableError('token-validate', {
      retryAfterSeconds: parseRetryAfterSeconds(answer.headers['retry-after']),
      tried: `the validation service answered HTTP ${status}`,
    });
  }
  if (typeof fields?.valid === 'boolean') {
    if (!fields.valid) throw new UnauthenticatedError('the Flex token was rejected');
    if (status >= 200 && status < 300) return identityOf(fields);
  }
  if (status === 401 || status === 403) {
    throw new TwilioApiError({
      operation: 'token-validate',
      status,
      twilioMessage: typeof fields?.message === 'string' ? fields.message : undefined,
      twilioCode: typeof fields?.code === 'number' ? fields.code : undefined,
    });
  }
  throw new UpstreamMalformedAnswerError('token-validate', { detail: `HTTP ${status} without a verdict` });
}

interface RawAnswer {
  statusCode: number;
  body: unknown;
  headers: Record<string, unknown>;
}

/** The contract's promise for the validator: no answer in time is "could not be validated" (503), not a gateway timeout. */
async function callValidation(transport: TwilioTransport, request: { accountSid: string; token: string }): Promise<RawAnswer> {
  try {
    const { value } = await transport.call(
      'token-validate',
      (client) =>
        client.request({
          method: 'post',
          uri: `https://iam.twilio.com/v1/Accounts/${request.accountSid}/Tokens/validate`,
          headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' },
          data: { token: request.token },
        }) as Promise<RawAnswer>,
      { safeToRepeat: true, maxMs: TOKEN_VALIDATION_MAX_MS },
    );
    return value;
  } catch (thrown) {
    if (thrown instanceof UpstreamTimeoutError || thrown instanceof UpstreamConnectionLostError) {
      throw new UpstreamUnavailableError('token-validate', {
        cause: thrown,
        tried: thrown instanceof UpstreamTimeoutError ? 'it did not answer in time' : 'the connection broke',
      });
    }
    throw thrown;
  }
}

function identityOf(fields: Record<string, unknown>): FlexTokenIdentity {
  const roles = Array.isArray(fields.roles) ? fields.roles.filter((role): role is string => typeof role === 'string') : [];
  const workerSid = typeof fields.worker_sid === 'string' && fields.worker_sid !== '' ? fields.worker_sid : undefined;
  const expiresAtMs = typeof fields.expiration === 'string' ? Date.parse(fields.expiration) : NaN;
  return { workerSid, roles, expiresAtMs: Number.isFinite(expiresAtMs) ? expiresAtMs : undefined };
}
