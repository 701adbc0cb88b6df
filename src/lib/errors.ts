/**
 * Every way a transfer can fail, one class per kind. Steps throw these; the
 * only place that turns them into HTTP answers is `http-errors.ts`.
 */

export interface FieldProblem {
  field: string;
  message: string;
}

/** Which outbound call an upstream failure happened on. */
export type UpstreamOperation = 'token-validation' | 'participant-lookup' | 'invite' | 'participant-close';

/** What every failure below has in common: a `kind` that `http-errors.ts` maps to an answer. */
export abstract class TransferFailureBase extends Error {
  abstract readonly kind: string;
}

export class MethodNotAllowedError extends TransferFailureBase {
  readonly kind = 'method-not-allowed';
  constructor() {
    super('Transfers change state: send a POST with a JSON or form body.');
  }
}

export class MisconfiguredError extends TransferFailureBase {
  readonly kind = 'misconfigured';
  /** Only the variable's name: its value may be a secret. */
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Setting ${variable} ${problem}.`);
  }
}

export class UnauthenticatedError extends TransferFailureBase {
  readonly kind = 'unauthenticated';
}

export class ForbiddenError extends TransferFailureBase {
  readonly kind = 'forbidden';
}

export class InvalidRequestError extends TransferFailureBase {
  readonly kind = 'invalid-request';
  constructor(readonly problems: FieldProblem[]) {
    super('The request is invalid: see details.');
  }
}

export class PayloadTooLargeError extends TransferFailureBase {
  readonly kind = 'payload-too-large';
  constructor(readonly problems: FieldProblem[]) {
    super('The request is too large: see details.');
  }
}

/** Twilio answered with an HTTP error status (after any retries). */
export class TwilioApiError extends TransferFailureBase {
  readonly kind = 'twilio-api';
  constructor(
    readonly operation: UpstreamOperation,
    readonly status: number,
    readonly twilioMessage: string | undefined,
    readonly twilioCode: number | undefined,
    readonly moreInfo: string | undefined,
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(`Twilio answered HTTP ${status} to the ${operation} request.`);
  }
}

/** Twilio or the token validator could not be reached, or answered that it is unavailable. */
export class UpstreamUnavailableError extends TransferFailureBase {
  readonly kind = 'upstream-unavailable';
  constructor(readonly operation: UpstreamOperation) {
    super(`The ${operation} request could not be completed: the service was unreachable.`);
  }
}

/** The connection failed after the request may have been delivered (reset, hang-up). */
export class UpstreamConnectionLostError extends TransferFailureBase {
  readonly kind = 'upstream-connection-lost';
  constructor(readonly operation: UpstreamOperation) {
    super(`The connection broke during the ${operation} request.`);
  }
}

/** No answer within the request's deadline. */
export class UpstreamTimeoutError extends TransferFailureBase {
  readonly kind = 'upstream-timeout';
  constructor(readonly operation: UpstreamOperation) {
    super(`No answer to the ${operation} request within the deadline.`);
  }
}

/**
 * A defect in this code (a thrown value no step declared). Kept as its own kind
 * so that the response still honours the contract (JSON, no stack trace).
 */
export class InternalError extends TransferFailureBase {
  readonly kind = 'internal';
  constructor(readonly causeName: string) {
    super('The transfer function failed unexpectedly.');
  }
}

export type TransferFailure =
  | MethodNotAllowedError
  | MisconfiguredError
  | UnauthenticatedError
  | ForbiddenError
  | InvalidRequestError
  | PayloadTooLargeError
  | TwilioApiError
  | UpstreamUnavailableError
  | UpstreamConnectionLostError
  | UpstreamTimeoutError
  | InternalError;

export function asTransferFailure(thrown: unknown): TransferFailure {
  if (thrown instanceof TransferFailureBase) return thrown as TransferFailure;
  return new InternalError(thrown instanceof Error ? thrown.name : typeof thrown);
}
