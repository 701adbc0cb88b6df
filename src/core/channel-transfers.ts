import type { ChannelRef } from '../twilio/flex';
import { listParticipants } from '../twilio/flex';
import type { AuthenticatedContext } from './context';
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

/** Reads of a channel, and at the same time, for a plain agent, the check that the channel is theirs. */
export async function authorizedChannelReads<T>(options: {
  context: AuthenticatedContext;
  channel: ChannelRef;
  read: () => Promise<T>;
}): Promise<T> {
  const { context, channel } = options;
  const { caller } = context;
  const restricted = isRestricted(caller, context.settings);
  const [value, participants] = await Promise.all([options.read(), restricted ? listParticipants(context.transport, channel) : undefined]);
  if (restricted) requireOwnParticipation(caller, participants ?? []);
  return value;
}
