import { asFailure, type FieldProblem, NotFoundError, TwilioApiError } from '../errors';
import { failureToHttp } from '../http/errors';
import { type ChannelParticipant, createInvite, listParticipants, setParticipantStatus } from '../twilio/flex';
import { fetchTask, type WorkspaceTask } from '../twilio/taskrouter';
import type { Caller } from './authenticate';
import type { RequestContext } from './context';
import type { CoreHandler, Success } from './engine';
import {
  claimKey,
  type Claim,
  idempotencyKey,
  type IdempotencyKey,
  readIdempotencyKeyInto,
  recordResult,
  releaseKey,
  replaySuccess,
  transferFromInvites,
  twilioDidNotAct,
} from './idempotency';
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

/** What has to be read before the invite, all at once: one round trip, however many reads. */
async function readBeforeInvite(options: {
  context: RequestContext;
  transfer: TransferRequest;
  caller: Caller;
  key: IdempotencyKey | undefined;
}): Promise<{
  claim: Claim<TransferResult> | undefined;
  originalTask: WorkspaceTask | undefined;
  participants: ChannelParticipant[] | undefined;
}> {
  const { context, transfer, caller, key } = options;
  const restricted = isRestricted(caller, context.settings);
  const callerWorker = caller.kind === 'flex-token' ? caller.workerSid : undefined;
  const findsParticipantToClose =
    transfer.transferType === 'cold' &&
    transfer.participantSid === undefined &&
    (callerWorker !== undefined || transfer.taskSid !== undefined);
  const needsParticipants = restricted || findsParticipantToClose;

  const [claim, originalTask, participants] = await Promise.allSettled([
    key === undefined
      ? undefined
      : claimKey<TransferResult>({
          twilio: context.twilio,
          settings: context.settings,
          key,
          now: context.now,
          findUnrecordedResult: transferFromInvites(context.twilio, transfer, key),
        }),
    transfer.taskSid === undefined ? undefined : originalTaskOf(context, transfer.taskSid),
    needsParticipants ? listParticipants(context.twilio, transfer) : undefined,
  ]);
  if (claim.status === 'rejected') throw claim.reason;
  const claimed = claim.value;
  if (claimed?.kind === 'replay') return { claim: claimed, originalTask: undefined, participants: undefined };
  try {
    if (originalTask.status === 'rejected') throw originalTask.reason;
    if (participants.status === 'rejected') throw participants.reason;
  } catch (thrown) {
    if (key !== undefined) await releaseKey({ twilio: context.twilio, settings: context.settings, key }).catch(() => undefined);
    throw thrown;
  }
  return { claim: claimed, originalTask: originalTask.value, participants: participants.value };
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

/**
 * One transfer: authenticate, validate, claim the key and read what the
 * transfer needs (concurrently), check ownership, build the routing, invite,
 * and for a cold transfer close the transferring participant once the invite exists.
 */
export function transferHandler(functionName: string, targetType: TargetType): CoreHandler {
  return async (context): Promise<Success> => {
    const { incoming, settings, twilio, caller } = context;
    const keyProblems: FieldProblem[] = [];
    const rawKey = readIdempotencyKeyInto(incoming, keyProblems);
    const callerWorkerSid = caller.kind === 'flex-token' ? caller.workerSid : undefined;
    const transfer = parseTransferRequest(incoming.params, targetType, settings, { callerWorkerSid, moreProblems: keyProblems });
    const key =
      rawKey === undefined
        ? undefined
        : idempotencyKey({ key: rawKey, accountSid: settings.accountSid, functionName, fields: { ...transfer }, caller });
    const startedAtMs = context.now();

    const { claim, originalTask, participants } = await readBeforeInvite({ context, transfer, caller, key });
    if (claim?.kind === 'replay') return replaySuccess({ status: 201, result: claim.result });

    let inviteStarted = false;
    try {
      const restricted = isRestricted(caller, settings);
      if (restricted) requireOwnParticipation(caller, participants ?? []);
      const closing =
        transfer.transferType === 'cold'
          ? participantToClose({ caller, restricted, requestedSid: transfer.participantSid, taskSid: transfer.taskSid, participants })
          : undefined;
      const routing = buildRouting({ transfer, caller, settings, originalTask, requestKeyHash: key?.hash });
      inviteStarted = true;
      const invite = await createInvite(twilio, transfer, routing);
      const result: TransferResult = {
        inviteSid: invite.inviteSid,
        interactionSid: transfer.interactionSid,
        channelSid: transfer.channelSid,
        taskSid: invite.taskSid,
        target: { type: transfer.targetType, sid: transfer.targetSid },
        transferType: transfer.transferType,
        participantClosed: false,
        warnings: [],
      };
      if (closing !== undefined) {
        result.warnings = await closeTransferringParticipant(context, transfer, closing);
        result.participantClosed = result.warnings.length === 0;
        // Only a cold transfer's answer cannot be rebuilt from its invite; a failed record leaves the repeat to say so.
        if (key !== undefined) await recordResult({ twilio, settings, key, startedAtMs, result }).catch(() => undefined);
      }
      return { answer: { status: 201, body: result, headers: {} }, outcome: 'transferred' };
    } catch (thrown) {
      if (key !== undefined && (!inviteStarted || twilioDidNotAct(asFailure(thrown)))) {
        await releaseKey({ twilio, settings, key }).catch(() => undefined);
      }
      throw thrown;
    }
  };
}
