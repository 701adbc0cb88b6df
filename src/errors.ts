import type { TwilioOperation } from './twilio/operations';

/**
 * Every way a request can fail, one class per kind. Steps throw these; the
 * only place that turns them into HTTP answers is `http/errors.ts`, whose
 * switch over `kind` is checked for exhaustiveness by the compiler.
 */

export interface FieldProblem {
  field: string;
  message: string;
}

/** Which outbound call an upstream failure happened on. */
export type UpstreamOperation = TwilioOperation;

/** What every failure below has in common: a `kind` that `http/errors.ts` maps to an answer. */
export abstract class RequestFailure extends Error {
  abstract readonly kind: string;
  /** For a failed call to Twilio: what it means for the caller's transfer or cancel (set by the core, told after the failure). */
  consequences: { notSent: string; uncertain: string } | undefined;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class MethodNotAllowedError extends RequestFailure {
  readonly kind = 'method-not-allowed';
  constructor() {
    super('This function changes state: send a POST with a JSON or form body.');
  }
}

export class UnsupportedMediaTypeError extends RequestFailure {
  readonly kind = 'unsupported-media-type';
  constructor(readonly contentType: string) {
    super('Send the body as application/json or application/x-www-form-urlencoded; other content types are not read.');
  }
}

export class MisconfiguredError extends RequestFailure {
  readonly kind = 'misconfigured';
  readonly variable: string;
  /** Only the variable's name reaches the message: its value may be a secret. */
  constructor(options: { variable: string; problem: string }) {
    super(`Setting ${options.variable} ${options.problem}.`);
    this.variable = options.variable;
  }
}

/**
 * No accepted credential. Every such failure answers the same public message,
 * so an outsider learns nothing (not even whether Basic is enabled); `reason`
 * is for the log line only.
 */
export class UnauthenticatedError extends RequestFailure {
  readonly kind = 'unauthenticated';
  static readonly PUBLIC_MESSAGE =
    'No accepted credential: send the Flex token (Token field or Authorization: Bearer), a Twilio signature, or Basic credentials.';
  /** Whether the answer challenges for Basic credentials (Studio's HTTP widget sends them only after one). */
  challengeBasic = false;
  constructor(readonly reason: string) {
    super(UnauthenticatedError.PUBLIC_MESSAGE);
  }
}

export class ForbiddenError extends RequestFailure {
  readonly kind = 'forbidden';
}

export class InvalidRequestError extends RequestFailure {
  readonly kind = 'invalid-request';
  constructor(readonly problems: FieldProblem[]) {
    super('The request is invalid: see details.');
  }
}

export class PayloadTooLargeError extends RequestFailure {
  readonly kind = 'payload-too-large';
  constructor(readonly problems: FieldProblem[]) {
    super('The request is too large: see details.');
  }
}

/** Something the request names does not exist (or is not what it claims to be), found before anything was changed. */
export class NotFoundError extends RequestFailure {
  readonly kind = 'not-found';
  readonly field: string;
  constructor(options: { field: string; message: string }) {
    super(options.message);
    this.field = options.field;
  }
}

/** The request cannot be carried out in the current state; retrying the same request may succeed later only if `retryAfterSeconds` is set. */
export class ConflictError extends RequestFailure {
  readonly kind = 'conflict';
  readonly retryAfterSeconds: number | undefined;
  constructor(options: { message: string; retryAfterSeconds?: number; cause?: unknown }) {
    super(options.message, { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export class IdempotencyKeyReusedError extends RequestFailure {
  readonly kind = 'idempotency-key-reused';
  constructor() {
    super('This Idempotency-Key was already used for a different request: send a new key for a new transfer.');
  }
}

/** Twilio answered with an HTTP error status (after any retries). */
export class TwilioApiError extends RequestFailure {
  readonly kind = 'twilio-api';
  readonly operation: UpstreamOperation;
  readonly status: number;
  readonly twilioMessage: string | undefined;
  readonly twilioCode: number | undefined;
  readonly moreInfo: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  constructor(options: {
    operation: UpstreamOperation;
    status: number;
    twilioMessage?: string;
    twilioCode?: number;
    moreInfo?: string;
    retryAfterSeconds?: number;
    cause?: unknown;
  }) {
    super(`Twilio answered HTTP ${options.status} to the ${options.operation} request.`, { cause: options.cause });
    this.operation = options.operation;
    this.status = options.status;
    this.twilioMessage = options.twilioMessage;
    this.twilioCode = options.twilioCode;
    this.moreInfo = options.moreInfo;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Twilio could not be reached (nothing was sent), or this instance declined to call it (`retryAfterSeconds`). */
export class UpstreamUnavailableError extends RequestFailure {
  readonly kind = 'upstream-unavailable';
  readonly retryAfterSeconds: number | undefined;
  constructor(
    readonly operation: UpstreamOperation,
    options: { retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(`The ${operation} request could not be completed: the service was unreachable.`, { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** The connection failed after the request may have been delivered (reset, hang-up). */
export class UpstreamConnectionLostError extends RequestFailure {
  readonly kind = 'upstream-connection-lost';
  constructor(
    readonly operation: UpstreamOperation,
    options: { cause?: unknown } = {},
  ) {
    super(`The connection broke during the ${operation} request.`, options);
  }
}

/** Twilio answered success with something that is not what its API returns (not JSON, null, no SID). */
export class UpstreamMalformedAnswerError extends RequestFailure {
  readonly kind = 'upstream-malformed-answer';
  constructor(
    readonly operation: UpstreamOperation,
    options: { detail: string; cause?: unknown },
  ) {
    super(`Twilio's answer to the ${operation} request was not understood (${options.detail}).`, { cause: options.cause });
  }
}

/** No answer within the request's deadline. */
export class UpstreamTimeoutError extends RequestFailure {
  readonly kind = 'upstream-timeout';
  constructor(
    readonly operation: UpstreamOperation,
    options: { cause?: unknown } = {},
  ) {
    super(`No answer to the ${operation} request within the deadline.`, options);
  }
}

/**
 * A defect in this code (a thrown value no step declared). Kept as its own kind
 * so that the response still honours the contract (JSON, no stack trace); the
 * stack goes to the log through `cause`.
 */
export class InternalError extends RequestFailure {
  readonly kind = 'internal';
  constructor(options: { cause: unknown }) {
    super('The function failed unexpectedly.', options);
  }
}

export type Failure =
  | MethodNotAllowedError
  | UnsupportedMediaTypeError
  | MisconfiguredError
  | UnauthenticatedError
  | ForbiddenError
  | InvalidRequestError
  | PayloadTooLargeError
  | NotFoundError
  | ConflictError
  | IdempotencyKeyReusedError
  | TwilioApiError
  | UpstreamUnavailableError
  | UpstreamConnectionLostError
  | UpstreamMalformedAnswerError
  | UpstreamTimeoutError
  | InternalError;

/** Ends a switch that must handle every failure kind: adding a kind without handling it fails to compile. */
export function assertNever(value: never): never {
  throw new Error(`unhandled failure ${JSON.stringify(value)}`);
}

export function asFailure(thrown: unknown): Failure {
  if (thrown instanceof RequestFailure) return thrown as Failure;
  return new InternalError({ cause: thrown });
}
