import { TwilioApiError } from '../errors';
import type { TwilioTransport } from './transport';

export interface SyncDocumentRef {
  serviceSid: string;
  uniqueName: string;
}

export interface SyncDocument {
  sid: string;
  data: Record<string, unknown>;
  revision: string;
}

/** Creates the document; false when one with this unique name already exists (the atomic claim was lost). */
export async function createDocument(
  transport: TwilioTransport,
  ref: SyncDocumentRef & { data: Record<string, unknown>; ttlSeconds: number },
): Promise<boolean> {
  try {
    await transport.call('sync-create', (client) =>
      client.sync.v1.services(ref.serviceSid).documents.create({ uniqueName: ref.uniqueName, data: ref.data, ttl: ref.ttlSeconds }),
    );
    return true;
  } catch (thrown) {
    if (thrown instanceof TwilioApiError && thrown.status === 409) return false;
    throw thrown;
  }
}

/** The document, or undefined when it does not exist (or expired). */
export async function fetchDocument(transport: TwilioTransport, ref: SyncDocumentRef): Promise<SyncDocument | undefined> {
  try {
    const { value } = await transport.call(
      'sync-fetch',
      (client) => client.sync.v1.services(ref.serviceSid).documents(ref.uniqueName).fetch(),
      { safeToRepeat: true },
    );
    const data = value.data;
    return {
      sid: value.sid,
      data: typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {},
      revision: String(value.revision),
    };
  } catch (thrown) {
    if (thrown instanceof TwilioApiError && thrown.status === 404) return undefined;
    throw thrown;
  }
}

/** Replaces the document's data; with `ifMatch`, only if nobody changed it since that revision was read (else 412). */
export async function updateDocument(
  transport: TwilioTransport,
  ref: SyncDocumentRef & { data: Record<string, unknown>; ifMatch?: string },
): Promise<void> {
  await transport.call('sync-update', (client) =>
    client.sync.v1
      .services(ref.serviceSid)
      .documents(ref.uniqueName)
      .update({ data: ref.data, ...(ref.ifMatch === undefined ? {} : { ifMatch: ref.ifMatch }) }),
  );
}

export async function removeDocument(transport: TwilioTransport, ref: SyncDocumentRef): Promise<void> {
  try {
    await transport.call('sync-delete', (client) => client.sync.v1.services(ref.serviceSid).documents(ref.uniqueName).remove(), {
      safeToRepeat: true,
    });
  } catch (thrown) {
    if (thrown instanceof TwilioApiError && thrown.status === 404) return;
    throw thrown;
  }
}
