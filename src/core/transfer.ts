import { AlreadyParticipantError, asFailure, type Failure, type FieldProblem } from '../errors';
import { type ChannelInvite, type ChannelRef, createInvite, listInvites, setParticipantStatus } from '../twilio/flex';
import type { TwilioTransport } from '../twilio/transport';
import { plainObject } from '../untrusted-json';
import type { AuthenticatedContext, RequestContext } from './context';
import type { CoreHandler } from './engine';
import { exactlyOnce } from './exactly-once';
import { replayResult, type UnrecordedResultFinder } from './idempotency';
import { type IdempotencyKey, readIdempotencyKeyInto, requestKey } from './idempotency-key';
import type { HandlerResult } from './outcome';
import { agentWorkers, isRestricted, participantToClose, requireAgentParticipant, requireOwnParticipation } from './ownership';
import { buildRouting } from './routing';
import { type SealedTransferClose, sealTransferClose } from './transfer-close';
import { transferEventsUrls } from './transfer-events-url';
import { readBeforeInvite, targetStillAssigned, type TransferReads } from './transfer-reads';
import { parseTransferRequest, type TargetType, type TransferRequest } from './transfer-request';
import type { TransferResult } from './transfer-result';

/** Whether a failure leaves it unknown if Twilio acted (the answer never came, or was a 5xx other than 503). */
function outcomeUnknown(failure: Failure): boolean {
  switch (failure.kind) {
    case 'upstream-timeout':
    case 'upstream-connection-lost':
    case 'upstream-malformed-answer':
      return true;
    case 'twilio-api':
      return failure.status >= 500 && failure.status !== 503;
    default:
      return false;
  }
}

async function closeTransferringParticipant(context: RequestContext, transfer: TransferRequest, participantSid: string): Promise<string[]> {
  try {
    await setParticipantStatus(context.transport, transfer, { sid: participantSid, status: transfer.participantStatus });
    return [];
  } catch (thrown) {
    // The invite stands: the customer has a pending agent. Reporting an error here would invite a retry and a second invite.
    const failure = asFailure(thrown);
    const reason = failure.message.replace(/\.$/, '');
    const what = outcomeUnknown(failure)
      ? `participant ${participantSid} may not have been set to ${transfer.participantStatus} (${reason}: Twilio may have done it without the answer arriving)`
      : `participant ${participantSid} could not be set to ${transfer.participantStatus} (${reason})`;
    return [
      `The invite was created, but ${what}. ` +
        'Do not retry the transfer: check the conversation in Flex, end your task there, or update the participant through the Interactions API.',
    ];
  }
}

/** Rebuilds a first transfer's answer from the invite it created (found by the key's hash in its attributes). */
function resultFromInvite(ref: ChannelRef, invite: ChannelInvite): TransferResult {
  const { attributes } = invite;
  const transferType = attributes.transferType === 'cold' ? 'cold' : 'warm';
  const closesOnAccept = plainObject(attributes.transferClose) !== undefined;
  return {
    inviteSid: invite.inviteSid,
    interactionSid: ref.interactionSid,
    channelSid: ref.channelSid,
    taskSid: invite.taskSid ?? null,
    target: { type: attributes.transferTargetType === 'worker' ? 'worker' : 'queue', sid: String(attributes.transferTargetSid ?? '') },
    transferType,
    participantClosed: false,
    participantCloses: closesOnAccept ? 'on-accept' : null,
    warnings:
      transferType === 'cold' && !closesOnAccept
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
    return result.transferType === 'cold' && result.participantCloses === null && mayStillRun ? undefined : result;
  };
}

