import type * as TwilioModule from 'twilio';
import type { Deadline } from '../deadline';
import { sleep, withTimeout } from '../deadline';
import {
  TwilioApiError,
  UpstreamConnectionLostError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
  type UpstreamOperation,
} from '../errors';
import { type AttemptOutcome, classifyTransportError, parseRetryAfterSeconds, retryDelayMs } from './retry-policy';

/** The shape of the helper library's pluggable HTTP client (`ClientOpts.httpClient`). */
export interface TwilioHttpRequest {
  method: string;
  uri: string;
  timeout?: number;
  [option: string]: unknown;
}
export interface TwilioHttpResponse {
  statusCode: number;
  body: unknown;
  headers: Record<string, unknown>;
}
export interface TwilioHttpClient {
  request(options: TwilioHttpRequest): Promise<TwilioHttpResponse>;
}

/** A helper-library RequestClient whose connections can be released. */
interface ClosableTransport extends TwilioHttpClient {
  close(): void;
}

/**
 * The helper library's own RequestClient does each attempt. One per transfer,
 * with keep-alive: the calls of one transfer (lookup, invite, close) share a
 * connection instead of paying a new TCP and TLS handshake each, and closing
 * it when the transfer answers means no idle socket outlives its request (a
 * stale socket reused by a later invite would fail ambiguously).
 */
function helperLibraryTransport(): ClosableTransport {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { RequestClient } = require('twilio') as typeof TwilioModule;
  const client = new RequestClient({ timeout: 10_000, keepAlive: true });
  return {
    request: (options) => client.request({ ...options, forever: true } as never) as unknown as Promise<TwilioHttpResponse>,
    close: () => (client.axios.defaults.httpsAgent as { destroy?: () => void } | undefined)?.destroy?.(),
  };
}

interface TwilioRestException {
  status: number;
  code?: unknown;
  message?: unknown;
  moreInfo?: unknown;
}

function isRestException(thrown: unknown): thrown is TwilioRestException {
  return thrown instanceof Error && typeof (thrown as { status?: unknown }).status === 'number';
}

/**
 * Everything one transfer request sends to Twilio goes through here: the
 * helper library's client with an HTTP layer that keeps every attempt inside
 * the request's deadline, retries only where Twilio did not act, and counts
 * attempts for the log line.
 */
export class UpstreamSession implements TwilioHttpClient {
  /** HTTP attempts of the whole transfer, for the log line. */
  attempts = 0;
  /** The call under way (or last made): what a deadline expiry interrupted. */
  operation: UpstreamOperation = 'invite';
  private lastRetryAfterSeconds: number | undefined;

  constructor(
    private readonly deadline: Deadline,
    private readonly send: ClosableTransport = helperLibraryTransport(),
    private readonly random: () => number = Math.random,
  ) {}

  /** Releases this transfer's connections. */
  close(): void {
    this.send.close();
  }

  /** Runs one helper-library call as `operation`, turning its failures into typed errors. */
  async call<T>(operation: UpstreamOperation, work: () => Promise<T>): Promise<T> {
    this.operation = operation;
    this.lastRetryAfterSeconds = undefined;
    try {
      return await withTimeout(work(), this.deadline.remainingMs(), () => new UpstreamTimeoutError(operation));
    } catch (thrown) {
      if (isRestException(thrown)) {
        throw new TwilioApiError(
          operation,
          thrown.status,
          typeof thrown.message === 'string' ? thrown.message : undefined,
          typeof thrown.code === 'number' ? thrown.code : undefined,
          typeof thrown.moreInfo === 'string' ? thrown.moreInfo : undefined,
          this.lastRetryAfterSeconds,
        );
      }
      throw thrown;
    }
  }

  async request(options: TwilioHttpRequest): Promise<TwilioHttpResponse> {
    for (let attemptsOfThisCall = 1; ; attemptsOfThisCall += 1) {
      const remainingMs = this.deadline.remainingMs();
      if (remainingMs <= 0) throw new UpstreamTimeoutError(this.operation);
      this.attempts += 1;
      let outcome: AttemptOutcome;
      let response: TwilioHttpResponse | undefined;
      try {
        response = await withTimeout(this.send.request({ ...options, timeout: remainingMs }), remainingMs, () =>
          Object.assign(new Error('deadline'), { code: 'ETIMEDOUT' }),
        );
        outcome = {
          kind: 'answered',
          status: response.statusCode,
          retryAfterSeconds: parseRetryAfterSeconds(response.headers['retry-after']),
        };
      } catch (thrown) {
        outcome = classifyTransportError((thrown as { code?: unknown } | undefined)?.code);
      }

      const delayMs = retryDelayMs(outcome, attemptsOfThisCall, this.deadline.remainingMs(), this.random);
      if (delayMs === undefined) {
        if (outcome.kind === 'answered' && response) {
          this.lastRetryAfterSeconds = outcome.retryAfterSeconds;
          return response;
        }
        throw this.transportFailure(outcome);
      }
      await sleep(delayMs);
    }
  }

  private transportFailure(outcome: AttemptOutcome): Error {
    switch (outcome.kind) {
      case 'not-sent':
        return new UpstreamUnavailableError(this.operation);
      case 'timed-out':
        return new UpstreamTimeoutError(this.operation);
      default:
        return new UpstreamConnectionLostError(this.operation);
    }
  }
}
