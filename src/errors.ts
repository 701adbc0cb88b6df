import { type FieldProblem, RequestFailure } from './request-failure';
import type {
  TwilioApiError,
  UpstreamConnectionLostError,
  UpstreamMalformedAnswerError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from './upstream-failures';

/**
 * Every way a request can fail, one class per kind. Steps throw these; the
 * only place that turns them into HTTP answers is `http/errors.ts`, whose
 * switch over `kind` is checked for exhaustiveness by the compiler. This
 * module holds the refusals this code decides itself; the failures of calls
 * to Twilio are in `upstream-failures.ts`, and both are exported from here.
 */

export { type FieldProblem, RequestFailure } from './request-failure';
export * from './upstream-failures';

export class MethodNotAllowedError extends RequestFailure {
  readonly kind = 'method-not-allowed';
  constructor() {
    super(
      'Send a POST with a JSON or form body: these functions take no GET (the runtime does not tell them the method, so a request without a body is refused).',
    );
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
    super(`Invalid fields: ${[...new Set(problems.map((problem) => problem.field))].join(', ')} (see details).`);
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

/** v3: an agent transfer to a worker who is already with the customer (their task is still assigned). */
export class AlreadyParticipantError extends RequestFailure {
  readonly kind = 'already-participant';
  constructor(readonly workerSid: string) {
    super(`Worker ${workerSid} is already an agent in this conversation: nothing was transferred.`);
  }
}

/** v3: canceling this transfer would leave the customer alone: the agent who transferred is no longer with them. */
export class TransferringAgentGoneError extends RequestFailure {
  readonly kind = 'transferring-agent-gone';
  constructor(
    readonly taskSid: string,
    why: 'closed-at-once' | 'no-agent-left',
  ) {
    super(
      `Transfer ${taskSid}: ${
        why === 'closed-at-once'
          ? 'it is a cold transfer whose transferring agent was closed when it was made'
          : 'no agent of the conversation is still on an assigned task'
      }. Canceling it would leave the customer alone, so nothing was canceled.`,
    );
  }
}

/**
 * v3: /transfer-events could not close the transferring participant of an accepted cold transfer. Always a 5xx, so
 * that TaskRouter delivers the event again; the message names the participant to close by hand.
 */
export class TransferCloseFailedError extends RequestFailure {
  readonly kind = 'transfer-close-failed';
  constructor(options: { participantSid: string; channelSid: string; interactionSid: string; status: string; cause: unknown }) {
    const why = options.cause instanceof Error ? ` (${options.cause.message.replace(/\.$/, '')})` : '';
    super(
      `Participant ${options.participantSid} of channel ${options.channelSid} (interaction ${options.interactionSid}) was not set to ${options.status}${why}. ` +
        'TaskRouter will deliver the event again; if it does not, close that participant by hand.',
      { cause: options.cause },
    );
  }
}

/** v3: the workflow an agent transfer goes through cannot reach a named agent, so it would route to whoever its filters pick. */
export class AgentWorkflowMisconfiguredError extends RequestFailure {
  readonly kind = 'agent-workflow-misconfigured';
  constructor(readonly workflowSid: string) {
    super(
      `Workflow ${workflowSid} has no target whose known_worker_sid is task.transferTargetSid, so it cannot reach the agent a transfer names: nothing was created. ` +
        'Add a known-agent target first (see examples/taskrouter), or set TRANSFER_AGENT_ROUTING=direct.',
    );
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
  | AlreadyParticipantError
  | TransferringAgentGoneError
  | AgentWorkflowMisconfiguredError
  | TransferCloseFailedError
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
