import { randomUUID } from 'node:crypto';
import type { Twilio } from 'twilio';
import type { Context, ServerlessCallback } from '@twilio-labs/serverless-runtime-types/types';
import { authenticate, type Caller } from './auth/authenticate';
import { allowedOriginsLeniently, type Environment, readSettings, type Settings } from './config';
import { Deadline, REQUEST_BUDGET_MS, withTimeout } from './deadline';
import { asTransferFailure, type TransferFailure, UpstreamTimeoutError, UpstreamUnavailableError } from './errors';
import { failureToHttp } from './http-errors';
import { type IncomingRequest, readIncomingRequest, requireBody } from './incoming';
import { writeRequestLog } from './request-log';
import { type Answer, toRuntimeResponse } from './respond';
import { buildRouting } from './routing';
import { performTransfer } from './transfer';
import { parseTransferRequest, type TargetType } from './transfer-request';
import { UpstreamSession, type TwilioHttpClient } from './twilio/upstream';

export type TransferHandler = (context: Context, event: Record<string, unknown>, callback: ServerlessCallback) => void;

/** Extra time after the deadline for a last in-flight step to settle before the guard answers. */
const GUARD_GRACE_MS = 250;

interface RequestState {
  settings?: Settings;
  caller?: Caller;
  upstream?: UpstreamSession;
  failure?: TransferFailure;
}

async function runTransfer(
  targetType: TargetType,
  context: Context,
  incoming: IncomingRequest,
  deadline: Deadline,
  state: RequestState,
): Promise<Answer> {
  requireBody(incoming);
  const settings = readSettings(context as unknown as Environment);
  state.settings = settings;
  const caller = await authenticate(incoming, settings, deadline);
  state.caller = caller;
  const transfer = parseTransferRequest(incoming.params, targetType, settings);
  const routing = buildRouting(transfer, caller, settings);
  const upstream = new UpstreamSession(deadline);
  state.upstream = upstream;
  // The helper library takes any object with request() as its HTTP client; its types name only its own class.
  const client = context.getTwilioClient({ httpClient: upstream as TwilioHttpClient } as never) as unknown as Twilio;
  const result = await performTransfer(transfer, routing, caller, client, upstream);
  return { status: 201, body: result, headers: {} };
}

/**
 * One transfer function: authenticate -> parse and validate -> build routing
 * -> call Twilio -> respond, inside one deadline, answering JSON whatever happens.
 */
export function createTransferHandler(functionName: string, targetType: TargetType): TransferHandler {
  return (context, event, callback) => {
    const startedAt = Date.now();
    const deadline = Deadline.after(REQUEST_BUDGET_MS);
    const incoming = readIncomingRequest(event, context.DOMAIN_NAME, context.PATH);
    const state: RequestState = {};

    const work = runTransfer(targetType, context, incoming, deadline, state);
    // A last guard only: every outbound call already has its own timeout within the deadline.
    const guarded = withTimeout(work, deadline.remainingMs() + GUARD_GRACE_MS, () =>
      state.upstream ? new UpstreamTimeoutError(state.upstream.operation) : new UpstreamUnavailableError('token-validation'),
    );
    guarded
      .catch((thrown: unknown): Answer => {
        state.failure = asTransferFailure(thrown);
        return failureToHttp(state.failure);
      })
      .then((answer) => {
        state.upstream?.close();
        writeRequestLog({
          requestId: randomUUID(),
          function: functionName,
          status: answer.status,
          outcome: answer.status === 201 ? 'transferred' : (answer.body as { error: { code: string } }).error.code,
          callerKind: state.caller?.kind ?? null,
          upstreamAttempts: state.upstream?.attempts ?? 0,
          durationMs: Date.now() - startedAt,
          ...(state.failure?.kind === 'internal' ? { defect: state.failure.causeName } : {}),
        });
        const allowedOrigins = state.settings?.allowedOrigins ?? allowedOriginsLeniently(context as unknown as Environment);
        callback(null, toRuntimeResponse(answer, incoming, allowedOrigins));
      })
      // Only if the runtime's own Response could not be built: let the runtime report it rather than never answering.
      .catch((thrown: unknown) => callback(thrown instanceof Error ? thrown : new Error(String(thrown))));
  };
}
