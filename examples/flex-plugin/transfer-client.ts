/**
 * A typed, dependency-free client for the transfer functions, for Flex UI
 * plugins (copy this file into your plugin). It needs only `fetch` and
 * `AbortController`, which Flex UI browsers and Node 20+ provide.
 *
 * Authentication: the agent's Flex token goes in an `Authorization: Bearer`
 * header, never in the body. Pass `token: () => manager.user.token` so that
 * every call uses the current (refreshed) token.
 *
 * Every answer other than 201 becomes a subclass of `TransferError`, chosen by
 * the answer's `error.code`; `switch (error.code)` narrows the union
 * `AnyTransferError`.
 */

// ---------------------------------------------------------------------------
// Requests and results (see the project's contract, transfer-api.md)
// ---------------------------------------------------------------------------

export type TransferType = 'warm' | 'cold';
export type ParticipantStatus = 'closed' | 'wrapup';

/** Fields both functions accept. Optional fields left undefined are not sent. */
export interface TransferOptions {
  /** `KD…`: `task.attributes.flexInteractionSid`. */
  interactionSid: string;
  /** `UO…`: `task.attributes.flexInteractionChannelSid`. */
  channelSid: string;
  /** `WW…`: a workflow other than the service's default. */
  workflowSid?: string;
  /** Task channel unique name, e.g. `chat`. */
  taskChannel?: string;
  /** Extra attributes for the new task (the transfer keys are set by the function and cannot be overridden). */
  attributes?: Record<string, unknown>;
  priority?: number;
  /** Seconds. */
  timeout?: number;
  /** `warm` (default): you stay in the conversation. `cold`: you leave it once the invite exists. */
  transferType?: TransferType;
  /**
   * `UT…`: your participant in the channel, closed by a cold transfer. Usually
   * left out: the function finds the participant whose routing properties name
   * your worker.
   */
  participantSid?: string;
  /** What your participant becomes in a cold transfer: `closed` (default) or `wrapup`. */
  participantStatus?: ParticipantStatus;
  /** `WT…`: the task being transferred, recorded as `transferredFromTaskSid` on the new task. */
  taskSid?: string;
}

export interface AgentTransferOptions extends TransferOptions {
  /** `WK…`: the agent to invite. */
  workerSid: string;
  /** `WQ…`: the queue the new task goes through (default: the service's TRANSFER_AGENT_QUEUE_SID). */
  queueSid?: string;
}

export interface QueueTransferOptions extends TransferOptions {
  /** `WQ…`: the queue to invite. */
  queueSid: string;
}

/** The 201 answer. */
export interface TransferResult {
  inviteSid: string;
  interactionSid: string;
  channelSid: string;
  /** The new task, when Twilio said which one it created. */
  taskSid: string | null;
  target: { type: 'worker' | 'queue'; sid: string };
  transferType: TransferType;
  /** Cold transfers: whether your participant was closed (false with a warning if that step failed after the invite). */
  participantClosed: boolean;
  warnings: string[];
}

export interface CallOptions {
  /** Give up after this many milliseconds (default: the client's `timeoutMs`). */
  timeoutMs?: number;
  /** Abort from outside, e.g. when the component unmounts. */
  signal?: AbortSignal;
}

