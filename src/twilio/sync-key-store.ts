import type { KeyStore, StoredRecord } from '../core/key-store';
import { RequestFailure } from '../request-failure';
import { TwilioApiError, UpstreamUnavailableError } from '../upstream-failures';
import { createDocument, fetchDocument, removeDocument, updateDocument } from './sync';
import type { TwilioTransport } from './transport';

/** Twilio's error codes for a unique name already taken, and for a document changed since the revision named. */
const UNIQUE_NAME_TAKEN = 54301;
const REVISION_MISMATCH = 54103;

function refusedWith(thrown: unknown, status: number, code?: number): boolean {
  return thrown instanceof TwilioApiError && (thrown.status === status || (code !== undefined && thrown.twilioCode === code));
}

/**
 * Sync failing is no reason to transfer blindly, and no reason to call it the
 * caller's fault either: any failure of a Sync call is "unavailable" (503),
 * except throttling, which keeps its 429, and Sync refusing this function's
 * own credentials (401/403), which is the function's fault like any other
 * Twilio refusal (502).
 */
function storeFailure(thrown: unknown): unknown {
  if (!(thrown instanceof RequestFailure)) return thrown;
  if (thrown instanceof TwilioApiError && [401, 403, 429].includes(thrown.status)) return thrown;
  if (thrown instanceof UpstreamUnavailableError) return thrown;
  return new UpstreamUnavailableError('sync-create', { cause: thrown });
}

/**
 * Idempotency-Key records as Sync Documents, one per key, named by the
 * protocol (idempotency.ts), in TRANSFER_SYNC_SERVICE_SID, expiring after
 * TRANSFER_IDEMPOTENCY_TTL_SECONDS. Sync's answers mean: 409 / 54301 taken,
 * 412 / 54103 revision mismatch, 404 absent.
 */
export class SyncKeyStore implements KeyStore {
  constructor(private readonly options: { transport: TwilioTransport; serviceSid: string; ttlSeconds: number }) {}

  async createIfAbsent(name: string, data: Record<string, unknown>): Promise<boolean> {
    const { transport, serviceSid, ttlSeconds } = this.options;
    try {
      await createDocument(transport, { serviceSid, uniqueName: name, data, ttlSeconds });
      return true;
    } catch (thrown) {
      if (refusedWith(thrown, 409, UNIQUE_NAME_TAKEN)) return false;
      throw storeFailure(thrown);
    }
  }

  async read(name: string): Promise<StoredRecord | undefined> {
    try {
      const { data, revision } = await fetchDocument(this.options.transport, this.ref(name));
      return { data, revision };
    } catch (thrown) {
      if (refusedWith(thrown, 404)) return undefined;
      throw storeFailure(thrown);
    }
  }

  async replace(
    name: string,
    data: Record<string, unknown>,
    options: { ifRevision?: string } = {},
  ): Promise<'replaced' | 'revision-mismatch'> {
    try {
      await updateDocument(this.options.transport, { ...this.ref(name), data, ifMatch: options.ifRevision });
      return 'replaced';
    } catch (thrown) {
      if (refusedWith(thrown, 412, REVISION_MISMATCH)) return 'revision-mismatch';
      throw storeFailure(thrown);
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await removeDocument(this.options.transport, this.ref(name));
    } catch (thrown) {
      if (!refusedWith(thrown, 404)) throw storeFailure(thrown);
    }
  }

  private ref(name: string): { serviceSid: string; uniqueName: string } {
    return { serviceSid: this.options.serviceSid, uniqueName: name };
  }
}
