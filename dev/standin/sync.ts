/**
 * Sync Documents, per service. A document past its TTL (on the stand-in's
 * clock) behaves as absent. The revision is the ETag and the update's If-Match value.
 */
import { errorAnswer, jsonAnswer, noContent, preconditionHolds, twilioDate } from './answers';
import type { RoutedRequest } from './routes';
import { isSid, newSid } from './sids';
import type { Clock, StandinResponse } from './types';

/** A Sync Document as the REST API returns it. */
export interface SyncDocumentResource {
  sid: string;
  unique_name: string | null;
  account_sid: string;
  service_sid: string;
  url: string;
  links: { permissions: string };
  revision: string;
  data: Record<string, unknown>;
  date_expires: string | null;
  date_created: string;
  date_updated: string;
  created_by: string;
}

interface StoredDocument {
  sid: string;
  uniqueName: string | null;
  serviceSid: string;
  data: Record<string, unknown>;
  revision: number;
  expiresAt: number | null;
  createdAt: number;
  updatedAt: number;
}

const MAX_DATA_BYTES = 16 * 1024;
const MAX_TTL_SECONDS = 31_536_000;
const MAX_UNIQUE_NAME_LENGTH = 256;
const SID_SHAPED = /^[A-Z]{2}[a-f0-9]{32}$/;

type Parsed<T> = { value: T } | { refusal: StandinResponse };

export class SyncStore {
  /** Documents by service SID, then by document SID. */
  private readonly services = new Map<string, Map<string, StoredDocument>>();

  constructor(
    private readonly accountSid: string,
    private readonly now: Clock,
    /** The SID that `default` stands for. */
    private readonly defaultServiceSid: () => string,
  ) {}

  clear(): void {
    this.services.clear();
  }

  /** The live document, by SID or unique name, as Sync would return it now. */
  document(service: string, sidOrUniqueName: string): SyncDocumentResource | undefined {
    const serviceSid = this.serviceSidOf(service);
    const stored = serviceSid === undefined ? undefined : this.find(serviceSid, sidOrUniqueName);
    return stored && this.resource(stored);
  }

  answer(route: 'sync-create' | 'sync-fetch' | 'sync-update' | 'sync-delete', request: RoutedRequest): StandinResponse {
    const serviceSid = this.serviceSidOf(request.params.serviceSid ?? '');
    if (serviceSid === undefined) return serviceNotFound();
    if (route === 'sync-create') return this.create(serviceSid, request.form);
    const stored = this.find(serviceSid, request.params.document ?? '');
    if (!stored) return documentNotFound();
    if (route === 'sync-fetch') return this.answerWith(200, stored);
    // Twilio's API definition gives If-Match to the update only (a delete takes no header).
    if (route === 'sync-delete') {
      this.documents(serviceSid).delete(stored.sid);
      return noContent();
    }
    if (!preconditionHolds(request.headers['if-match'], String(stored.revision))) {
      return errorAnswer(412, 54103, 'The actual revision of the Document does not match the expected revision');
    }
    return this.update(stored, request.form);
  }

  private create(serviceSid: string, form: Record<string, string>): StandinResponse {
    const uniqueName = form.UniqueName;
    if (uniqueName !== undefined && (uniqueName.length < 1 || uniqueName.length > MAX_UNIQUE_NAME_LENGTH || SID_SHAPED.test(uniqueName))) {
      return errorAnswer(400, 54302, 'The unique name must be a string with length 1-256 and not match the SID pattern');
    }
    const data = parseData(form.Data);
    if ('refusal' in data) return data.refusal;
    const ttl = parseTtl(form.Ttl);
    if ('refusal' in ttl) return ttl.refusal;
    if (uniqueName !== undefined && this.find(serviceSid, uniqueName)) return errorAnswer(409, 54301, 'Unique name already exists');

    const at = this.now();
    const stored: StoredDocument = {
      sid: newSid('ET'),
      uniqueName: uniqueName ?? null,
      serviceSid,
      data: data.value ?? {},
      revision: 0,
      expiresAt: expiry(at, ttl.value),
      createdAt: at,
      updatedAt: at,
    };
    this.documents(serviceSid).set(stored.sid, stored);
    return this.answerWith(201, stored);
  }

