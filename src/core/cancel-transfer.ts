import { ConflictError, InvalidRequestError, NotFoundError, TransferringAgentGoneError, TwilioApiError } from '../errors';
import { type ChannelRef, listInvites } from '../twilio/flex';
import { cancelTask, fetchTask, type WorkspaceTask } from '../twilio/taskrouter';
import {
  agentStillThere,
  agentTaskSids,
  areTransferAttributes,
  authorizedChannelReads,
  CANCELABLE_STATUSES,
  currentStatus,
  readChannel,
  transferringAgentStays,
} from './channel-transfers';
import type { AuthenticatedContext, RequestContext } from './context';
import type { CoreHandler } from './engine';
import { exactlyOnce } from './exactly-once';
import { FieldReader } from './fields';
import { replayResult, type UnrecordedResultFinder } from './idempotency';
import { readIdempotencyKeyInto, requestKey } from './idempotency-key';
import type { HandlerResult } from './outcome';

export interface CancelResult {
  taskSid: string;
  canceled: true;
}

const DEFAULT_CANCEL_REASON = 'Transfer canceled';
const MAX_REASON_LENGTH = 255;

interface CancelRequest {
  channel: ChannelRef;
  taskSid: string;
  reason: string;
  key: string | undefined;
}

function parseCancelRequest(incoming: RequestContext['incoming']): CancelRequest {
  const read = new FieldReader(incoming.params);
  const channel = readChannel(read);
  const taskSid = read.sid('taskSid', 'task', { required: true }) ?? '';
  const reason = read.text('reason') ?? DEFAULT_CANCEL_REASON;
  if (reason.length > MAX_REASON_LENGTH)
    read.problems.push({ field: 'reason', message: `must be at most ${MAX_REASON_LENGTH} characters` });
  const key = readIdempotencyKeyInto(incoming, read.problems);
  if (read.problems.length > 0) throw new InvalidRequestError(read.problems);
  return { channel, taskSid, reason, key };
}

/** POST /cancel-transfer: cancels a transfer's task while nobody has accepted it yet. */
export const cancelTransferHandler: CoreHandler = async (context): Promise<HandlerResult> => {
  const { channel, taskSid, reason, key: rawKey } = parseCancelRequest(context.incoming);
  const key = requestKey({ context, rawKey, functionName: 'cancel-transfer', fields: { ...channel, taskSid, reason } });
  const { result, replayed } = await exactlyOnce<WorkspaceTask, CancelResult>({
    context,
    key,
    findUnrecordedResult: cancelFromTask(context, { taskSid, reason }),
    read: () => readCancelable({ context, channel, taskSid }),
    change: async (task) => {
      await cancelPendingTask(context, { taskSid, reason, etag: task.etag });
      return { taskSid, canceled: true };
    },
    // TaskRouter cannot tell "canceled by this request" from "canceled by someone": the result is recorded.
    mustRecord: () => true,
  });
  if (replayed) return replayResult({ effect: 'done', result });
  return { effect: 'done', body: result, happened: 'canceled' };
};

/**
 * A first cancel whose result was not recorded (its answer was lost, or the
 * record failed): the task canceled with this request's reason says it.
 */
function cancelFromTask(context: RequestContext, request: { taskSid: string; reason: string }): UnrecordedResultFinder<CancelResult> {
  return async () => {
    const task = await fetchTask(context.transport, { workspaceSid: context.settings.workspaceSid, taskSid: request.taskSid }).catch(
      () => undefined,
    );
    return task?.assignmentStatus === 'canceled' && task.reason === request.reason
      ? { taskSid: request.taskSid, canceled: true }
      : undefined;
  };
}

/** The transfer's task, read and checked: a transfer of this channel, still pending or reserved. */
async function readCancelable(options: { context: AuthenticatedContext; channel: ChannelRef; taskSid: string }): Promise<WorkspaceTask> {
  const { context, channel, taskSid } = options;
  const { transport, settings } = context;
  const notATransfer = new NotFoundError({ field: 'taskSid', message: `Task ${taskSid} is not a transfer of this channel.` });
  const {
    value: [invites, task],
    participants,
  } = await authorizedChannelReads({
    context,
    channel,
    read: () =>
      Promise.all([
        listInvites(transport, channel),
        fetchTask(transport, { workspaceSid: settings.workspaceSid, taskSid }).catch((thrown: unknown) => {
          if (thrown instanceof TwilioApiError && thrown.status === 404) return undefined;
          throw thrown;
        }),
      ]),
  });
  const invite = invites.find((candidate) => candidate.taskSid === taskSid);
  if (invite === undefined || !areTransferAttributes(invite.attributes)) throw notATransfer;
  // The channel's transfer whose task TaskRouter no longer has: it ended and was removed.
  if (task === undefined)
    throw new ConflictError({ message: 'The transfer is no longer pending (its task is gone): nothing was canceled.' });
  if (!areTransferAttributes(task.attributes)) throw notATransfer;
  if (!CANCELABLE_STATUSES.has(task.assignmentStatus)) {
    throw new ConflictError({ message: `The transfer is no longer pending (its task is ${task.assignmentStatus}): nothing was canceled.` });
  }
  // v3: canceling a cold transfer whose transferring agent already left would leave the customer alone; so would
  // canceling any transfer once no agent of the channel is still on an assigned task (they left, or ended their task).
  if (!transferringAgentStays(task.attributes)) throw new TransferringAgentGoneError(taskSid, 'closed-at-once');
  const statuses = await Promise.all(agentTaskSids(participants).map((agentTask) => currentStatus(context, agentTask)));
  if (!agentStillThere(statuses)) throw new TransferringAgentGoneError(taskSid, 'no-agent-left');
  return task;
}

/** Cancels only the version of the task that was read (If-Match): an agent accepting meanwhile makes it a 409. */
async function cancelPendingTask(
  context: RequestContext,
  task: { taskSid: string; reason: string; etag: string | undefined },
): Promise<void> {
  try {
    await cancelTask(context.transport, { workspaceSid: context.settings.workspaceSid, ...task });
  } catch (thrown) {
    // 412: the task changed since it was read (an agent accepted it); 400: TaskRouter no longer lets it be canceled.
    if (thrown instanceof TwilioApiError && (thrown.status === 412 || thrown.status === 400 || thrown.status === 409)) {
      throw new ConflictError({
        message: 'The transfer was accepted or ended while it was being canceled: nothing was canceled.',
        cause: thrown,
      });
    }
    throw thrown;
  }
}
