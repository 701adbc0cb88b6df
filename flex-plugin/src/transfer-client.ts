/**
 * A typed, dependency-free client for the transfer functions (contract v3),
 * used by this plugin and importable by any other Flex UI plugin. It needs
 * `fetch`, `AbortController`, `URLSearchParams` and `crypto.randomUUID`,
 * which Flex UI browsers and Node 20+ provide. It imports nothing from Flex,
 * so it also runs in Node (the repository's end-to-end tests load it there).
 *
 * Every request is a CORS "simple request": a form body carrying the agent's
 * token in the `Token` field and no custom header, so a browser sends it
 * without an OPTIONS preflight.
 *
 * Each transfer or cancel is one user action with its own idempotency key.
 * Answers that mean "not done yet" (no answer at all, 503, 504, and 409 with
 * Retry-After) are retried with that same key, so the functions carry the
 * action out at most once however many times it is sent.
 */

export type TransferType = 'warm' | 'cold';
export type ParticipantStatus = 'closed' | 'wrapup';

export interface ChannelRef {
  /** `KD…`: `task.attributes.flexInteractionSid`. */
  interactionSid: string;
  /** `UO…`: `task.attributes.flexInteractionChannelSid`. */
  channelSid: string;
}

/** Fields both transfers accept. Fields left undefined are not sent. */
export interface TransferFields extends ChannelRef {
  /** `WT…`: the task being transferred; its attributes and channel carry over to the new task. */
  taskSid?: string;
  /** Task channel unique name, e.g. `chat` (default: the original task's). */
  taskChannel?: string;
  /** `WW…`: the workflow of the new task (default: the service's TRANSFER_WORKFLOW_SID, then the original task's). */
  workflowSid?: string;
  /** Extra attributes for the new task; the keys the functions set themselves always win. */
  attributes?: Record<string, unknown>;
  priority?: number;
  /** Seconds. */
  timeout?: number;
  /**
   * `warm` (default): you stay in the conversation. `cold`: you leave it, by default once the new agent accepts
   * (`participantCloses: 'on-accept'` in the answer), or at once when the service is set up to close immediately.
   */
  transferType?: TransferType;
  /** `UT…`: your participant, closed by a cold transfer. Usually left out: the functions find it from your worker. */
  participantSid?: string;
  /** What your participant becomes in a cold transfer: `closed` (default) or `wrapup`. */
  participantStatus?: ParticipantStatus;
}

export interface AgentTransferRequest extends TransferFields {
  /** `WK…`: the agent to invite. */
  workerSid: string;
  /**
   * `WQ…`: in the service's default workflow routing, passed to the workflow as the attribute `transferQueueSid`;
   * in direct routing, the queue the new task goes through (default TRANSFER_AGENT_QUEUE_SID, then the original task's).
   */
  queueSid?: string;
}

export interface QueueTransferRequest extends TransferFields {
  /** `WQ…`: the queue to invite. */
  queueSid: string;
}

export interface TransferTarget {
  type: 'worker' | 'queue';
  sid: string;
}

/** The 201 body of a transfer. */
export interface TransferResult {
  inviteSid: string;
  interactionSid: string;
  channelSid: string;
  /** The new task, when Twilio said which one it created. */
  taskSid: string | null;
  target: TransferTarget;
  transferType: TransferType;
  /** Cold transfers: whether your participant was closed already (false, with a warning, if only that step failed). */
  participantClosed: boolean;
  /**
   * `on-accept`: a cold transfer whose transferring participant (you) stays in the conversation until the new agent
   * accepts, and is then closed by the functions; null otherwise.
   */
  participantCloses: ParticipantCloses;
  warnings: string[];
}

/** When a cold transfer closes the transferring participant: `on-accept` (v3 default), or null (already done, or warm). */
export type ParticipantCloses = 'on-accept' | null;

/** A transfer, plus whether the functions answered it from an earlier attempt with the same key. Both are successes. */
export type TransferOutcome = TransferResult & { replayed: boolean };