export interface TransferClientOptions {
  /** The Functions service domain, e.g. `https://your-service-1234-dev.twil.io`. */
  baseUrl: string;
  /** The agent's Flex token; a function is called before every request (`() => manager.user.token`). */
  token: string | (() => string | Promise<string>);
  /** Per-call timeout in milliseconds; default 9500 (the functions answer within 9 s). */
  timeoutMs?: number;
  /** A `fetch` implementation; default the global one. */
  fetch?: typeof fetch;
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

export interface FieldProblem {
  field: string;
  message: string;
}

/** The codes the functions answer with. */
export type ServerErrorCode =
  | 'invalid_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'payload_too_large'
  | 'upstream_rejected'
  | 'rate_limited'
  | 'misconfigured'
  | 'internal_error'
  | 'upstream_error'
  | 'upstream_unavailable'
  | 'upstream_timeout';

/** Failures found by the client itself: no usable answer arrived. */
export type ClientErrorCode = 'client_timeout' | 'network_error' | 'unexpected_response';

export type TransferErrorCode = ServerErrorCode | ClientErrorCode;

interface TransferErrorInit {
  status: number;
  message: string;
  details?: FieldProblem[];
  twilioCode?: number;
  moreInfo?: string;
  retryAfterSeconds?: number;
  cause?: unknown;
}

/** Base of every error this client throws. `status` is 0 when no HTTP answer was received. */
export abstract class TransferError extends Error {
  abstract readonly code: TransferErrorCode;
  readonly status: number;
  /** Every bad field (400 and 413). */
  readonly details: readonly FieldProblem[] | undefined;
  /** Twilio's own error code, when Twilio's answer caused the error (404, 409, 422, 429, 502). */
  readonly twilioCode: number | undefined;
  /** Twilio's documentation link for `twilioCode`. */
  readonly moreInfo: string | undefined;
  /** 429: seconds to wait before trying again, from the `Retry-After` header. */
  readonly retryAfterSeconds: number | undefined;

