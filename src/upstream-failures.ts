import { RequestFailure } from './request-failure';
import type { TwilioOperation } from './twilio/operations';

/** Which outbound call an upstream failure happened on. */
export type UpstreamOperation = TwilioOperation;

/**
 * The ways a call to Twilio fails, one class per kind: each names the call
 * (its operation). Whether Twilio may have acted on it is decided by the core
 * (core/consequences.ts); the answer's status by `http/errors.ts`.
 */

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
  /** What was tried and how it failed, in words: "the DNS lookup of taskrouter.twilio.com failed (ENOTFOUND)", "busy". */
  readonly tried: string | undefined;
  constructor(
    readonly operation: UpstreamOperation,
    options: { retryAfterSeconds?: number; cause?: unknown; tried?: string } = {},
  ) {
    super(`The ${operation} request could not be completed: ${options.tried ?? 'the service was unreachable'}.`, { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.tried = options.tried;
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
