/** IAM's Flex token validation: a granted token is valid, any other gets `invalidTokenAnswer`. */
import { randomBytes } from 'node:crypto';
import { jsonAnswer, twilioDate } from './answers';
import type { StandinResponse, TokenGrant } from './types';

export interface InvalidTokenAnswer {
  status: number;
  body: unknown;
}

export const defaultInvalidTokenAnswer = (): InvalidTokenAnswer => ({
  status: 200,
  body: { valid: false, code: 20151, message: 'Invalid token' },
});

const ONE_HOUR_MS = 3_600_000;

export function answerTokenValidation(
  json: unknown,
  grants: ReadonlyMap<string, TokenGrant>,
  invalidTokenAnswer: InvalidTokenAnswer,
  now: number,
): StandinResponse {
  const token = (json as { token?: unknown } | undefined)?.token;
  const grant = typeof token === 'string' ? grants.get(token) : undefined;
  if (!grant) return jsonAnswer(invalidTokenAnswer.status, invalidTokenAnswer.body);
  return jsonAnswer(200, {
    valid: true,
    code: 0,
    message: null,
    expiration: grant.expiration ?? twilioDate(now + ONE_HOUR_MS),
    realm_user_id: 'US' + randomBytes(16).toString('hex'),
    identity: grant.identity ?? 'agent@example.com',
    roles: grant.roles ?? ['agent'],
    worker_sid: grant.worker_sid,
  });
}
