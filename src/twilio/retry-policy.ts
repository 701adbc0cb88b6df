/**
 * When a failed call to Twilio may be sent again. Only where Twilio certainly
 * did not act: a 429 or 503 answer, or a connection that never carried the
 * request; and, for calls that change nothing (reads, token validation), a
 * connection that broke mid-way. A request that may have created something is
 * never repeated, so one click can never create two invites.
 */
export type AttemptOutcome =
  | { kind: 'answered'; status: number; retryAfterSeconds: number | undefined }
  | { kind: 'not-sent' }
  | { kind: 'maybe-sent' }
  | { kind: 'timed-out' };

export const MAX_ATTEMPTS = 4;
const BASE_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 2000;
/** A retry is pointless if it cannot get an answer before the deadline. */
export const MIN_ATTEMPT_MS = 1000;

const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** How a transport error relates to delivery, from its Node/axios error code. */
export function classifyTransportError(code: unknown): AttemptOutcome {
  if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return { kind: 'not-sent' };
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ERR_CANCELED') return { kind: 'timed-out' };
  return { kind: 'maybe-sent' };
}

/** Parses a Retry-After header given in seconds (the form Twilio uses). */
export function parseRetryAfterSeconds(header: unknown): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

function isRetryable(outcome: AttemptOutcome, safeToRepeat: boolean): boolean {
  if (outcome.kind === 'answered') return outcome.status === 429 || outcome.status === 503;
  return outcome.kind === 'not-sent' || (safeToRepeat && outcome.kind === 'maybe-sent');
}

/**
 * Milliseconds to wait before attempt `attemptsMade + 1`, or undefined when the
 * outcome must stand. Exponential backoff with jitter, never shorter than
 * Retry-After, and only if an answer can still arrive before the deadline.
 */
export function retryDelayMs(options: {
  outcome: AttemptOutcome;
  attemptsMade: number;
  remainingMs: number;
  random: () => number;
  safeToRepeat?: boolean;
}): number | undefined {
  const { outcome, attemptsMade, remainingMs, random } = options;
  if (!isRetryable(outcome, options.safeToRepeat ?? false) || attemptsMade >= MAX_ATTEMPTS) return undefined;
  const backoff = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (attemptsMade - 1));
  const jittered = backoff / 2 + random() * (backoff / 2);
  const retryAfterMs = outcome.kind === 'answered' && outcome.retryAfterSeconds !== undefined ? outcome.retryAfterSeconds * 1000 : 0;
  const delay = Math.ceil(Math.max(jittered, retryAfterMs));
  return delay + MIN_ATTEMPT_MS <= remainingMs ? delay : undefined;
}
