import { asFailure, type FieldProblem, NotFoundError, TwilioApiError } from '../errors';
import { failureToHttp } from '../http/errors';
import { type ChannelParticipant, createInvite, listParticipants, setParticipantStatus } from '../twilio/flex';
import { fetchTask, type WorkspaceTask } from '../twilio/taskrouter';
import type { AuthenticatedContext, RequestContext } from './context';
import type { CoreHandler, Success } from './engine';
import { exactlyOnce } from './exactly-once';
import { readIdempotencyKeyInto, replaySuccess, requestKey, transferFromInvites } from './idempotency';
import { isRestricted, participantToClose, requireOwnParticipation } from './ownership';
import { buildRouting } from './routing';
import { parseTransferRequest, type TargetType, type TransferRequest } from './transfer-request';
import type { TransferResult } from './transfer-result';

async function originalTaskOf(context: RequestContext, taskSid: string): Promise<WorkspaceTask> {
  try {
    return await fetchTask(context.twilio, { workspaceSid: context.settings.workspaceSid, taskSid });
  } catch (thrown) {
    if (thrown instanceof TwilioApiError && thrown.status === 404) {
      throw new NotFoundError({
        field: 'taskSid',
        message: `taskSid ${taskSid} is not a task of this Flex workspace: nothing was transferred.`,
      });
    }
    throw thrown;
  }
}

interface ReadsBeforeInvite {
  originalTask: WorkspaceTask | undefined;
  participants: ChannelParticipant[] | undefined;
}

/** What has to be read before the invite, all at once: one round trip, however many reads. */
async function readBeforeInvite(options: { context: AuthenticatedContext; transfer: TransferRequest }): Promise<ReadsBeforeInvite> {
  const { context, transfer } = options;
  const { caller } = context;
  const callerWorker = caller.kind === 'flex-token' ? caller.workerSid : undefined;
  const findsParticipantToClose =
    transfer.transferType === 'cold' &&
    transfer.participantSid === undefined &&
    (callerWorker !== undefined || transfer.taskSid !== undefined);
  const needsParticipants = isRestricted(caller, context.settings) || findsParticipantToClose;
  const [originalTask, participants] = await Promise.all([
    transfer.taskSid === undefined ? undefined : originalTaskOf(context, transfer.taskSid),
    needsParticipants ? listParticipants(context.twilio, transfer) : undefined,
  ]);
  return { originalTask, participants };
}

async function closeTransferringParticipant(context: RequestContext, transfer: TransferRequest, participantSid: string): Promise<string[]> {
  try {
    await setParticipantStatus(context.twilio, transfer, { sid: participantSid, status: transfer.participantStatus });
    return [];
  } catch (thrown) {
    // The invite stands: the customer has a pending agent. Reporting an error here would invite a retry and a second invite.
    const reason = failureToHttp(asFailure(thrown)).body.error.code;
    return [
      `The invite was created, but participant ${participantSid} could not be set to ${transfer.participantStatus} (${reason}). ` +
        'Do not retry the transfer: end your task in Flex, or update the participant through the Interactions API.',
    ];
  }
}

/** Checks ownership, invites, and for a cold transfer closes the transferring participant once the invite exists. */
async function invite(options: {
  context: AuthenticatedContext;
  transfer: TransferRequest;
  reads: ReadsBeforeInvite;
  requestKeyHash: string | undefined;
}): Promise<TransferResult> {
  const { context, transfer, reads } = options;
  const { caller, settings } = context;
  const restricted = isRestricted(caller, settings);
  if (restricted) requireOwnParticipation(caller, reads.participants ?? []);
  const closing =
    transfer.transferType === 'cold'
      ? participantToClose({
          caller,
          restricted,
          requestedSid: transfer.participantSid,
          taskSid: transfer.taskSid,
          participants: reads.participants,
        })
      : undefined;
  const routing = buildRouting({ transfer, caller, settings, originalTask: reads.originalTask, requestKeyHash: options.requestKeyHash });
  const created = await createInvite(context.twilio, transfer, routing);
  const warnings = closing === undefined ? [] : await closeTransferringParticipant(context, transfer, closing);
  return {
    inviteSid: created.inviteSid,
    interactionSid: transfer.interactionSid,
    channelSid: transfer.channelSid,
    taskSid: created.taskSid,
    target: { type: transfer.targetType, sid: transfer.targetSid },
    transferType: transfer.transferType,
    participantClosed: closing !== undefined && warnings.length === 0,
    warnings,
  };
}

/**
 * One transfer (after authentication): validate, claim the key and read what
 * the transfer needs (concurrently), then invite, exactly once per key.
 */
export function transferHandler(functionName: string, targetType: TargetType): CoreHandler {
  return async (context): Promise<Success> => {
    const { incoming, settings, twilio, caller } = context;
    const keyProblems: FieldProblem[] = [];
    const rawKey = readIdempotencyKeyInto(incoming, keyProblems);
    const callerWorkerSid = caller.kind === 'flex-token' ? caller.workerSid : undefined;
    const transfer = parseTransferRequest(incoming.params, targetType, settings, { callerWorkerSid, moreProblems: keyProblems });
    const key = requestKey({ context, rawKey, functionName, fields: { ...transfer } });

    const { result, replayed } = await exactlyOnce({
      context,
      key,
      findUnrecordedResult: key === undefined ? undefined : transferFromInvites(twilio, transfer, key),
      read: () => readBeforeInvite({ context, transfer }),
      change: (reads) => invite({ context, transfer, reads, requestKeyHash: key?.hash }),
      // A warm transfer's answer is rebuilt from its invite; a cold one's close is known only to this request.
      mustRecord: (done) => done.transferType === 'cold',
    });
    if (replayed) return replaySuccess({ status: 201, result });
    return { answer: { status: 201, body: result, headers: {} }, outcome: 'transferred' };
  };
}
