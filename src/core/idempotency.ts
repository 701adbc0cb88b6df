import type { Settings } from '../config';
import {
  assertNever,
  ConflictError,
  type Failure,
  type FieldProblem,
  IdempotencyKeyReusedError,
  RequestFailure,
  TwilioApiError,
  UpstreamUnavailableError,
} from '../errors';
import { type IncomingRequest, readHeader } from './request';
import { createDocument, fetchDocument, removeDocument, updateDocument } from '../twilio/sync';
import type { TwilioTransport } from '../twilio/transport';
import type { Caller } from './authenticate';
import { sha256Hex } from './sha256';
import type { AuthenticatedContext } from './context';
import type { HandlerResult } from './outcome';
import { REQUEST_BUDGET_MS } from './deadline';

/** An Idempotency-Key as received: printable ASCII, 1 to 255 characters (IETF Idempotency-Key draft). */
const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;
/** A first attempt older than this has ended, whatever it did: past the longest a request can run. */
const FIRST_ATTEMPT_WINDOW_MS = REQUEST_BUDGET_MS + 2500;

export interface IdempotencyKey {
  /** SHA-256 of the key: the Sync document's name and the invites' `transferRequestKey`; the key itself is never stored. */
  hash: string;
  /** SHA-256 of the function, the caller and the validated request. */
  fingerprint: string;
}

/**
 * The key from the `Idempotency-Key` header or the `idempotencyKey` field (for
 * Studio), or undefined; a malformed key's problem goes to `problems`, to be
 * reported with every other bad field.
 */
export function readIdempotencyKeyInto(incoming: IncomingRequest, problems: FieldProblem[]): string | undefined {
  const header = readHeader(incoming, 'idempotency-key');
  const field = incoming.params.idempotencyKey;
  const problem = (message: string): undefined => {
    problems.push({ field: 'idempotencyKey', message });
    return undefined;
  };
  if (header.kind === 'repeated') return problem('was sent more than once (Idempotency-Key header)');
  if (field !== undefined && field !== '' && typeof field !== 'string') return problem('must be a string');
  const fromField = field === '' ? undefined : (field as string | undefined);
  const fromHeader = header.kind === 'single' ? header.value : undefined;
  if (fromField !== undefined && fromHeader !== undefined && fromField !== fromHeader) {
    return problem('differs from the Idempotency-Key header: send one key');
  }
  const key = fromHeader ?? fromField;
  if (key !== undefined && !KEY_PATTERN.test(key)) return problem('must be 1 to 255 printable ASCII characters');
  return key;
}

/** JSON with every object's keys sorted, so that key order never makes two bodies differ. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * What makes two requests "the same": the function, the caller and the
 * validated request (never the raw body: its depth is unchecked, and
 * credentials, field order and key order do not make a request different).
 */
export function fingerprintOf(options: { functionName: string; fields: Readonly<Record<string, unknown>>; caller: Caller }): string {
  const who = options.caller.kind === 'flex-token' ? `flex-token:${options.caller.workerSid ?? ''}` : options.caller.kind;
  return sha256Hex(canonicalJson([options.functionName, who, options.fields]));
}

export function idempotencyKey(options: {
  key: string;
  accountSid: string;
  functionName: string;
  fields: Readonly<Record<string, unknown>>;
  caller: Caller;
}): IdempotencyKey {
  return { hash: sha256Hex(`${options.accountSid}:${options.key}`), fingerprint: fingerprintOf(options) };
}

/** The request's key, hashed and fingerprinted, or undefined when it sent none. */
export function requestKey(options: {
  context: AuthenticatedContext;
  rawKey: string | undefined;
  functionName: string;
  fields: Readonly<Record<string, unknown>>;
}): IdempotencyKey | undefined {
  const { context, rawKey } = options;
  if (rawKey === undefined) return undefined;
  return idempotencyKey({
    key: rawKey,
    accountSid: context.settings.accountSid,
    functionName: options.functionName,
    fields: options.fields,
    caller: context.caller,
  });
}

function documentName(key: IdempotencyKey): string {
  return `transfer-key-${key.hash}`;
}

/** What a claim found: this request is the first (go on), or an earlier one's result to answer again. */
export type Claim<Result> = { kind: 'first' } | { kind: 'replay'; result: Result };

interface KeyDocumentData<Result> {
  fingerprint: string;
  startedAtMs: number;
  result?: Result;
}

const SYNC_OPERATIONS: ReadonlySet<string> = new Set(['sync-create', 'sync-fetch', 'sync-delete', 'sync-update']);

/**
 * Sync failing is no reason to transfer blindly, and no reason to call it the
 * caller's fault either: any failure of a Sync call is "unavailable" (503),
 * except throttling, which keeps its 429. Other failures (the claim's own
 * verdicts, a read of the channel's invites) stand as they are.
 */
