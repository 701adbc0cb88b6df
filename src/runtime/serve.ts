import type { Dependencies } from '../core/context';
import { handle } from '../core/engine';
import { checkIncoming, readIncomingRequest } from '../http/incoming';
import { type Answer, errorCodeOf, toHttpAnswer } from '../http/response';
import { FUNCTIONS, type FunctionName } from '../registry';

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
  const outcome = await handle({ incoming, deps, handler: FUNCTIONS[functionName].handler, admit: checkIncoming });
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
    ...(outcome.defect === undefined ? {} : { defect: outcome.defect }),
  });
  return answer;
}