  constructor(init: TransferErrorInit) {
    super(init.message);
    this.name = new.target.name;
    // Set like ES2022's `cause` option, without needing the ES2022 library typings.
    if (init.cause !== undefined) Object.defineProperty(this, 'cause', { value: init.cause, configurable: true, writable: true });
    this.status = init.status;
    this.details = init.details;
    this.twilioCode = init.twilioCode;
    this.moreInfo = init.moreInfo;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/** 400: the request is invalid; `details` lists every bad field. Nothing was sent to Twilio. */
export class InvalidRequestError extends TransferError {
  readonly code = 'invalid_request';
}
/** 401: the Flex token is missing, malformed or was rejected. */
export class UnauthenticatedError extends TransferError {
  readonly code = 'unauthenticated';
}
/** 403: your Flex role may not transfer, or the workflow is not allowed. */
export class ForbiddenError extends TransferError {
  readonly code = 'forbidden';
}
/** 404: Twilio does not know the interaction, channel or participant. */
export class NotFoundError extends TransferError {
  readonly code = 'not_found';
}
/** 405: the request had no body (never sent by this client). */
export class MethodNotAllowedError extends TransferError {
  readonly code = 'method_not_allowed';
}
/** 409: Twilio reported a conflict. */
export class ConflictError extends TransferError {
  readonly code = 'conflict';
}
/** 413: `attributes` is over 16384 bytes. */
export class PayloadTooLargeError extends TransferError {
  readonly code = 'payload_too_large';
}
/** 422: Twilio rejected the request (for example a queue or workflow of another workspace). */
export class UpstreamRejectedError extends TransferError {
  readonly code = 'upstream_rejected';
}
/** 429: Twilio is rate limiting; nothing was created. Wait `retryAfterSeconds`. */
export class RateLimitedError extends TransferError {
  readonly code = 'rate_limited';
}
/** 500: the service is misconfigured (the message names the setting). */
export class MisconfiguredError extends TransferError {
  readonly code = 'misconfigured';
}
/** 500: the function failed unexpectedly. */
export class InternalServerError extends TransferError {
  readonly code = 'internal_error';
}
/** 502: Twilio failed. The transfer may or may not have happened: check the conversation before retrying. */
export class UpstreamError extends TransferError {
  readonly code = 'upstream_error';
}
/** 503: Twilio or the token validator could not be reached. */
export class UpstreamUnavailableError extends TransferError {
  readonly code = 'upstream_unavailable';
}
/** 504: no answer from Twilio in time. The transfer may or may not have happened. */
export class UpstreamTimeoutError extends TransferError {
  readonly code = 'upstream_timeout';
}
/** No answer within the client's timeout. The transfer may or may not have happened. */
export class TransferTimeoutError extends TransferError {
  readonly code = 'client_timeout';
}
/** The request could not be sent or the connection broke (offline, DNS, CORS refused). */
export class TransferNetworkError extends TransferError {
  readonly code = 'network_error';
}
/** The answer was not one the contract describes (not JSON, or an unknown error code). */
export class UnexpectedResponseError extends TransferError {
  readonly code = 'unexpected_response';
}

export type AnyTransferError =
  | InvalidRequestError
  | UnauthenticatedError
  | ForbiddenError
  | NotFoundError
  | MethodNotAllowedError
  | ConflictError
  | PayloadTooLargeError
  | UpstreamRejectedError
  | RateLimitedError
  | MisconfiguredError
  | InternalServerError
  | UpstreamError
  | UpstreamUnavailableError
  | UpstreamTimeoutError
  | TransferTimeoutError
  | TransferNetworkError
  | UnexpectedResponseError;

type ErrorClass = new (init: TransferErrorInit) => AnyTransferError;

const ERROR_CLASSES: Record<ServerErrorCode, ErrorClass> = {
  invalid_request: InvalidRequestError,
  unauthenticated: UnauthenticatedError,
  forbidden: ForbiddenError,
  not_found: NotFoundError,
  method_not_allowed: MethodNotAllowedError,
  conflict: ConflictError,
  payload_too_large: PayloadTooLargeError,
  upstream_rejected: UpstreamRejectedError,
  rate_limited: RateLimitedError,
  misconfigured: MisconfiguredError,
  internal_error: InternalServerError,
  upstream_error: UpstreamError,
  upstream_unavailable: UpstreamUnavailableError,
  upstream_timeout: UpstreamTimeoutError,
};

export function isTransferError(value: unknown): value is AnyTransferError {
  return value instanceof TransferError;
}

// ---------------------------------------------------------------------------
// Reading a Flex task
// ---------------------------------------------------------------------------

/** The part of a Flex UI `ITask` this client reads. */
export interface ConversationTaskLike {
  /** `WT…` (`ITask.sid` is the reservation, `WR…`). */
  taskSid?: string;
  attributes?: unknown;
}

export type TaskTransferArgs = Pick<TransferOptions, 'interactionSid' | 'channelSid' | 'taskSid'>;

/**
 * The interaction, channel and task of a Flex Conversations task. Flex sets
 * `flexInteractionSid` and `flexInteractionChannelSid` on the task's attributes;
 * a task without them (a voice call, a legacy chat) cannot be transferred this
 * way and throws a TypeError.
 *
 * The agent's own participant SID is not a task attribute: leave
 * `participantSid` out and the function finds it from your worker.
 */
export function transferArgsFromTask(task: ConversationTaskLike): TaskTransferArgs {
  const attributes = (typeof task.attributes === 'object' && task.attributes !== null ? task.attributes : {}) as Record<string, unknown>;
  const interactionSid = attributes.flexInteractionSid;
  const channelSid = attributes.flexInteractionChannelSid;
  if (typeof interactionSid !== 'string' || !interactionSid.startsWith('KD')) {
    throw new TypeError('This task has no flexInteractionSid attribute: it is not a Flex Conversations task.');
  }
  if (typeof channelSid !== 'string' || !channelSid.startsWith('UO')) {
    throw new TypeError('This task has no flexInteractionChannelSid attribute: it is not a Flex Conversations task.');
  }
  const args: TaskTransferArgs = { interactionSid, channelSid };
  if (typeof task.taskSid === 'string' && task.taskSid.startsWith('WT')) args.taskSid = task.taskSid;
  return args;
}

// ---------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------

export const DEFAULT_TIMEOUT_MS = 9500;

function stripUndefined(fields: object): Record<string, unknown> {
  const defined: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) defined[name] = value;
  return defined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function retryAfterSeconds(headers: Headers): number | undefined {
  // A browser only lets a cross-origin page read Retry-After if the answer exposes it
  // (Access-Control-Expose-Headers); otherwise this is undefined.
  const value = headers.get('retry-after');
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

function isTransferResult(value: unknown): value is TransferResult {
  return (
    isObject(value) &&
    typeof value.inviteSid === 'string' &&
    typeof value.interactionSid === 'string' &&
    typeof value.channelSid === 'string' &&
    isObject(value.target) &&
    typeof value.participantClosed === 'boolean' &&
    Array.isArray(value.warnings)
  );
}

function errorFromAnswer(status: number, headers: Headers, body: unknown): AnyTransferError {
  const error = isObject(body) && isObject(body.error) ? body.error : undefined;
  const code = typeof error?.code === 'string' ? error.code : undefined;
  const ErrorType =
    code !== undefined && Object.prototype.hasOwnProperty.call(ERROR_CLASSES, code) ? ERROR_CLASSES[code as ServerErrorCode] : undefined;
  if (error === undefined || ErrorType === undefined) {
    return new UnexpectedResponseError({
      status,
      message: `The transfer service answered HTTP ${status}${code === undefined ? ' without an error code' : ` with an unknown code (${code})`}.`,
    });
  }
  const init: TransferErrorInit = {
    status,
    message: typeof error.message === 'string' ? error.message : `The transfer failed (${code}).`,
  };
  if (Array.isArray(error.details)) {
    init.details = error.details.filter(
      (item): item is FieldProblem => isObject(item) && typeof item.field === 'string' && typeof item.message === 'string',
    );
  }
  if (typeof error.twilioCode === 'number') init.twilioCode = error.twilioCode;
  if (typeof error.moreInfo === 'string') init.moreInfo = error.moreInfo;
  if (status === 429) init.retryAfterSeconds = retryAfterSeconds(headers);
  return new ErrorType(init);
}

export class TransferClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: TransferClientOptions) {
    const url = new URL(options.baseUrl); // throws on a relative or malformed URL
    this.baseUrl = url.origin + url.pathname.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') throw new TypeError('No fetch implementation: pass one as options.fetch.');
    this.fetchImpl = fetchImpl;
  }

  /** POST /transfer-to-agent: invite one agent (worker) to the conversation. */
  transferToAgent(request: AgentTransferOptions, call: CallOptions = {}): Promise<TransferResult> {
    return this.post('/transfer-to-agent', request, call);
  }

  /** POST /transfer-to-queue: invite a TaskRouter queue to the conversation. */
  transferToQueue(request: QueueTransferOptions, call: CallOptions = {}): Promise<TransferResult> {
    return this.post('/transfer-to-queue', request, call);
  }

  private async token(): Promise<string> {
    const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    if (typeof token !== 'string' || token === '') throw new TypeError('No Flex token: is the agent signed in?');
    return token;
  }

  private async post(path: string, request: TransferOptions, call: CallOptions): Promise<TransferResult> {
    const token = await this.token();
    const controller = new AbortController();
    const timeoutMs = call.timeoutMs ?? this.timeoutMs;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const abortFromCaller = () => controller.abort(call.signal?.reason);
    if (call.signal?.aborted) abortFromCaller();
    call.signal?.addEventListener('abort', abortFromCaller, { once: true });

    try {
      let response: Response;
      let text: string;
      try {
        response = await this.fetchImpl(this.baseUrl + path, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${token}` },
          body: JSON.stringify(stripUndefined(request)),
          signal: controller.signal,
        });
        text = await response.text();
      } catch (thrown) {
        if (timedOut) {
          throw new TransferTimeoutError({
            status: 0,
            message: `No answer within ${timeoutMs} ms. The transfer may or may not have happened: check the conversation before trying again.`,
            cause: thrown,
          });
        }
        if (call.signal?.aborted) throw thrown; // the caller's own abort, unchanged
        throw new TransferNetworkError({ status: 0, message: 'The transfer service could not be reached.', cause: thrown });
      }

      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (response.status === 201 && isTransferResult(body)) return body;
      if (response.ok) {
        throw new UnexpectedResponseError({ status: response.status, message: `Unexpected answer HTTP ${response.status} to a transfer.` });
      }
      throw errorFromAnswer(response.status, response.headers, body);
    } finally {
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', abortFromCaller);
    }
  }
}