export interface PendingTransfer {
  inviteSid: string;
  /** The invite's task: what `cancelTransfer` cancels. */
  taskSid: string | null;
  /** Null when the invite's task no longer carries the transfer's own attributes. */
  target: TransferTarget | null;
  transferType: TransferType | null;
  /** `WK…` of the agent who transferred; null for Studio and other signed callers. */
  transferredByWorkerSid: string | null;
  /** ISO 8601; null when Twilio's invite list does not say. */
  createdAt: string | null;
  /** The invite's task's current `assignment_status` (read for the newest 20 transfers; null for older ones). */
  taskStatus: string | null;
  /** `on-accept` while a cold transfer's transferring agent stays until the new agent accepts; null otherwise. */
  participantCloses: ParticipantCloses;
  /** Whether `cancelTransfer` would cancel it now; null when its status was not read. Offer "Cancel" only on `true`. */
  cancelable: boolean | null;
}

export interface CancelTransferRequest extends ChannelRef {
  /** `WT…`: the pending transfer's task (`PendingTransfer.taskSid`). */
  taskSid: string;
  /** Recorded by TaskRouter; default "Transfer canceled". */
  reason?: string;
}

export interface CancelTransferResult {
  taskSid: string;
  canceled: true;
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/** The codes the functions answer with. */
const SERVER_ERROR_CODES = [
  'invalid_request',
  'unauthenticated',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'conflict',
  'already_participant',
  'transferring_agent_gone',
  'payload_too_large',
  'unsupported_media_type',
  'idempotency_key_reused',
  'upstream_rejected',
  'rate_limited',
  'misconfigured',
  'internal_error',
  'upstream_error',
  'upstream_unavailable',
  'upstream_timeout',
] as const;
export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number];
/** Every code the functions answer with, for code that needs one entry per code (e.g. one notification each). */
export const SERVER_ERROR_CODE_LIST: readonly ServerErrorCode[] = SERVER_ERROR_CODES;

/** Failures found by the client itself. */
export type ClientErrorCode =
  /** The functions could not be reached, or the browser refused the answer (CORS). */
  | 'network_error'
  /** No answer within the call's time budget. */
  | 'timeout'
  /** An answer the contract does not describe. */
  | 'unexpected_response';

export type TransferErrorCode = ServerErrorCode | ClientErrorCode;
export const CLIENT_ERROR_CODE_LIST: readonly ClientErrorCode[] = ['network_error', 'timeout', 'unexpected_response'];

const isServerErrorCode = (code: unknown): code is ServerErrorCode => (SERVER_ERROR_CODES as readonly unknown[]).includes(code);

export interface FieldProblem {
  field: string;
  message: string;
}

interface TransferErrorDetails {
  details?: FieldProblem[];
  twilioCode?: number;
  moreInfo?: string;
  retryAfterSeconds?: number;
  requestId?: string;
  idempotencyKey?: string;
  cause?: unknown;
}

/** Every failure this client reports. `switch (error.code)` to handle one. */
export class TransferError extends Error {
  override readonly name = 'TransferError';
  /** Every bad field of a 400 or 413. */
  readonly details: FieldProblem[] | undefined;
  /** Twilio's own error code, when Twilio's answer caused the error. */
  readonly twilioCode: number | undefined;
  readonly moreInfo: string | undefined;
  /** From the `Retry-After` header (429, and a 409 that kept coming back). */
  readonly retryAfterSeconds: number | undefined;
  /** The functions' `X-Request-Id`: quote it when you report a problem. */
  readonly requestId: string | undefined;
  /** The action's key: pass it as `CallOptions.idempotencyKey` to try the same action again without doing it twice. */
  readonly idempotencyKey: string | undefined;

  constructor(
    readonly code: TransferErrorCode,
    message: string,
    /** The HTTP status; 0 when no answer arrived. */
    readonly status: number,
    extra: TransferErrorDetails = {},
  ) {
    super(message);
    // Set like ES2022's `cause` option, which older plugin build targets lack.
    if (extra.cause !== undefined) Object.defineProperty(this, 'cause', { value: extra.cause, configurable: true, writable: true });
    this.details = extra.details;
    this.twilioCode = extra.twilioCode;
    this.moreInfo = extra.moreInfo;
    this.retryAfterSeconds = extra.retryAfterSeconds;
    this.requestId = extra.requestId;
    this.idempotencyKey = extra.idempotencyKey;
  }
}

// ---------------------------------------------------------------------------
// Reading a Flex task
// ---------------------------------------------------------------------------