  private update(stored: StoredDocument, form: Record<string, string>): StandinResponse {
    const data = parseData(form.Data);
    if ('refusal' in data) return data.refusal;
    const ttl = parseTtl(form.Ttl);
    if ('refusal' in ttl) return ttl.refusal;
    const at = this.now();
    if (data.value !== undefined) {
      stored.data = data.value;
      stored.revision += 1;
    }
    if (ttl.value !== undefined) stored.expiresAt = expiry(at, ttl.value);
    stored.updatedAt = at;
    return this.answerWith(200, stored);
  }

  private serviceSidOf(service: string): string | undefined {
    if (service === 'default') return this.defaultServiceSid();
    return isSid('IS', service) ? service : undefined;
  }

  private documents(serviceSid: string): Map<string, StoredDocument> {
    let documents = this.services.get(serviceSid);
    if (!documents) {
      documents = new Map();
      this.services.set(serviceSid, documents);
    }
    return documents;
  }

  /** A live document by SID or unique name; an expired one is dropped on the way, as Sync would have deleted it. */
  private find(serviceSid: string, sidOrUniqueName: string): StoredDocument | undefined {
    const documents = this.documents(serviceSid);
    for (const stored of documents.values()) {
      if (stored.expiresAt !== null && stored.expiresAt <= this.now()) {
        documents.delete(stored.sid);
        continue;
      }
      if (stored.sid === sidOrUniqueName || stored.uniqueName === sidOrUniqueName) return stored;
    }
    return undefined;
  }

  private answerWith(status: number, stored: StoredDocument): StandinResponse {
    return jsonAnswer(status, this.resource(stored), { etag: String(stored.revision) });
  }

  private resource(stored: StoredDocument): SyncDocumentResource {
    const url = `https://sync.twilio.com/v1/Services/${stored.serviceSid}/Documents/${stored.sid}`;
    return {
      sid: stored.sid,
      unique_name: stored.uniqueName,
      account_sid: this.accountSid,
      service_sid: stored.serviceSid,
      url,
      links: { permissions: `${url}/Permissions` },
      revision: String(stored.revision),
      data: stored.data,
      date_expires: stored.expiresAt === null ? null : twilioDate(stored.expiresAt),
      date_created: twilioDate(stored.createdAt),
      date_updated: twilioDate(stored.updatedAt),
      created_by: 'system',
    };
  }
}

/** Ttl 0 (or none) means the document never expires. */
const expiry = (at: number, ttlSeconds: number | undefined): number | null => (ttlSeconds ? at + ttlSeconds * 1000 : null);

function parseData(field: string | undefined): Parsed<Record<string, unknown> | undefined> {
  if (field === undefined) return { value: undefined };
  if (Buffer.byteLength(field) > MAX_DATA_BYTES) {
    return { refusal: errorAnswer(413, 54006, "The size of the specified 'Data' parameter exceeds the size limit") };
  }
  let data: unknown;
  try {
    data = JSON.parse(field);
  } catch {
    return { refusal: errorAnswer(400, 54008, "The specified 'Data' parameter is not valid JSON") };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { refusal: errorAnswer(400, 54101, "The 'Data' parameter must be a JSON object") };
  }
  return { value: data as Record<string, unknown> };
}

function parseTtl(field: string | undefined): Parsed<number | undefined> {
  if (field === undefined) return { value: undefined };
  const seconds = Number(field);
  if (field.trim() === '' || !Number.isInteger(seconds) || seconds < 0 || seconds > MAX_TTL_SECONDS) {
    return { refusal: errorAnswer(400, 20001, `Invalid Ttl: ${field}`) };
  }
  return { value: seconds };
}

const documentNotFound = () => errorAnswer(404, 54100, 'The specified Document does not exist');
const serviceNotFound = () => errorAnswer(404, 20404, 'The requested resource was not found');
