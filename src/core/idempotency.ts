import { assertNever, ConflictError, type Failure, IdempotencyKeyReusedError } from '../errors';
import { READ_OPERATIONS } from '../twilio/operations';
import { REQUEST_BUDGET_MS } from './deadline';
import type { IdempotencyKey } from './idempotency-key';
import type { KeyStore } from './key-store';
import type { HandlerResult } from './outcome';

/**
 * The claim protocol of an Idempotency-Key, written against a KeyStore (Sync
 * in production): claim, replay, take over, release, record. Reading the key
 * and fingerprinting the request are in idempotency-key.ts.
 */

/** A first attempt older than this has ended, whatever it did: past the longest a request can run. */
const FIRST_ATTEMPT_WINDOW_MS = REQUEST_BUDGET_MS + 2500;

/** The key's record in the store. */
function recordName(key: IdempotencyKey): string {
  return `transfer-key-${key.hash}`;
}

/** What a claim found: this request is the first (go on), or an earlier one's result to answer again. */
export type Claim<Result> = { kind: 'first' } | { kind: 'replay'; result: Result };

interface KeyRecord<Result> {
  fingerprint: string;
  startedAtMs: number;
  result?: Result;
}

function stillInProgress(): ConflictError {
  return new ConflictError({
    message: 'A request with this Idempotency-Key is still in progress: retry shortly with the same key.',
    retryAfterSeconds: 1,
  });
}

/**
 * What an earlier attempt left in Twilio without recording it, given whether
 * that attempt may still be running.
 */
export type UnrecordedResultFinder<Result> = (earlier: { mayStillRun: boolean }) => Promise<Result | undefined>;

/**
 * Claims the key (creating its record is atomic: one request wins). A loser
 * answers the first result (recorded, or found in Twilio by
 * `findUnrecordedResult`), or 409 while the first is still running, or 422
 * when the key came with another request. A first attempt that ended long ago
 * without a result is taken over, only if nobody else changed the record since
 * it was read. The store's own failures are its to report (Sync: 503).
 */
export async function claimKey<Result extends object>(options: {
  store: KeyStore;
  key: IdempotencyKey;
  now: () => number;
  findUnrecordedResult?: UnrecordedResultFinder<Result>;
}): Promise<Claim<Result>> {
  const { store, key, now } = options;
  const name = recordName(key);
  const claimed: KeyRecord<Result> = { fingerprint: key.fingerprint, startedAtMs: now() };
  for (let tries = 1; tries <= 2; tries += 1) {
    if (await store.createIfAbsent(name, { ...claimed })) return { kind: 'first' };
    const existing = await store.read(name);
    if (existing === undefined) continue; // expired between the two calls: claim again
    const earlier = existing.data as Partial<KeyRecord<Result>>;
    if (earlier.fingerprint !== key.fingerprint) throw new IdempotencyKeyReusedError();
    if (earlier.result !== undefined) return { kind: 'replay', result: earlier.result };
    const startedAtMs = typeof earlier.startedAtMs === 'number' ? earlier.startedAtMs : 0;
    const mayStillRun = now() - startedAtMs < FIRST_ATTEMPT_WINDOW_MS;
    const found = await options.findUnrecordedResult?.({ mayStillRun });
    if (found !== undefined) return { kind: 'replay', result: found };
    if (mayStillRun) throw stillInProgress();
    const takenOver = await store.replace(name, { ...claimed }, { ifRevision: existing.revision });
    if (takenOver === 'revision-mismatch') throw stillInProgress();
    return { kind: 'first' };
  }
  throw new ConflictError({
    message: 'This Idempotency-Key could not be claimed: retry shortly with the same key.',
    retryAfterSeconds: 1,
  });
}

/** The answer to a repeat: the first result again, marked as a replay (IETF Idempotency-Key draft). */
export function replayResult(options: { effect: HandlerResult['effect']; result: object }): HandlerResult {
  return { effect: options.effect, body: options.result, replayed: true, happened: 'replayed' };
}

/** Frees the key after a first attempt that certainly changed nothing in Twilio, so a retry can start afresh. */
export async function releaseKey(options: { store: KeyStore; key: IdempotencyKey }): Promise<void> {
  await options.store.delete(recordName(options.key));
}

/** Stores the first result where a repeat cannot rebuild it from Twilio (a cold transfer's close, a cancel). */
export async function recordResult<Result extends object>(options: {
  store: KeyStore;
  key: IdempotencyKey;
  startedAtMs: number;
  result: Result;
}): Promise<void> {
  const record: KeyRecord<Result> = { fingerprint: options.key.fingerprint, startedAtMs: options.startedAtMs, result: options.result };
  await options.store.replace(recordName(options.key), { ...record });
}

/** Whether a failure proves Twilio did not act on the invite (so the key can be released). */
export function twilioDidNotAct(failure: Failure): boolean {
  // A read never acted, however it failed: the key is free for a retry.
  if ('operation' in failure && READ_OPERATIONS.has(failure.operation)) return true;
  switch (failure.kind) {
    case 'twilio-api':
      return failure.status < 500 || failure.status === 503;
    case 'upstream-unavailable':
      return true;
    case 'upstream-timeout':
    case 'upstream-connection-lost':
    case 'upstream-malformed-answer':
    case 'transfer-close-failed':
    case 'internal':
      return false;
    // Refusals decided by this function before or instead of calling Twilio.
    case 'method-not-allowed':
    case 'unsupported-media-type':
    case 'misconfigured':
    case 'unauthenticated':
    case 'forbidden':
    case 'invalid-request':
    case 'payload-too-large':
    case 'not-found':
    case 'conflict':
    case 'already-participant':
    case 'transferring-agent-gone':
    case 'agent-workflow-misconfigured':
    case 'idempotency-key-reused':
      return true;
    default:
      return assertNever(failure);
  }
}
