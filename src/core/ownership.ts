import type { Settings } from '../config';
import { ForbiddenError, InvalidRequestError } from '../errors';
import type { ChannelParticipant } from '../twilio/flex';
import type { Caller } from './authenticate';

/** Whether the caller may act only on conversations they are an agent participant of (a plain agent). */
export function isRestricted(caller: Caller, settings: Settings): boolean {
  return caller.kind === 'flex-token' && settings.requireParticipant && !caller.roles.some((role) => settings.unrestrictedRoles.has(role));
}

function agentParticipants(participants: readonly ChannelParticipant[]): ChannelParticipant[] {
  return participants.filter((participant) => participant.type === 'agent');
}

/** The workers of the channel's agent participants. */
export function agentWorkers(participants: readonly ChannelParticipant[]): string[] {
  return [
    ...new Set(
      agentParticipants(participants).flatMap((participant) => (participant.workerSid === undefined ? [] : [participant.workerSid])),
    ),
  ];
}

/** v3, for every caller: a named participantSid is an agent participant of the channel (never the customer, never a stranger). */
export function requireAgentParticipant(participantSid: string, participants: readonly ChannelParticipant[]): void {
  if (!agentParticipants(participants).some((participant) => participant.sid === participantSid)) {
    throw new InvalidRequestError([{ field: 'participantSid', message: 'must be an agent participant of this conversation channel' }]);
  }
}

/** A plain agent may act only on a channel where their worker is an agent participant. */
export function requireOwnParticipation(caller: Caller, participants: readonly ChannelParticipant[]): void {
  const workerSid = caller.kind === 'flex-token' ? caller.workerSid : undefined;
  const own = workerSid !== undefined && agentParticipants(participants).some((participant) => participant.workerSid === workerSid);
  if (!own) {
    throw new ForbiddenError(
      'You are not an agent participant of this conversation channel: only its own agent, a supervisor or an admin may act on it.',
    );
  }
}

/**
 * The participant a cold transfer closes: the one the request names (for a
 * plain agent, only their own), else the agent participant of the task being
 * transferred, else the caller's own agent participant; never a customer.
 */
export function participantToClose(options: {
  caller: Caller;
  restricted: boolean;
  requestedSid: string | undefined;
  taskSid: string | undefined;
  participants: readonly ChannelParticipant[] | undefined;
}): string {
  const { caller, restricted, requestedSid, taskSid } = options;
  const agents = agentParticipants(options.participants ?? []);
  const workerSid = caller.kind === 'flex-token' ? caller.workerSid : undefined;
  if (requestedSid !== undefined) {
    if (restricted && !agents.some((participant) => participant.sid === requestedSid && participant.workerSid === workerSid)) {
      throw new ForbiddenError('A cold transfer may close only your own participant: participantSid is not yours.');
    }
    return requestedSid;
  }
  const ofTask =
    taskSid === undefined
      ? undefined
      : agents.find((participant) => participant.taskSid === taskSid && (!restricted || participant.workerSid === workerSid));
  const found = ofTask ?? (workerSid === undefined ? undefined : agents.find((participant) => participant.workerSid === workerSid));
  if (found === undefined) {
    throw new InvalidRequestError([
      {
        field: 'participantSid',
        message:
          'is required for this cold transfer: no agent participant of this channel belongs to the task being transferred (taskSid) or to your worker',
      },
    ]);
  }
  return found.sid;
}
