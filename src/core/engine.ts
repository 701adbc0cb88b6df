import { readSettings, type Settings } from '../config';
import { asFailure, type Failure, UpstreamTimeoutError } from '../errors';
import { validateToken } from '../twilio/tokens';
import { TwilioTransport } from '../twilio/transport';
import { authenticate, type Caller } from './authenticate';
import { withConsequences } from './consequences';
import type { AuthenticatedContext, Dependencies, RequestContext } from './context';
import { Deadline, REQUEST_BUDGET_MS, withTimeout } from './deadline';
import type { HandlerResult, Outcome } from './outcome';
import type { IncomingRequest } from './request';

/** A function's own steps, once the caller is known. */
export type CoreHandler = (context: AuthenticatedContext) => Promise<HandlerResult>;

/** Extra time after the deadline for a last in-flight step to settle before the guard answers. */
const GUARD_GRACE_MS = 250;

function describeDefect(failure: Failure): string | undefined {
  if (failure.kind !== 'internal') return undefined;
  const cause = failure.cause;
  return cause instanceof Error ? (cause.stack ?? `${cause.name}: ${cause.message}`) : typeof cause;
}

/**
 * Runs one request through a function's core inside one deadline: the
 * edge's admission check, the settings, authentication, then the function's
 * own steps. Every failure is caught here and returned as the outcome's
 * failure, never thrown; the edge turns the outcome into an answer.
 */
export async function handle(options: {
  incoming: IncomingRequest;
  deps: Dependencies;
  handler: CoreHandler;
  /** Only a Twilio signature is accepted (TaskRouter's callback): no Flex token, no Basic. */
  signedOnly?: boolean;
  /** The edge's own check of what came in (method, body type), run first: it throws a typed failure. */
  admit?: (incoming: IncomingRequest) => void;
}): Promise<Outcome> {
  const { deps, incoming } = options;
  const startedAt = deps.now();
  const requestId = deps.newRequestId();
  const deadline = Deadline.after(REQUEST_BUDGET_MS, deps.now);
  let settings: Settings | undefined;
  let transport: TwilioTransport | undefined;
  let caller: Caller | undefined;
  let result: Outcome['result'];

  try {
    options.admit?.(incoming);
    settings = readSettings(deps.env);
    const calls = new TwilioTransport({
      accountSid: settings.accountSid,
      authToken: settings.authToken,
      deadline,
      sender: deps.newSender(),
      random: deps.random,
      region: settings.region,
      edge: settings.edge,
    });
    transport = calls;
    const context: RequestContext = { incoming, settings, deadline, transport: calls, memory: deps.memory, now: deps.now };
    const work = async (): Promise<HandlerResult> => {
      const validate = (token: string) => validateToken(calls, { accountSid: context.settings.accountSid, token });
      caller = await authenticate(incoming, {
        settings: context.settings,
        verifier: deps.verifier,
        validate,
        signedOnly: options.signedOnly,
      });
      return options.handler({ ...context, caller });
    };
    // A last guard only: every outbound call already has its own timeout within the deadline.
    const value = await withTimeout(
      work(),
      deadline.remainingMs() + GUARD_GRACE_MS,
      () => new UpstreamTimeoutError(calls.oldestCallUnderWay() ?? 'token-validate'),
    );
    result = { kind: 'succeeded', value };
  } catch (thrown) {
    result = { kind: 'failed', failure: withConsequences(asFailure(thrown)) };
  } finally {
    transport?.close();
  }

  const defect = result.kind === 'failed' ? describeDefect(result.failure) : undefined;
  return {
    requestId,
    result,
    settings,
    callerKind: caller?.kind ?? null,
    upstreamAttempts: transport?.attempts ?? 0,
    notes: transport?.notes ?? [],
    durationMs: deps.now() - startedAt,
    ...(defect === undefined ? {} : { defect }),
  };
}
