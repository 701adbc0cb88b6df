import { TwilioApiError } from '../errors';
import type { ChannelParticipant, ChannelRef } from '../twilio/flex';
import { listParticipants } from '../twilio/flex';
import { fetchTask } from '../twilio/taskrouter';
import type { AuthenticatedContext, RequestContext } from './context';
import type { FieldReader } from './fields';
import { isRestricted, requireOwnParticipation } from './ownership';

/** Task statuses in which nobody has accepted a transfer yet. */
export const CANCELABLE_STATUSES: ReadonlySet<string> = new Set(['pending', 'reserved']);

export function readChannel(read: FieldReader): ChannelRef {
  const interactionSid = read.sid('interactionSid', 'interaction', { required: true });
  const channelSid = read.sid('channelSid', 'channel', { required: true });
  return { interactionSid: interactionSid ?? '', channelSid: channelSid ?? '' };
}

/** Whether these task attributes are a transfer's (the server-owned target type these functions set). */
export function areTransferAttributes(attributes: Record<string, unknown>): boolean {
  return attributes.transferTargetType === 'worker' || attributes.transferTargetType === 'queue';
}

/** v3: 'on-accept' when the transfer's task carries a close instruction for /transfer-events, else null. */
export function participantClosesOf(attributes: Record<string, unknown>): 'on-accept' | null {
  return attributes.transferType === 'cold' && typeof attributes.transferClose === 'object' && attributes.transferClose !== null
    ? 'on-accept'
    : null;
}

/**
 * v3: whether the transferring agent is still with the customer while the
 * transfer is pending: a warm transfer keeps them, a cold one closing on
 * acceptance keeps them until then; a cold one closed at once has lost them.
 */
export function transferringAgentStays(attributes: Record<string, unknown>): boolean {
  return attributes.transferType !== 'cold' || participantClosesOf(attributes) === 'on-accept';
}

/**
 * Reads of a channel together with its participants (one round trip): for a
 * plain agent, the check that the channel is theirs; for everyone, what
 * `agentStillThere` needs.
 */
export async function authorizedChannelReads<T>(options: {
  context: AuthenticatedContext;
  channel: ChannelRef;
  read: () => Promise<T>;
}): Promise<{ value: T; participants: ChannelParticipant[] }> {
  const { context, channel } = options;
  const { caller } = context;
  const [value, participants] = await Promise.all([options.read(), listParticipants(context.transport, channel)]);
  if (isRestricted(caller, context.settings)) requireOwnParticipation(caller, participants);
  return { value, participants };
}

/** The tasks of the channel's agent participants (listed participants may have left: only their task says). */
export function agentTaskSids(participants: readonly ChannelParticipant[]): string[] {
  return [
    ...new Set(
      participants
        .filter((participant) => participant.type === 'agent' && participant.taskSid !== undefined)
        .map((participant) => participant.taskSid as string),
    ),
  ];
}

/** The task's current assignment status, or undefined when TaskRouter no longer has it. */
export async function currentStatus(context: RequestContext, taskSid: string): Promise<string | undefined> {
  try {
    return (await fetchTask(context.transport, { workspaceSid: context.settings.workspaceSid, taskSid })).assignmentStatus;
  } catch (thrown) {
    if (thrown instanceof TwilioApiError && thrown.status === 404) return undefined;
    throw thrown;
  }
}

/** v3: whether an agent is still with the customer: an agent participant whose task is still `assigned`. */
export function agentStillThere(statusesOfAgentTasks: readonly (string | undefined)[]): boolean {
  return statusesOfAgentTasks.some((status) => status === 'assigned');
}