function syncFailure(thrown: unknown): unknown {
  if (!(thrown instanceof RequestFailure)) return thrown;
  const failure = thrown as Failure;
  if (!('operation' in failure) || !SYNC_OPERATIONS.has(failure.operation)) return thrown;
  if (failure.kind === 'twilio-api' && failure.status === 429) return thrown;
  if (failure.kind === 'upstream-unavailable') return thrown;
  return new UpstreamUnavailableError('sync-create', { cause: thrown });
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
 * Claims the key in Sync (creating the document is atomic: one request wins).
 * A loser answers the first result (recorded, or found in Twilio by
 * `findUnrecordedResult`), or 409 while the first is still running, or 422
 * when the key came with another request. A first attempt that ended long ago
 * without a result is taken over.
 */
export async function claimKey<Result extends object>(options: {
  transport: TwilioTransport;
  settings: Settings;
  key: IdempotencyKey;
  now: () => number;
  findUnrecordedResult?: UnrecordedResultFinder<Result>;
}): Promise<Claim<Result>> {
  const { transport, settings, key, now } = options;
  const ref = { serviceSid: settings.syncServiceSid, uniqueName: documentName(key) };
  const data: KeyDocumentData<Result> = { fingerprint: key.fingerprint, startedAtMs: now() };
  try {
    for (let tries = 1; tries <= 2; tries += 1) {
      if (await createDocument(transport, { ...ref, data: { ...data }, ttlSeconds: settings.idempotencyTtlSeconds }))
        return { kind: 'first' };
      const existing = await fetchDocument(transport, ref);
      if (existing === undefined) continue; // expired between the two calls: claim again
      const earlier = existing.data as Partial<KeyDocumentData<Result>>;
      if (earlier.fingerprint !== key.fingerprint) throw new IdempotencyKeyReusedError();
      if (earlier.result !== undefined) return { kind: 'replay', result: earlier.result };
      const startedAtMs = typeof earlier.startedAtMs === 'number' ? earlier.startedAtMs : 0;
      const mayStillRun = now() - startedAtMs < FIRST_ATTEMPT_WINDOW_MS;
      const found = await options.findUnrecordedResult?.({ mayStillRun });
      if (found !== undefined) return { kind: 'replay', result: found };
      if (mayStillRun) throw stillInProgress();
      await takeOver({ transport, ref, data, revision: existing.revision });
      return { kind: 'first' };
    }
    throw new ConflictError({
      message: 'This Idempotency-Key could not be claimed: retry shortly with the same key.',
      retryAfterSeconds: 1,
    });
  } catch (thrown) {
    throw syncFailure(thrown);
  }
}

/** The answer to a repeat: the first result again, marked as a replay (IETF Idempotency-Key draft). */
export function replayResult(options: { effect: HandlerResult['effect']; result: object }): HandlerResult {
  return { effect: options.effect, body: options.result, replayed: true, happened: 'replayed' };
}

/** Takes over an abandoned key, atomically: only if nobody else changed the document since it was read. */
async function takeOver(options: {
  transport: TwilioTransport;
  ref: { serviceSid: string; uniqueName: string };
  data: object;
  revision: string;
}): Promise<void> {
  try {
    await updateDocument(options.transport, {
      ...options.ref,
      data: { ...options.data },
      ifMatch: options.revision,
    });
  } catch (thrown) {
    if (thrown instanceof TwilioApiError && thrown.status === 412) throw stillInProgress();
    throw thrown;
  }
}

/** Frees the key after a first attempt that certainly changed nothing in Twilio, so a retry can start afresh. */
export async function releaseKey(options: { transport: TwilioTransport; settings: Settings; key: IdempotencyKey }): Promise<void> {
  await removeDocument(options.transport, { serviceSid: options.settings.syncServiceSid, uniqueName: documentName(options.key) });
}

/** Stores the first result where a repeat cannot rebuild it from Twilio (a cold transfer's close, a cancel). */
export async function recordResult<Result extends object>(options: {
  transport: TwilioTransport;
  settings: Settings;
  key: IdempotencyKey;
  startedAtMs: number;
  result: Result;
}): Promise<void> {
  const data: KeyDocumentData<Result> = { fingerprint: options.key.fingerprint, startedAtMs: options.startedAtMs, result: options.result };
  await updateDocument(options.transport, {
    serviceSid: options.settings.syncServiceSid,
    uniqueName: documentName(options.key),
    data: { ...data },
  });
}

/** Whether a failure proves Twilio did not act on the invite (so the key can be released). */
export function twilioDidNotAct(failure: Failure): boolean {
  switch (failure.kind) {
    case 'twilio-api':
      return failure.status < 500 || failure.status === 503;
    case 'upstream-unavailable':
      return true;
    case 'upstream-timeout':
    case 'upstream-connection-lost':
    case 'upstream-malformed-answer':
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
    case 'idempotency-key-reused':
      return true;
    default:
      return assertNever(failure);
  }
}
