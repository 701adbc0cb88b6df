/**
 * Where Idempotency-Key claims are kept, as the claim protocol
 * (idempotency.ts) needs it: the shape of AWS Powertools' idempotency
 * persistence layer. Twilio Sync is the implementation
 * (twilio/sync-key-store.ts); records expire after the store's own time to live.
 */

/** A record as read, with the revision a conditional replace names. */
export interface StoredRecord {
  data: Record<string, unknown>;
  revision: string;
}

export interface KeyStore {
  /** Creates the record unless one with this name exists, atomically: of two concurrent creates one wins; false when it was not this one. */
  createIfAbsent(name: string, data: Record<string, unknown>): Promise<boolean>;
  /** The record, or undefined when there is none (or it expired). */
  read(name: string): Promise<StoredRecord | undefined>;
  /** Replaces the record's data; with `ifRevision`, only if nobody changed it since that revision was read. */
  replace(name: string, data: Record<string, unknown>, options?: { ifRevision?: string }): Promise<'replaced' | 'revision-mismatch'>;
  /** Deletes the record; one already gone is not a failure. */
  delete(name: string): Promise<void>;
}
