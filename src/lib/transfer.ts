import type { Twilio } from 'twilio';
import type { Caller } from './auth/authenticate';
import { asTransferFailure, InvalidRequestError } from './errors';
import { failureToHttp } from './http-errors';
import type { Routing } from './routing';
import { createInvite, findParticipantOfWorker, setParticipantStatus } from './twilio/interaction';
import type { UpstreamSession } from './twilio/upstream';
import type { TargetType, TransferRequest, TransferType } from './transfer-request';

/** The 201 body. */
export interface TransferResult {
  inviteSid: string;
  interactionSid: string;
  channelSid: string;
  taskSid: string | null;
  target: { type: TargetType; sid: string };
  transferType: TransferType;
  participantClosed: boolean;
  warnings: string[];
}

/**
 * The participant a cold transfer closes: the one named in the request, or,
 * for a Flex agent, the one the agent joined the channel as. Found before the
 * invite, so that a transfer that cannot complete never starts.
 */
async function participantToClose(transfer: TransferRequest, caller: Caller, client: Twilio, upstream: UpstreamSession): Promise<string> {
  if (transfer.participantSid !== undefined) return transfer.participantSid;
  const workerSid = caller.kind === 'flex-token' ? caller.workerSid : undefined;
  if (workerSid === undefined) {
    throw new InvalidRequestError([
      { field: 'participantSid', message: 'is required for a cold transfer unless the caller is a Flex agent signed in with a worker' },
    ]);
  }
  const found = await findParticipantOfWorker(client, upstream, transfer, workerSid);
  if (found === undefined) {
    throw new InvalidRequestError([
      { field: 'participantSid', message: 'is required: your worker is not a participant of this channel, so there is no one to close' },
    ]);
  }
  return found;
}

/** Invite first; for a cold transfer, close the transferring participant only once the invite exists. */
export async function performTransfer(
  transfer: TransferRequest,
  routing: Routing,
  caller: Caller,
  client: Twilio,
  upstream: UpstreamSession,
): Promise<TransferResult> {
  const closing = transfer.transferType === 'cold' ? await participantToClose(transfer, caller, client, upstream) : undefined;
  const invite = await createInvite(client, upstream, transfer, routing);

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
  if (closing === undefined) return result;

  try {
    await setParticipantStatus(client, upstream, transfer, closing, transfer.participantStatus);
    result.participantClosed = true;
  } catch (thrown) {
    // The invite stands: the customer has a pending agent. Reporting an error here would invite a retry and a second invite.
    const reason = failureToHttp(asTransferFailure(thrown)).body.error.code;
    result.warnings.push(
      `The invite was created, but participant ${closing} could not be set to ${transfer.participantStatus} (${reason}). ` +
        'Do not retry the transfer: end your task in Flex, or update the participant through the Interactions API.',
    );
  }
  return result;
}