/** The participant a cold transfer closes, and whether /transfer-events closes it on acceptance or this request does now. */
function coldClosePlan(options: {
  context: AuthenticatedContext;
  transfer: TransferRequest;
  reads: TransferReads;
  participantSid: string;
}): { transferClose: SealedTransferClose | undefined; warnings: string[] } {
  const { context, transfer, reads, participantSid } = options;
  if (context.settings.coldClose === 'immediate') return { transferClose: undefined, warnings: [] };
  const ours = transferEventsUrls(context.incoming);
  const callback = reads.workspaceCallback;
  const configured = callback?.eventCallbackUrl;
  // TaskRouter signs the exact URL it posts to, and sends only the events its filter lets through.
  const reachesUs = configured !== undefined && ours.includes(configured);
  const acceptanceSent = callback?.eventsFilter === undefined || callback.eventsFilter.includes('reservation.accepted');
  if (reachesUs && acceptanceSent) {
    const close = {
      interactionSid: transfer.interactionSid,
      channelSid: transfer.channelSid,
      participantSid,
      status: transfer.participantStatus,
    };
    return { transferClose: sealTransferClose(close, context.settings.authToken), warnings: [] };
  }
  const what = reachesUs
    ? `the workspace's EventsFilter (${callback?.eventsFilter?.join(',') ?? ''}) does not send reservation.accepted`
    : `the workspace's EventCallbackUrl is ${configured ?? 'not set'}, not ${ours[0]}`;
  return {
    transferClose: undefined,
    warnings: [
      `TRANSFER_COLD_CLOSE is on-accept, but ${what}: ` +
        'the transferring participant was closed at once instead of when the new agent accepts. See "Setting up the workspace callback" in the README.',
    ],
  };
}

/** Checks ownership and the conversation, invites, and for a cold transfer closes (now, or sealed for on acceptance). */
async function invite(options: {
  context: AuthenticatedContext;
  transfer: TransferRequest;
  reads: TransferReads;
  requestKeyHash: string | undefined;
}): Promise<TransferResult> {
  const { context, transfer, reads } = options;
  const { caller, settings } = context;
  const restricted = isRestricted(caller, settings);
  if (restricted) requireOwnParticipation(caller, reads.participants);
  if (transfer.participantSid !== undefined) requireAgentParticipant(transfer.participantSid, reads.participants);
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
  if (
    transfer.targetType === 'worker' &&
    (await targetStillAssigned(context, { workerSid: transfer.targetSid, participants: reads.participants }))
  ) {
    throw new AlreadyParticipantError(transfer.targetSid);
  }
  const plan = closing === undefined ? undefined : coldClosePlan({ context, transfer, reads, participantSid: closing });
  const routing = buildRouting({
    transfer,
    caller,
    settings,
    originalTask: reads.originalTask,
    requestKeyHash: options.requestKeyHash,
    workerSidsInConversation: agentWorkers(reads.participants),
    transferClose: plan?.transferClose,
  });
  const created = await createInvite(context.transport, transfer, routing);
  const closesOnAccept = plan?.transferClose !== undefined;
  const closeWarnings = closing === undefined || closesOnAccept ? [] : await closeTransferringParticipant(context, transfer, closing);
  return {
    inviteSid: created.inviteSid,
    interactionSid: transfer.interactionSid,
    channelSid: transfer.channelSid,
    taskSid: created.taskSid,
    target: { type: transfer.targetType, sid: transfer.targetSid },
    transferType: transfer.transferType,
    participantClosed: closing !== undefined && !closesOnAccept && closeWarnings.length === 0,
    participantCloses: closesOnAccept ? 'on-accept' : null,
    warnings: [...(plan?.warnings ?? []), ...closeWarnings],
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
      read: () => readBeforeInvite(context, transfer),
      change: (reads) => invite({ context, transfer, reads, requestKeyHash: key?.hash }),
      // A warm transfer's answer, or a cold one closing on acceptance, is rebuilt from its invite; an immediate close is known only to this request.
      mustRecord: (done) => done.transferType === 'cold' && done.participantCloses === null,
    });
    if (replayed) return replayResult({ effect: 'created', result });
    return { effect: 'created', body: result, happened: 'transferred' };
  };
}
