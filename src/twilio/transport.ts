import type { Twilio } from 'twilio';
import { type Deadline, sleep, withTimeout } from '../core/deadline';
import { RequestFailure } from '../request-failure';
import {
  TwilioApiError,
  UpstreamConnectionLostError,
  UpstreamMalformedAnswerError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
  type UpstreamOperation,
} from '../upstream-failures';
import { type AttemptOutcome, classifyTransportError, parseRetryAfterSeconds, retryDelayMs } from './retry-policy';
import { helperLibrary, httpClientFor, type HelperLibraryRequest } from './helper-library';
import type { HttpSender, InboundAnswer } from './sender';

export interface CallOptions {
  /** A call that changes nothing in Twilio (a read, a token validation) may be repeated after a broken connection. */
  safeToRepeat?: boolean;
  /** A ceiling for this call inside the request's deadline, so a slow dependency leaves time for the rest. */
  maxMs?: number;
}

/** What one call learned besides its result: Twilio's last answer (status, headers such as ETag). */
export interface CallResult<T> {
  value: T;
  answer: InboundAnswer | undefined;
}

/** The state of one call (its operation, its deadline, Twilio's last answer): calls of one request may run concurrently. */
class CallScope {
  lastAnswer: InboundAnswer | undefined;
  /** The origin of the call's first request: a list's next pages are followed only there, so credentials never leave it. */
  origin: string | undefined;
  private readonly expiresAtMs: number;

  constructor(
    readonly operation: UpstreamOperation,
    readonly options: CallOptions,
    private readonly deadline: Deadline,
  ) {
    this.expiresAtMs = Math.min(deadline.expiresAtMs, options.maxMs === undefined ? Infinity : deadline.nowMs() + options.maxMs);
  }

  remainingMs(): number {
    return Math.max(0, this.expiresAtMs - this.deadline.nowMs());
  }
}

interface TwilioRestException {
  status: number;
  code?: unknown;
  message?: unknown;
  moreInfo?: unknown;
}

function isRestException(thrown: unknown): thrown is TwilioRestException {
  return (
    thrown instanceof Error && thrown.constructor.name === 'RestException' && typeof (thrown as { status?: unknown }).status === 'number'
  );
}

export interface TransportOptions {
  accountSid: string;
  authToken: string;
  deadline: Deadline;
  sender: HttpSender;
  random?: () => number;
  /** TWILIO_REGION and TWILIO_EDGE, for every call (token validation included). */
  region?: string | undefined;
  edge?: string | undefined;
}

/**
 * The one way out to Twilio. Every call of a request (Flex Interactions,
 * TaskRouter, Sync, token validation) goes through the helper library's client,
 * built here with this transport as its HTTP layer: one deadline, one retry
 * policy, one attempt count. The client is built by us, never taken from the
 * runtime's `context.getTwilioClient()`, which might ignore options or share
 * one client across requests (and so an earlier request's deadline).
 */
export class TwilioTransport {
  /** HTTP attempts of the whole request, for the log line. */
  attempts = 0;
  /** Calls under way, oldest first (several run at once before an invite). */
  private readonly callsUnderWay: UpstreamOperation[] = [];
  private readonly random: () => number;

  constructor(private readonly options: TransportOptions) {
    this.random = options.random ?? Math.random;
  }

  /** The call a deadline expiry interrupts: the oldest still under way (or none). */
  oldestCallUnderWay(): UpstreamOperation | undefined {
    return this.callsUnderWay[0];
  }

  /** What the request's log line should say about its calls (a list cut short, ...). */
  readonly notes: string[] = [];

  note(text: string): void {
    this.notes.push(text);
  }

  /** Releases the request's connections. */
  close(): void {
    this.options.sender.close();
  }

  /** Runs one helper-library call as `operation`, turning every way it can fail into a typed failure. */
  async call<T>(operation: UpstreamOperation, work: (client: Twilio) => Promise<T>, callOptions: CallOptions = {}): Promise<CallResult<T>> {
    this.callsUnderWay.push(operation);
    // Loading the helper library (seconds, on a cold and busy instance) happens before the call's own clock starts.
    const { Twilio: TwilioClient } = helperLibrary();
    const scope = new CallScope(operation, callOptions, this.options.deadline);
    const client = new TwilioClient(this.options.accountSid, this.options.authToken, {
      httpClient: httpClientFor((request) => this.send(scope, request)),
      lazyLoading: true,
      ...(this.options.region === undefined ? {} : { region: this.options.region }),
      ...(this.options.edge === undefined ? {} : { edge: this.options.edge }),
    });
    try {
      const value = await withTimeout(work(client), scope.remainingMs(), () => new UpstreamTimeoutError(operation));
      return { value, answer: scope.lastAnswer };
    } catch (thrown) {
      throw this.asUpstreamFailure(scope, thrown);
    } finally {
      this.callsUnderWay.splice(this.callsUnderWay.indexOf(operation), 1);
    }
  }

