import type { TwilioTransport } from './transport';

/** The Sync Documents calls, as Twilio answers them: a refusal is a TwilioApiError (see sync-key-store.ts for what each means). */

export interface SyncDocumentRef {
  serviceSid: string;
  uniqueName: string;
}

export interface SyncDocument {
  sid: string;
  data: Record<string, unknown>;
  revision: string;
}

/** Creates the document; Twilio refuses a unique name already taken (409, code 54301). */
export async function createDocument(
  transport: TwilioTransport,
  ref: SyncDocumentRef & { data: Record<string, unknown>; ttlSeconds: number },
): Promise<void> {
  await transport.call('sync-create', (client) =>
    client.sync.v1.services(ref.serviceSid).documents.create({ uniqueName: ref.uniqueName, data: ref.data, ttl: ref.ttlSeconds }),
  );
}

/** The document (404 when it does not exist, or expired). */
export async function fetchDocument(transport: TwilioTransport, ref: SyncDocumentRef): Promise<SyncDocument> {
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
}

/** Replaces the document's data; with `ifMatch`, only if nobody changed it since that revision was read (else 412, code 54103). */
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

/** Deletes the document (404 when it does not exist). */
export async function removeDocument(transport: TwilioTransport, ref: SyncDocumentRef): Promise<void> {
  await transport.call('sync-delete', (client) => client.sync.v1.services(ref.serviceSid).documents(ref.uniqueName).remove(), {
    safeToRepeat: true,
  });
}
