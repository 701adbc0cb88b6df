import { asFailure, InvalidRequestError } from '../errors';
import { type ChannelInvite, type ChannelParticipant, type ChannelRef, listInvites } from '../twilio/flex';
import { nonEmptyString } from '../untrusted-json';
import {
  agentStillThere,
  agentTaskSids,
  areTransferAttributes,
  authorizedChannelReads,
  CANCELABLE_STATUSES,
  currentStatus,
  participantClosesOf,
  readChannel,
  transferringAgentStays,
} from './channel-transfers';
import type { RequestContext } from './context';
import type { CoreHandler } from './engine';
import { FieldReader } from './fields';

/** How many of the newest transfers get their task's status read from TaskRouter (one concurrent round). */
export const TASK_STATUSES_READ = 20;

/** One pending (or past) transfer as /list-transfers shows it. */
export interface PendingTransfer {
  inviteSid: string;
  taskSid: string | null;
  target: { type: 'worker' | 'queue'; sid: string } | null;
  transferType: 'warm' | 'cold' | null;
  transferredByWorkerSid: string | null;
  createdAt: string | null;
  /** The task's current assignment status, read from TaskRouter for the newest transfers; null for older ones. */
  taskStatus: string | null;
  /** v3: 'on-accept' when /transfer-events closes the transferring participant once the new agent accepts. */
  participantCloses: 'on-accept' | null;
  /** v3: whether /cancel-transfer would cancel it now; null when its status was not read. */
  cancelable: boolean | null;
}

function parseListRequest(params: Readonly<Record<string, unknown>>): ChannelRef {
  const read = new FieldReader(params);
  const channel = readChannel(read);
  if (read.problems.length > 0) throw new InvalidRequestError(read.problems);
  return channel;
}

/** The largest time JavaScript's Date can hold (±8.64e15 ms around 1970). */
const MAX_DATE_MS = 8.64e15;

/** A date as Twilio gives it inside routing properties: epoch seconds, or a date string; null when it cannot be read. */
function isoDate(value: unknown): string | null {
  const ms = typeof value === 'number' ? value * 1000 : typeof value === 'string' && value !== '' ? Date.parse(value) : NaN;
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : null;
}

function describeInvite(invite: ChannelInvite): PendingTransfer {
  const { attributes, properties } = invite;
  const targetSid = nonEmptyString(attributes.transferTargetSid);
  return {
    inviteSid: invite.inviteSid,
    taskSid: invite.taskSid ?? null,
    target:
      areTransferAttributes(attributes) && targetSid !== undefined
        ? { type: attributes.transferTargetType as 'worker' | 'queue', sid: targetSid }
        : null,
    transferType: attributes.transferType === 'warm' || attributes.transferType === 'cold' ? attributes.transferType : null,
    transferredByWorkerSid: nonEmptyString(attributes.transferredByWorkerSid) ?? null,
    createdAt: isoDate(properties.date_created),
    taskStatus: null,
    participantCloses: participantClosesOf(attributes),
    cancelable: null,
  };
}

/**
 * The newest transfers' task statuses, read from TaskRouter (the invite list's copy may be the one at creation), in one
 * round with the tasks of the channel's agents, and what follows: a transfer is cancelable while pending or reserved,
 * its transferring agent stays while it is (warm, or cold closing on acceptance), and an agent is still on an assigned
 * task. A task that could not be read keeps `taskStatus: null` (the log line says which).
 */
async function withCurrentStatus(
  context: RequestContext,
  transfers: PendingTransfer[],
  options: { invites: Map<string, ChannelInvite>; participants: readonly ChannelParticipant[] },
): Promise<PendingTransfer[]> {
  const newest = transfers.slice(0, TASK_STATUSES_READ).flatMap((transfer) => (transfer.taskSid === null ? [] : [transfer.taskSid]));
  const agentTasks = agentTaskSids(options.participants);
  const wanted = [...new Set([...newest, ...agentTasks])];
  const read = await Promise.all(
    wanted.map((taskSid) =>
      currentStatus(context, taskSid).then(
        (status) => ({ status, known: true }),
        (thrown: unknown) => {
          context.transport.note(`task ${taskSid}: its status could not be read (${asFailure(thrown).message})`);
          return { status: undefined, known: false };
        },
      ),
    ),
  );
  const statusOf = new Map(wanted.map((taskSid, index) => [taskSid, read[index]]));
  const agentThere = agentStillThere(agentTasks.map((taskSid) => statusOf.get(taskSid)?.status));
  return transfers.map((transfer) => {
    const found = transfer.taskSid === null || !newest.includes(transfer.taskSid) ? undefined : statusOf.get(transfer.taskSid);
    if (found === undefined || !found.known) return transfer;
    const attributes = options.invites.get(transfer.inviteSid)?.attributes ?? {};
    // A task TaskRouter no longer has (it ended and was removed) has no status, and is not cancelable.
    const taskStatus = found.status ?? null;
    const cancelable = taskStatus !== null && CANCELABLE_STATUSES.has(taskStatus) && transferringAgentStays(attributes) && agentThere;
    return { ...transfer, taskStatus, cancelable };
  });
}

/** POST /list-transfers: the channel's transfer invites, every page, newest first, the newest with their task's current status. */
export const listTransfersHandler: CoreHandler = async (context) => {
  const channel = parseListRequest(context.incoming.params);
  const { value: invites, participants } = await authorizedChannelReads({
    context,
    channel,
    read: () => listInvites(context.transport, channel),
  });
  const transferInvites = invites.filter((invite) => areTransferAttributes(invite.attributes));
  for (const invite of transferInvites) {
    const dateCreated = invite.properties.date_created;
    if (dateCreated !== undefined && dateCreated !== null && isoDate(dateCreated) === null) {
      context.transport.note(`invite ${invite.inviteSid}: date_created ${JSON.stringify(dateCreated)} is not a readable date`);
    }
  }
  const listed = transferInvites.map(describeInvite).sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
  const transfers = await withCurrentStatus(context, listed, {
    invites: new Map(transferInvites.map((invite) => [invite.inviteSid, invite])),
    participants,
  });
  return { effect: 'done', body: { transfers }, happened: 'listed' };
};