  private asUpstreamFailure(scope: CallScope, thrown: unknown): unknown {
    if (thrown instanceof RequestFailure) return thrown;
    if (isRestException(thrown)) {
      return new TwilioApiError({
        operation: scope.operation,
        status: thrown.status,
        twilioMessage: typeof thrown.message === 'string' ? thrown.message : undefined,
        twilioCode: typeof thrown.code === 'number' ? thrown.code : undefined,
        moreInfo: typeof thrown.moreInfo === 'string' ? thrown.moreInfo : undefined,
        retryAfterSeconds: parseRetryAfterSeconds(scope.lastAnswer?.headers['retry-after']),
        cause: thrown,
      });
    }
    // The helper library parses a success answer itself; one that is not JSON, or null, makes it throw.
    const status = scope.lastAnswer?.statusCode;
    if (status !== undefined && status >= 200 && status < 300) {
      return new UpstreamMalformedAnswerError(scope.operation, {
        detail: 'a success status with a body that is not the resource',
        cause: thrown,
      });
    }
    return thrown;
  }

  private async send(scope: CallScope, request: HelperLibraryRequest): Promise<InboundAnswer> {
    // The whole origin (scheme, host, port): an http:// next page on the same host would carry the credentials in clear.
    const { origin, host } = new URL(request.uri);
    scope.origin ??= origin;
    if (origin !== scope.origin) {
      // A list's next_page_url is Twilio's answer, not a trusted URL: the account's credentials are never sent elsewhere.
      throw new UpstreamMalformedAnswerError(scope.operation, { detail: `a next page on another origin (${origin}), not followed` });
    }
    for (let attemptsOfThisCall = 1; ; attemptsOfThisCall += 1) {
      const remainingMs = scope.remainingMs();
      if (remainingMs <= 0) throw new UpstreamTimeoutError(scope.operation);
      this.attempts += 1;
      const abort = new AbortController();
      let outcome: AttemptOutcome;
      let answer: InboundAnswer | undefined;
      let transportError: unknown;
      try {
        answer = await withTimeout(
          this.options.sender.send({ ...request, timeoutMs: remainingMs, signal: abort.signal }),
          remainingMs,
          () => {
            abort.abort();
            return Object.assign(new Error('deadline'), { code: 'ETIMEDOUT' });
          },
        );
        outcome = {
          kind: 'answered',
          status: answer.statusCode,
          retryAfterSeconds: parseRetryAfterSeconds(answer.headers['retry-after']),
        };
      } catch (thrown) {
        transportError = thrown;
        outcome = classifyTransportError((thrown as { code?: unknown } | undefined)?.code);
      }

      const delayMs = retryDelayMs({
        outcome,
        attemptsMade: attemptsOfThisCall,
        remainingMs: scope.remainingMs(),
        random: this.random,
        safeToRepeat: scope.options.safeToRepeat,
      });
      if (delayMs === undefined) {
        if (answer !== undefined) {
          scope.lastAnswer = answer;
          return answer;
        }
        throw transportFailure({ operation: scope.operation, outcome, cause: transportError, host });
      }
      await sleep(delayMs);
    }
  }
}

/** What a connection that never carried the request ran into, in words, naming the host. */
function describeNotSent(host: string, cause: unknown): string {
  const code = (cause as { code?: unknown } | undefined)?.code;
  const codeText = typeof code === 'string' ? ` (${code})` : '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the DNS lookup of ${host} failed${codeText}`;
  if (code === 'ECONNREFUSED') return `${host} refused the connection${codeText}`;
  return `${host} could not be reached${codeText}`;
}

function transportFailure(options: { operation: UpstreamOperation; outcome: AttemptOutcome; cause: unknown; host: string }): Error {
  const { operation, outcome, cause } = options;
  switch (outcome.kind) {
    case 'not-sent':
      return new UpstreamUnavailableError(operation, { cause, tried: describeNotSent(options.host, cause) });
    case 'timed-out':
      return new UpstreamTimeoutError(operation, { cause });
    default:
      return new UpstreamConnectionLostError(operation, { cause });
  }
}
