import { createHash } from 'node:crypto';
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type * as TokenValidatorModule from 'twilio-flex-token-validator';
import { TwilioApiError, UnauthenticatedError, UpstreamUnavailableError } from '../errors';
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
 * which cannot tell "the token is bad" from "the service could not say".
 */
export interface ValidatorCallProbe {
  request?: ClientRequest;
  status?: number;
  /** The answer's first bytes (enough for a verdict or a Twilio error). */
  body: string;
}

const MAX_CAPTURED_BODY = 8192;
const probes = new AsyncLocalStorage<ValidatorCallProbe>();
subscribe('http.client.request.start', (message) => {
  const probe = probes.getStore();
  if (probe) probe.request = (message as { request: ClientRequest }).request;
});
subscribe('http.client.response.finish', (message) => {
  const probe = probes.getStore();
  if (!probe) return;
  const { response } = message as { response: IncomingMessage };
  probe.status = response.statusCode;
  // Published just before the validator gets the response, so this listener sees every chunk it sees.
  response.on('data', (chunk: Buffer | string) => {
    if (probe.body.length < MAX_CAPTURED_BODY) probe.body += chunk.toString();
  });
});

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why a validation failed. The service answers a bad token with a verdict
 * (`{"valid": false, …}`); an answer without one is about this function's
 * request (a 401/403: its own credentials are wrong), and no answer, a 5xx or
 * a 429 means the token could not be judged.
 */
export function validationFailure(probe: ValidatorCallProbe): Error {
  const { status } = probe;
  if (status === undefined || status >= 500 || status === 429) {
    return new UpstreamUnavailableError('token-validation');
  }
  const answer = jsonObject(probe.body);
  if (typeof answer?.valid === 'boolean') return new UnauthenticatedError('The Flex token was rejected.');
  if (status >= 400) {
    return new TwilioApiError(
      'token-validation',
      status,
      typeof answer?.message === 'string' ? answer.message : undefined,
      typeof answer?.code === 'number' ? answer.code : undefined,
      typeof answer?.more_info === 'string' ? answer.more_info : undefined,
      undefined,
    );
  }
  return new UpstreamUnavailableError('token-validation');
}

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

function readIdentity(result: unknown): { identity: FlexTokenIdentity; expiresAtMs: number | undefined } {
  const fields = (typeof result === 'object' && result !== null ? result : {}) as Record<string, unknown>;
  const roles = Array.isArray(fields.roles) ? fields.roles.filter((role): role is string => typeof role === 'string') : [];
  const workerSid = typeof fields.worker_sid === 'string' && fields.worker_sid !== '' ? fields.worker_sid : undefined;
  const expiresAtMs = typeof fields.expiration === 'string' ? Date.parse(fields.expiration) : NaN;
  return { identity: { workerSid, roles }, expiresAtMs: Number.isFinite(expiresAtMs) ? expiresAtMs : undefined };
}

async function callValidator(token: string, options: TokenValidationOptions): Promise<unknown> {
  let current: ValidatorCallProbe | undefined;
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        timedOut = true;
        current?.request?.destroy();
        reject(new UpstreamUnavailableError('token-validation'));
      },
      Math.min(VALIDATOR_TIMEOUT_MS, options.deadline.remainingMs()),
    );
  });
  try {
    for (let attempt = 1; ; attempt += 1) {
      const probe: ValidatorCallProbe = { body: '' };
      current = probe;
      try {
        const validation = probes.run(probe, () => tokenValidator().validator(token, options.accountSid, options.authToken));
        return await Promise.race([validation, timeout]);
      } catch {
        if (timedOut) throw new UpstreamUnavailableError('token-validation');
        // A kept-alive connection the service had closed meanwhile: validating changes nothing, so once more on a new one.
        if (attempt === 1 && probe.status === undefined && probe.request?.reusedSocket) continue;
        throw validationFailure(probe);
      }
    }
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
