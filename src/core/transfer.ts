import { asFailure, type FieldProblem, NotFoundError, TwilioApiError } from '../errors';
import {
  type ChannelInvite,
  type ChannelParticipant,
  type ChannelRef,
  createInvite,
  listInvites,
  listParticipants,
  setParticipantStatus,
} from '../twilio/flex';
import { fetchTask, type WorkspaceTask } from '../twilio/taskrouter';
import type { TwilioTransport } from '../twilio/transport';
import type { AuthenticatedContext, RequestContext } from './context';
import type { CoreHandler } from './engine';
import type { HandlerResult } from './outcome';
import { exactlyOnce } from './exactly-once';
import { type IdempotencyKey, readIdempotencyKeyInto, replayResult, requestKey, type UnrecordedResultFinder } from './idempotency';
import { isRestricted, participantToClose, requireOwnParticipation } from './ownership';
import { buildRouting } from './routing';
import { parseTransferRequest, type TargetType, type TransferRequest } from './transfer-request';
import type { TransferResult } from './transfer-result';

async function originalTaskOf(context: RequestContext, taskSid: string): Promise<WorkspaceTask> {
  try {
    return await fetchTask(context.transport, { workspaceSid: context.settings.workspaceSid, taskSid });
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
    needsParticipants ? listParticipants(context.transport, transfer) : undefined,
  ]);
  return { originalTask, participants };
}

async function closeTransferringParticipant(context: RequestContext, transfer: TransferRequest, participantSid: string): Promise<string[]> {
  try {
    await setParticipantStatus(context.transport, transfer, { sid: participantSid, status: transfer.participantStatus });
    return [];
  } catch (thrown) {
    // The invite stands: the customer has a pending agent. Reporting an error here would invite a retry and a second invite.
    const reason = asFailure(thrown).message.replace(/\.$/, '');
    return [
      `The invite was created, but participant ${participantSid} could not be set to ${transfer.participantStatus} (${reason}). ` +
        'Do not retry the transfer: end your task in Flex, or update the participant through the Interactions API.',
    ];
  }
}

/** Rebuilds a first transfer's answer from the invite it created (found by the key's hash in its attributes). */
function resultFromInvite(ref: ChannelRef, invite: ChannelInvite): TransferResult {
  const { attributes } = invite;
  const transferType = attributes.transferType === 'cold' ? 'cold' : 'warm';
  return {
    inviteSid: invite.inviteSid,
    interactionSid: ref.interactionSid,
    channelSid: ref.channelSid,
    taskSid: invite.taskSid ?? null,
    target: { type: attributes.transferTargetType === 'worker' ? 'worker' : 'queue', sid: String(attributes.transferTargetSid ?? '') },
    transferType,
    participantClosed: false,
    warnings:
      transferType === 'cold'
        ? ['This answer repeats an earlier transfer; whether it closed your participant was not recorded: check the conversation in Flex.']
        : [],
  };
}

/**
 * A first transfer whose result was not recorded: its invite, read from the
 * channel's invites (every page), says it. A cold one that may still be
 * running is not answered from its invite: its close (and recorded result)
 * may still come.
 */
function transferFromInvites(transport: TwilioTransport, channel: ChannelRef, key: IdempotencyKey): UnrecordedResultFinder<TransferResult> {
  return async ({ mayStillRun }) => {
    const invite = (await listInvites(transport, channel)).find((candidate) => candidate.attributes.transferRequestKey === key.hash);
    if (invite === undefined) return undefined;
    const result = resultFromInvite(channel, invite);
    return result.transferType === 'cold' && mayStillRun ? undefined : result;
  };
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
  const created = await createInvite(context.transport, transfer, routing);
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
  return async (context): Promise<HandlerResult> => {
    const { incoming, settings, transport, caller } = context;
    const keyProblems: FieldProblem[] = [];
    const rawKey = readIdempotencyKeyInto(incoming, keyProblems);
    const callerWorkerSid = caller.kind === 'flex-token' ? caller.workerSid : undefined;
    const transfer = parseTransferRequest(incoming.params, targetType, settings, { callerWorkerSid, moreProblems: keyProblems });
    const key = requestKey({ context, rawKey, functionName, fields: { ...transfer } });

    const { result, replayed } = await exactlyOnce({
      context,
      key,
      findUnrecordedResult: key === undefined ? undefined : transferFromInvites(transport, transfer, key),
      read: () => readBeforeInvite({ context, transfer }),
      change: (reads) => invite({ context, transfer, reads, requestKeyHash: key?.hash }),
      // A warm transfer's answer is rebuilt from its invite; a cold one's close is known only to this request.
      mustRecord: (done) => done.transferType === 'cold',
    });
    if (replayed) return replayResult({ effect: 'created', result });
    return { effect: 'created', body: result, happened: 'transferred' };
  };
}
