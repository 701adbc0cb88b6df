import { asFailure } from '../errors';
import { SyncKeyStore } from '../twilio/sync-key-store';
import type { AuthenticatedContext } from './context';
import { claimKey, recordResult, releaseKey, twilioDidNotAct, type UnrecordedResultFinder } from './idempotency';
import type { IdempotencyKey } from './idempotency-key';

/**
 * Makes one change in Twilio at most once per Idempotency-Key. The key's
 * claim runs alongside the reads the change needs (one round trip for both);
 * a repeat gets the first result back; a failure that proves Twilio did not
 * act frees the key for a retry, any other keeps it. Without a key: just the
 * reads, then the change.
 */
export async function exactlyOnce<Reads, Result extends object>(options: {
  context: AuthenticatedContext;
  key: IdempotencyKey | undefined;
  /** What an earlier attempt left in Twilio without recording it. */
  findUnrecordedResult?: UnrecordedResultFinder<Result>;
  read: () => Promise<Reads>;
  change: (reads: Reads) => Promise<Result>;
  /** Whether a repeat needs this result recorded because Twilio alone cannot tell it. */
  mustRecord: (result: Result) => boolean;
}): Promise<{ result: Result; replayed: boolean }> {
  const { context, key } = options;
  const { transport, settings } = context;
  const store = new SyncKeyStore({ transport, serviceSid: settings.syncServiceSid, ttlSeconds: settings.idempotencyTtlSeconds });
  const startedAtMs = context.now();
  const [claim, reads] = await Promise.allSettled([
    key === undefined ? undefined : claimKey<Result>({ store, key, now: context.now, findUnrecordedResult: options.findUnrecordedResult }),
    options.read(),
  ]);
  if (claim.status === 'rejected') throw claim.reason;
  if (claim.value?.kind === 'replay') return { result: claim.value.result, replayed: true };
  try {
    if (reads.status === 'rejected') throw reads.reason;
    const result = await options.change(reads.value);
    // A failed record leaves the repeat to find the result in Twilio, or to say what it cannot know.
    if (key !== undefined && options.mustRecord(result)) await recordResult({ store, key, startedAtMs, result }).catch(() => undefined);
    return { result, replayed: false };
  } catch (thrown) {
    if (key !== undefined && twilioDidNotAct(asFailure(thrown))) await releaseKey({ store, key }).catch(() => undefined);
    throw thrown;
  }
}
