import { createHash } from 'node:crypto';
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type * as TokenValidatorModule from 'twilio-flex-token-validator';
import { UnauthenticatedError, UpstreamUnavailableError } from '../errors';
import type { Deadline } from '../deadline';
import { TtlCache } from './ttl-cache';

/** What a validated Flex token says about its holder. */
export interface FlexTokenIdentity {
  workerSid: string | undefined;
  roles: readonly string[];
}

export interface TokenValidationOptions {
  accountSid: string;
  authToken: string;
  cacheSeconds: number;
  deadline: Deadline;
}

/** Validation should be quick; a slow validator must leave time for the 503 and for the transfer itself. */
export const VALIDATOR_TIMEOUT_MS = 3000;
const MAX_TOKEN_LENGTH = 16384;
const CACHE_MAX_ENTRIES = 1000;
/** A compact JWE is printable ASCII without spaces; the validator sizes its body in characters, so nothing else may reach it. */
const COMPACT_TOKEN = /^[\x21-\x7e]+$/;

const cache = new TtlCache<FlexTokenIdentity>(CACHE_MAX_ENTRIES);

/**
 * What happened to the validator's HTTPS call, seen through Node's HTTP
 * diagnostics channels: the validator itself only rejects with bare strings,
 * which cannot tell "IAM said no" from "IAM could not be reached".
 */
interface ValidatorCallProbe {
  request?: ClientRequest;
  responseStatus?: number;
}

const probes = new AsyncLocalStorage<ValidatorCallProbe>();
subscribe('http.client.request.start', (message) => {
  const probe = probes.getStore();
  if (probe) probe.request = (message as { request: ClientRequest }).request;
});
subscribe('http.client.response.finish', (message) => {
  const probe = probes.getStore();
  if (probe) probe.responseStatus = (message as { response: IncomingMessage }).response.statusCode;
});

let validatorModule: typeof TokenValidatorModule | undefined;
function tokenValidator(): typeof TokenValidatorModule {
  // Loaded on first use: Studio and Basic callers never pay for it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  validatorModule ??= require('twilio-flex-token-validator') as typeof TokenValidatorModule;
  return validatorModule;
}

export function tokenCacheKey(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** For tests and the benchmark: forget cached validations. */
export function clearTokenCache(): void {
  cache.clear();
}

function readIdentity(result: unknown): { identity: FlexTokenIdentity; expiresAtMs: number | undefined } {
  const fields = (typeof result === 'object' && result !== null ? result : {}) as Record<string, unknown>;
  const roles = Array.isArray(fields.roles) ? fields.roles.filter((role): role is string => typeof role === 'string') : [];
  const workerSid = typeof fields.worker_sid === 'string' && fields.worker_sid !== '' ? fields.worker_sid : undefined;
  const expiresAtMs = typeof fields.expiration === 'string' ? Date.parse(fields.expiration) : NaN;
  return { identity: { workerSid, roles }, expiresAtMs: Number.isFinite(expiresAtMs) ? expiresAtMs : undefined };
}

async function callValidator(token: string, options: TokenValidationOptions): Promise<unknown> {
  const probe: ValidatorCallProbe = {};
  const timeoutMs = Math.min(VALIDATOR_TIMEOUT_MS, options.deadline.remainingMs());
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  try {
    return await probes.run(probe, () => {
      const validation = tokenValidator().validator(token, options.accountSid, options.authToken);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          timedOut = true;
          probe.request?.destroy();
          reject(new UpstreamUnavailableError('token-validation', 'timeout'));
        }, timeoutMs);
      });
      return Promise.race([validation, timeout]);
    });
  } catch (rejection) {
    if (timedOut || rejection instanceof UpstreamUnavailableError) {
      throw new UpstreamUnavailableError('token-validation', 'timeout');
    }
    // An answer below 500 is the validation service's verdict on the token; no
    // answer at all, a 5xx or a 429 (rate limited) means it could not give one.
    if (probe.responseStatus !== undefined && probe.responseStatus < 500 && probe.responseStatus !== 429) {
      throw new UnauthenticatedError('The Flex token was rejected.');
    }
    throw new UpstreamUnavailableError('token-validation', probe.responseStatus ? `HTTP ${probe.responseStatus}` : 'no answer');
  } finally {
    clearTimeout(timer);
  }
}

/** Validates a Flex token through `twilio-flex-token-validator`, with a timeout and a short-lived cache of successes. */
export async function validateFlexToken(token: string, options: TokenValidationOptions): Promise<FlexTokenIdentity> {
  if (token.length > MAX_TOKEN_LENGTH || !COMPACT_TOKEN.test(token)) {
    throw new UnauthenticatedError('The Flex token is malformed.');
  }
  const key = tokenCacheKey(token);
  const cached = options.cacheSeconds > 0 ? cache.get(key) : undefined;
  if (cached) return cached;

  const result = await callValidator(token, options);
  const { identity, expiresAtMs } = readIdentity(result);
  if (options.cacheSeconds > 0 && expiresAtMs !== undefined) {
    cache.set(key, identity, Math.min(Date.now() + options.cacheSeconds * 1000, expiresAtMs));
  }
  return identity;
}