/** The part of a Flex UI `ITask` this client reads. */
export interface ConversationTaskLike {
  /** `WT…` (`ITask.sid` is the reservation, `WR…`). */
  taskSid?: string;
  /** The task channel's unique name, e.g. `chat`. */
  taskChannelUniqueName?: string;
  attributes?: unknown;
}

export type TaskTransferArgs = Pick<TransferFields, 'interactionSid' | 'channelSid' | 'taskSid' | 'taskChannel'>;

/**
 * The interaction, channel, task and task channel of a Flex Conversations
 * task. A task without `flexInteractionSid` / `flexInteractionChannelSid`
 * attributes (a voice call, a legacy chat) cannot be transferred this way and
 * throws a TypeError.
 */
export function transferArgsFromTask(task: ConversationTaskLike): TaskTransferArgs {
  const attributes = isRecord(task.attributes) ? task.attributes : {};
  const { flexInteractionSid: interactionSid, flexInteractionChannelSid: channelSid } = attributes;
  if (typeof interactionSid !== 'string' || !interactionSid.startsWith('KD')) {
    throw new TypeError('This task has no flexInteractionSid attribute: it is not a Flex Conversations task.');
  }
  if (typeof channelSid !== 'string' || !channelSid.startsWith('UO')) {
    throw new TypeError('This task has no flexInteractionChannelSid attribute: it is not a Flex Conversations task.');
  }
  const args: TaskTransferArgs = { interactionSid, channelSid };
  if (typeof task.taskSid === 'string' && task.taskSid.startsWith('WT')) args.taskSid = task.taskSid;
  if (typeof task.taskChannelUniqueName === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(task.taskChannelUniqueName)) {
    args.taskChannel = task.taskChannelUniqueName;
  }
  return args;
}

// ---------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------

export interface TransferClientOptions {
  /** The Functions service domain, e.g. `https://your-service-1234-dev.twil.io`. */
  baseUrl: string;
  /** The agent's Flex token; pass a function (`() => manager.user.token`) so every attempt uses the current one. */
  token: string | (() => string | Promise<string>);
  /**
   * `field` (default): the `Token` form field; no preflight. `bearer`: an
   * `Authorization` header, which makes browsers send a preflight that the
   * service's CORS answer must allow by name.
   */
  sendTokenAs?: 'field' | 'bearer';
  /** Milliseconds one call may take, retries included; default 20000. */
  budgetMs?: number;
  /** Milliseconds one attempt may take; default 10000 (the functions answer within 9 s). */
  attemptTimeoutMs?: number;
  /** A `fetch` implementation; default the global one. */
  fetch?: typeof fetch;
}

export interface CallOptions {
  /** Abort from outside, e.g. when the component unmounts: the call rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Repeat an earlier action (`TransferError.idempotencyKey`) instead of starting a new one. */
  idempotencyKey?: string;
}

export const DEFAULT_BUDGET_MS = 20_000;
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 10_000;
const FIRST_RETRY_DELAY_MS = 250;
const MAX_RETRY_DELAY_MS = 2_000;
/**
 * A retry is sent only if it can still have this long before the budget ends: one squeezed into the last few
 * milliseconds would end in a timeout that hides the real failure (a 503, a refused connection) from the caller.
 */
const MIN_ATTEMPT_WINDOW_MS = 400;

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

