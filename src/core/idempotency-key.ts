import type { FieldProblem } from '../errors';
import type { Caller } from './authenticate';
import type { AuthenticatedContext } from './context';
import { type IncomingRequest, readHeader } from './request';
import { sha256Hex } from './sha256';

/** An Idempotency-Key as received: printable ASCII, 1 to 255 characters (IETF Idempotency-Key draft). */
const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

export interface IdempotencyKey {
  /** SHA-256 of the key: the key record's name and the invites' `transferRequestKey`; the key itself is never stored. */
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
  if (field !== undefined && typeof field !== 'string') return problem('must be a string');
  // v3: an empty or blank key is a malformed key, never "no key" (`idempotencyKey="$(uuidgen)"` without uuidgen sends '').
  const fromField = field as string | undefined;
  const fromHeader = header.kind === 'single' ? header.value : undefined;
  if (fromField !== undefined && fromHeader !== undefined && fromField !== fromHeader) {
    return problem('differs from the Idempotency-Key header: send one key');
  }
  const key = fromHeader ?? fromField;
  if (key !== undefined && key.trim() === '')
    return problem('must not be empty or blank: send a fresh key (such as a UUID) per transfer, or none');
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
