import type { Dependencies } from '../core/context';
import type { Failure } from '../errors';
import { handle } from '../core/engine';
import type { ErrorBody } from '../http/errors';
import { checkIncoming, readIncomingRequest } from '../http/incoming';
import { type Answer, errorCodeOf, toHttpAnswer } from '../http/response';
import { type FunctionEntry, FUNCTIONS, type FunctionName } from '../registry';

/** Why it failed, for the log: a refused credential's reason (the caller is only told the common message), else what the caller was told. */
function reasonOf(failure: Failure, answer: Answer): string {
  if (failure.kind === 'unauthenticated') return failure.reason;
  return (answer.body as Partial<ErrorBody> | undefined)?.error?.message ?? failure.message;
}

/**
 * One call of a function, from the runtime's event to the answer, the same for
 * the deployed runtime and the tests: the edge reads the request, the core
 * handles it, the edge answers, and exactly one log line is written.
 */
export async function serveEvent(options: {
  functionName: FunctionName;
  event: Readonly<Record<string, unknown>>;
  domainName: unknown;
  path: unknown;
  deps: Dependencies;
}): Promise<Answer> {
  const { functionName, deps } = options;
  const incoming = readIncomingRequest({ event: options.event, domainName: options.domainName, path: options.path });
  const entry: FunctionEntry = FUNCTIONS[functionName];
  const outcome = await handle({
    incoming,
    deps,
    handler: entry.handler,
    signedOnly: entry.callers === 'signed-only',
    admit: checkIncoming,
  });
  const answer = toHttpAnswer({ outcome, incoming, env: deps.env });
  const succeeded = outcome.result.kind === 'succeeded' ? outcome.result.value : undefined;
  deps.log({
    requestId: outcome.requestId,
    function: functionName,
    status: answer.status,
    outcome: succeeded?.happened ?? errorCodeOf(answer) ?? 'failed',
    callerKind: outcome.callerKind,
    upstreamAttempts: outcome.upstreamAttempts,
    durationMs: outcome.durationMs,
    ...(succeeded?.replayed === true ? { replayed: true } : {}),
    ...(outcome.result.kind === 'failed' ? { reason: reasonOf(outcome.result.failure, answer) } : {}),
    ...(outcome.notes.length === 0 ? {} : { notes: outcome.notes }),
    ...(outcome.defect === undefined ? {} : { defect: outcome.defect }),
  });
  return answer;
}
