import { UpstreamMalformedAnswerError } from '../errors';
import { isSid } from '../sids';
import { nonEmptyString } from '../values';
import { attributesObject } from './flex';
import type { TwilioTransport } from './transport';

/** A TaskRouter task as the functions use it, with the ETag that guards an update. */
export interface WorkspaceTask {
  sid: string;
  attributes: Record<string, unknown>;
  taskChannelUniqueName: string | undefined;
  workflowSid: string | undefined;
  queueSid: string | undefined;
  assignmentStatus: string;
  /** Why the task was canceled or completed, as whoever did it said. */
  reason: string | undefined;
  etag: string | undefined;
}

export async function fetchTask(transport: TwilioTransport, ref: { workspaceSid: string; taskSid: string }): Promise<WorkspaceTask> {
  const { value: task, answer } = await transport.call(
    'task-fetch',
    (client) => client.taskrouter.v1.workspaces(ref.workspaceSid).tasks(ref.taskSid).fetch(),
    { safeToRepeat: true },
  );
  if (!isSid('task', (task as { sid?: unknown } | null)?.sid)) {
    throw new UpstreamMalformedAnswerError('task-fetch', { detail: 'no task SID in a success answer' });
  }
  return {
    sid: task.sid,
    attributes: attributesObject(task.attributes),
    taskChannelUniqueName: nonEmptyString(task.taskChannelUniqueName),
    workflowSid: nonEmptyString(task.workflowSid),
    queueSid: nonEmptyString(task.taskQueueSid),
    assignmentStatus: String(task.assignmentStatus ?? ''),
    reason: nonEmptyString(task.reason),
    etag: nonEmptyString(answer?.headers.etag),
  };
}

/** Cancels the task only if it is still the version that was read (If-Match): an agent accepting meanwhile makes Twilio refuse. */
export async function cancelTask(
  transport: TwilioTransport,
  ref: { workspaceSid: string; taskSid: string; reason: string; etag: string | undefined },
): Promise<void> {
  await transport.call('task-update', (client) =>
    client.taskrouter.v1
      .workspaces(ref.workspaceSid)
      .tasks(ref.taskSid)
      .update({ assignmentStatus: 'canceled', reason: ref.reason, ...(ref.etag === undefined ? {} : { ifMatch: ref.etag }) }),
  );
}
