import { readSettings, type Settings } from '../config';
import { asFailure, type Failure, UpstreamTimeoutError } from '../errors';
import type { Answer } from '../http/answer';
import { failureToHttp } from '../http/errors';
import { checkIncoming, type IncomingRequest } from '../http/incoming';
import { validateToken } from '../twilio/tokens';
import { TwilioTransport } from '../twilio/transport';
import { authenticate, type Caller } from './authenticate';
import type { AuthenticatedContext, Dependencies, RequestContext } from './context';
import { Deadline, REQUEST_BUDGET_MS, withTimeout } from './deadline';

/** What a function's core work returns: the answer and what the log line should say about it. */
export interface Success {
  answer: Answer;
  /** What the log line says happened: 'transferred', 'replayed', ... */
  outcome: string;
}

/** Everything the adapter needs to respond and nothing it must work out: no side channel. */
export interface Outcome {
  answer: Answer;
  requestId: string;
  /** Undefined when the settings could not be read (the adapter falls back to the default origin). */
  settings: Settings | undefined;
}

export type CoreHandler = (context: AuthenticatedContext) => Promise<Success>;

/** Extra time after the deadline for a last in-flight step to settle before the guard answers. */
const GUARD_GRACE_MS = 250;

function describeDefect(failure: Failure): string | undefined {
  if (failure.kind !== 'internal') return undefined;
  const cause = failure.cause;
  return cause instanceof Error ? (cause.stack ?? `${cause.name}: ${cause.message}`) : typeof cause;
}

/**
 * Runs one request through a function's core inside one deadline: the request
 * checks, the settings, authentication, then the function's own steps; every
 * failure becomes its answer here and nowhere else, and exactly one log line
 * is written.
 */
export async function runRequest(options: {
  functionName: string;
  incoming: IncomingRequest;
  deps: Dependencies;
  handler: CoreHandler;
}): Promise<Outcome> {
  const { deps, incoming } = options;
  const startedAt = deps.now();
  const requestId = deps.newRequestId();
  const deadline = Deadline.after(REQUEST_BUDGET_MS, deps.now);
  let settings: Settings | undefined;
  let twilio: TwilioTransport | undefined;
  let caller: Caller | undefined;
  let failure: Failure | undefined;
  let success: Success | undefined;

  try {
    checkIncoming(incoming);
    settings = readSettings(deps.env);
    twilio = new TwilioTransport({
      accountSid: settings.accountSid,
      authToken: settings.authToken,
      deadline,
      sender: deps.newSender(),
      random: deps.random,
    });
    const transport = twilio;
    const context: RequestContext = { incoming, settings, deadline, twilio: transport, now: deps.now };
    const work = async (): Promise<Success> => {
      const validate = (token: string) => validateToken(transport, { accountSid: context.settings.accountSid, token });
      caller = await authenticate(incoming, { settings: context.settings, verifier: deps.verifier, validate });
      return options.handler({ ...context, caller });
    };
    // A last guard only: every outbound call already has its own timeout within the deadline.
    success = await withTimeout(
      work(),
      deadline.remainingMs() + GUARD_GRACE_MS,
      () => new UpstreamTimeoutError(transport.oldestCallUnderWay() ?? 'token-validation'),
    );
  } catch (thrown) {
    failure = asFailure(thrown);
  } finally {
    twilio?.close();
  }

  const answer = success?.answer ?? failureToHttp(failure as Failure);
  const defect = failure === undefined ? undefined : describeDefect(failure);
  deps.log({
    requestId,
    function: options.functionName,
    status: answer.status,
    outcome: success?.outcome ?? (answer.body as { error: { code: string } }).error.code,
    callerKind: caller?.kind ?? null,
    upstreamAttempts: twilio?.attempts ?? 0,
    durationMs: deps.now() - startedAt,
    ...(success?.outcome === 'replayed' ? { replayed: true } : {}),
    ...(defect === undefined ? {} : { defect }),
  });
  return { answer, requestId, settings };
}