export class TransferClient {
  private readonly baseUrl: string;
  private readonly budgetMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: TransferClientOptions) {
    const url = new URL(options.baseUrl); // throws on a relative or malformed URL
    this.baseUrl = url.origin + url.pathname.replace(/\/+$/, '');
    this.budgetMs = options.budgetMs ?? DEFAULT_BUDGET_MS;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') throw new TypeError('No fetch implementation: pass one as options.fetch.');
    // Called unbound, a browser's fetch throws "Illegal invocation".
    this.fetchImpl = (input, init) => fetchImpl(input, init);
  }

  /** POST /transfer-to-agent: invite one agent (worker) to the conversation. */
  transferToAgent(request: AgentTransferRequest, call: CallOptions = {}): Promise<TransferOutcome> {
    return this.transfer('/transfer-to-agent', request, call);
  }

  /** POST /transfer-to-queue: invite a TaskRouter queue to the conversation. */
  transferToQueue(request: QueueTransferRequest, call: CallOptions = {}): Promise<TransferOutcome> {
    return this.transfer('/transfer-to-queue', request, call);
  }

  /** POST /list-transfers: the channel's transfers, newest first. */
  async listTransfers(channel: ChannelRef, call: Pick<CallOptions, 'signal'> = {}): Promise<{ transfers: PendingTransfer[] }> {
    const fields = { interactionSid: channel.interactionSid, channelSid: channel.channelSid };
    const answer = await this.send('/list-transfers', fields, undefined, call.signal);
    const body = answer.body;
    if (answer.status === 200 && isRecord(body) && Array.isArray(body.transfers)) {
      const items = body.transfers.filter((item): item is Record<string, unknown> => isRecord(item) && typeof item.inviteSid === 'string');
      return { transfers: items.map(pendingTransferFrom) };
    }
    throw unexpectedAnswer(answer);
  }

  /** POST /cancel-transfer: cancel a transfer nobody has accepted yet. */
  async cancelTransfer(request: CancelTransferRequest, call: CallOptions = {}): Promise<CancelTransferResult> {
    const idempotencyKey = call.idempotencyKey ?? crypto.randomUUID();
    const answer = await this.send('/cancel-transfer', request, idempotencyKey, call.signal);
    const body = answer.body;
    if (answer.status === 200 && isRecord(body) && body.canceled === true && typeof body.taskSid === 'string') {
      return { taskSid: body.taskSid, canceled: true };
    }
    throw unexpectedAnswer(answer, idempotencyKey);
  }

  private async transfer(path: string, request: TransferFields, call: CallOptions): Promise<TransferOutcome> {
    const idempotencyKey = call.idempotencyKey ?? crypto.randomUUID();
    const answer = await this.send(path, request, idempotencyKey, call.signal);
    if (answer.status === 201 && isTransferResult(answer.body)) {
      return {
        ...answer.body,
        // An answer from before contract v3 has no participantCloses: nothing waits for an acceptance then.
        participantCloses: answer.body.participantCloses === 'on-accept' ? 'on-accept' : null,
        replayed: answer.headers.get('idempotent-replayed') === 'true',
      };
    }
    throw unexpectedAnswer(answer, idempotencyKey);
  }

  /** Sends until an answer that is final, or until the budget is spent; a final error answer is thrown. */
  private async send(path: string, fields: object, idempotencyKey: string | undefined, signal: AbortSignal | undefined): Promise<Answer> {
    const deadline = Date.now() + this.budgetMs;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(path, fields, idempotencyKey, deadline, signal);
      if (!(outcome instanceof TransferError) && !isRetryable(outcome)) {
        if (outcome.status >= 200 && outcome.status < 300) return outcome;
        throw errorFromAnswer(outcome, idempotencyKey);
      }
      const retryAfter = outcome instanceof TransferError ? NaN : retryAfterSeconds(outcome.headers);
      const delayMs = Number.isNaN(retryAfter) ? backoffMs(attempt) : retryAfter * 1000;
      if (Date.now() + delayMs + Math.min(this.attemptTimeoutMs, MIN_ATTEMPT_WINDOW_MS) > deadline) {
        throw outcome instanceof TransferError ? outcome : errorFromAnswer(outcome, idempotencyKey);
      }
      await sleep(delayMs, signal);
    }
  }

  /** One request: its answer, or the TransferError of no answer. */
  private async attempt(
    path: string,
    fields: object,
    idempotencyKey: string | undefined,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<Answer | TransferError> {
    if (signal?.aborted) throw abortReason(signal);
    const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    if (typeof token !== 'string' || token === '') throw new TypeError('No Flex token: is the agent signed in?');
    const bearer = this.options.sendTokenAs === 'bearer';
    const body = formBody({ ...fields, idempotencyKey, ...(bearer ? {} : { Token: token }) });

    const controller = new AbortController();
    const timeoutMs = Math.max(0, Math.min(this.attemptTimeoutMs, deadline - Date.now()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const abortFromCaller = () => controller.abort(signal === undefined ? undefined : abortReason(signal));
    signal?.addEventListener('abort', abortFromCaller, { once: true });
    try {
      const response = await this.fetchImpl(this.baseUrl + path, {
        method: 'POST',
        body,
        ...(bearer ? { headers: { Authorization: `Bearer ${token}` } } : {}),
        signal: controller.signal,
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: parseJson(text) };
    } catch (thrown) {
      if (signal?.aborted) throw abortReason(signal);
      return timedOut
        ? new TransferError('timeout', `No answer within ${timeoutMs} ms.`, 0, { cause: thrown, idempotencyKey })
        : new TransferError('network_error', 'The transfer service could not be reached.', 0, { cause: thrown, idempotencyKey });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abortFromCaller);
    }
  }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The signal's reason; browsers without `AbortSignal.reason` (and jsdom) get an AbortError-named Error. */
function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' });
}

function formBody(fields: object): URLSearchParams {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    form.append(name, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  return form;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Retried only where the action has not been done yet or is being done under
 * the same key: 503, 504, and a 409 with Retry-After ("same key still in
 * progress"). A 409 without it is a final conflict.
 */
function isRetryable(answer: Answer): boolean {
  return answer.status === 503 || answer.status === 504 || (answer.status === 409 && answer.headers.get('retry-after') !== null);
}

/** Seconds from a numeric Retry-After; NaN when absent or not a number. A cross-origin page reads it only if the answer exposes it. */
function retryAfterSeconds(headers: Headers): number {
  const value = headers.get('retry-after')?.trim();
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : NaN;
}

/** Exponential backoff with jitter: 125–250 ms, then 250–500 ms, … up to 1–2 s. */
function backoffMs(attempt: number): number {
  const ceiling = Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** (attempt - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal === undefined ? undefined : abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function isTransferResult(value: unknown): value is TransferResult {
  return (
    isRecord(value) &&
    typeof value.inviteSid === 'string' &&
    typeof value.interactionSid === 'string' &&
    typeof value.channelSid === 'string' &&
    isRecord(value.target) &&
    typeof value.participantClosed === 'boolean' &&
    Array.isArray(value.warnings)
  );
}

/** A list item as the contract describes it; fields an older service does not send read as null (never "cancelable"). */
function pendingTransferFrom(item: Record<string, unknown>): PendingTransfer {
  const target = isRecord(item.target) && typeof item.target.sid === 'string' ? item.target : null;
  const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
  return {
    inviteSid: String(item.inviteSid), // filtered on being a string
    taskSid: text(item.taskSid),
    target: target && (target.type === 'worker' || target.type === 'queue') ? { type: target.type, sid: String(target.sid) } : null,
    transferType: item.transferType === 'warm' || item.transferType === 'cold' ? item.transferType : null,
    transferredByWorkerSid: text(item.transferredByWorkerSid),
    createdAt: text(item.createdAt),
    taskStatus: text(item.taskStatus),
    participantCloses: item.participantCloses === 'on-accept' ? 'on-accept' : null,
    cancelable: typeof item.cancelable === 'boolean' ? item.cancelable : null,
  };
}

function unexpectedAnswer(answer: Answer, idempotencyKey?: string): TransferError {
  return new TransferError('unexpected_response', `Unexpected answer HTTP ${answer.status} from the transfer service.`, answer.status, {
    requestId: answer.headers.get('x-request-id') ?? undefined,
    idempotencyKey,
  });
}

function errorFromAnswer(answer: Answer, idempotencyKey: string | undefined): TransferError {
  const error = isRecord(answer.body) && isRecord(answer.body.error) ? answer.body.error : undefined;
  if (error === undefined || !isServerErrorCode(error.code)) return unexpectedAnswer(answer, idempotencyKey);
  const retryAfter = retryAfterSeconds(answer.headers);
  return new TransferError(
    error.code,
    typeof error.message === 'string' ? error.message : `The transfer service answered ${error.code}.`,
    answer.status,
    {
      details: Array.isArray(error.details)
        ? error.details.filter(
            (item): item is FieldProblem => isRecord(item) && typeof item.field === 'string' && typeof item.message === 'string',
          )
        : undefined,
      twilioCode: typeof error.twilioCode === 'number' ? error.twilioCode : undefined,
      moreInfo: typeof error.moreInfo === 'string' ? error.moreInfo : undefined,
      retryAfterSeconds: Number.isNaN(retryAfter) ? undefined : retryAfter,
      requestId: answer.headers.get('x-request-id') ?? undefined,
      idempotencyKey,
    },
  );
}
