import { TransferCloseFailedError, TwilioApiError } from '../errors';
import { attributesObject, listInvites, setParticipantStatus } from '../twilio/flex';
import { nonEmptyString } from '../untrusted-json';
import type { AuthenticatedContext } from './context';
import type { CoreHandler } from './engine';
import { HANDLED_EVENT_MEMORY_MS } from './instance-memory';
import type { HandlerResult } from './outcome';
import { type TransferClose, verifiedTransferClose } from './transfer-close';

/** The TaskRouter event fields this function reads (TaskRouter posts many more). */
interface TaskRouterEvent {
  eventType: string | undefined;
  accountSid: string | undefined;
  workspaceSid: string | undefined;
  taskSid: string | undefined;
  taskAttributes: Record<string, unknown>;
}

/** Events after which a sealed transfer will never be accepted: nobody is closed, the transferring agent stays. */
const NOT_ACCEPTED_EVENTS: ReadonlySet<string> = new Set(['task.canceled', 'task.deleted', 'workflow.timeout']);
const ACCEPTED_EVENT = 'reservation.accepted';

function readEvent(params: Readonly<Record<string, unknown>>): TaskRouterEvent {
  return {
    eventType: nonEmptyString(params.EventType),
    accountSid: nonEmptyString(params.AccountSid),
    workspaceSid: nonEmptyString(params.WorkspaceSid),
    taskSid: nonEmptyString(params.TaskSid),
    taskAttributes: attributesObject(params.TaskAttributes),
  };
}

function acknowledged(happened: string): HandlerResult {
  return { effect: 'acknowledged', happened };
}

/** Twilio's error 45362, "Failed to remove Participant. Not found.": its page says the participant may have already been removed. */
const PARTICIPANT_ALREADY_REMOVED = 45362;

/**
 * Twilio's answer when the participant is already closed (by an earlier
 * delivery of the same event, or by the agent leaving): the participant is
 * gone (404), or error 45362.
 */
function isAlreadyClosed(thrown: unknown): boolean {
  if (!(thrown instanceof TwilioApiError)) return false;
  return thrown.status === 404 || thrown.twilioCode === PARTICIPANT_ALREADY_REMOVED;
}

/**
 * Whether the event's task is a transfer of the channel the seal names: one of its invites created the task. A seal
 * copied into another task's attributes (anyone who can write attributes could) is never acted on.
 */
async function isInviteTaskOf(context: AuthenticatedContext, close: TransferClose, taskSid: string): Promise<boolean> {
  const invites = await listInvites(context.transport, close);
  return invites.some((invite) => invite.taskSid === taskSid);
}

async function closeOnAcceptance(context: AuthenticatedContext, close: TransferClose, taskSid: string): Promise<HandlerResult> {
  const { memory } = context;
  if (memory.handledCloses.get(taskSid) !== undefined) return acknowledged('already_closed');
  try {
    if (!(await isInviteTaskOf(context, close, taskSid))) return acknowledged('seal_not_of_task');
    await setParticipantStatus(context.transport, close, { sid: close.participantSid, status: close.status });
  } catch (thrown) {
    // Whatever failed (reading the invites, or the close itself), a 5xx: TaskRouter delivers the event again.
    if (!isAlreadyClosed(thrown)) throw new TransferCloseFailedError({ ...close, participantSid: close.participantSid, cause: thrown });
  }
  memory.handledCloses.set(taskSid, true, context.now() + HANDLED_EVENT_MEMORY_MS);
  return acknowledged('participant_closed');
}

/**
 * POST /transfer-events, the workspace's TaskRouter event callback (signed
 * callers only): when the new agent accepts a cold transfer that closes on
 * acceptance, the transferring participant named in the task's sealed
 * `transferClose` is set to its status. Every other event is acknowledged at
 * once, with no call to Twilio.
 */
export const transferEventsHandler: CoreHandler = async (context) => {
  const event = readEvent(context.incoming.params);
  const { settings } = context;
  if (event.accountSid !== settings.accountSid || event.workspaceSid !== settings.workspaceSid) return acknowledged('other_workspace');
  const relevant = event.eventType === ACCEPTED_EVENT || NOT_ACCEPTED_EVENTS.has(event.eventType ?? '');
  const close = relevant ? verifiedTransferClose(event.taskAttributes.transferClose, settings.authToken) : undefined;
  if (close === undefined || event.taskSid === undefined)
    return acknowledged(relevant && event.taskAttributes.transferClose !== undefined ? 'seal_refused' : 'ignored');
  if (event.eventType === ACCEPTED_EVENT) return closeOnAcceptance(context, close, event.taskSid);
  return acknowledged('transfer_not_accepted');
};
