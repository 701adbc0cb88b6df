import { UpstreamMalformedAnswerError } from '../errors';
import { isSid } from '../value-formats';
import { nonEmptyString } from '../untrusted-json';
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

/** The workspace's event callback, as TaskRouter reports it. */
export interface WorkspaceCallback {
  eventCallbackUrl: string | undefined;
  /** Event types the callback receives; undefined: all of them. */
  eventsFilter: string[] | undefined;
}

function eventsFilterOf(value: unknown): string[] | undefined {
  const text = nonEmptyString(value);
  return text === undefined
    ? undefined
    : text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
}

export async function fetchWorkspaceCallback(transport: TwilioTransport, ref: { workspaceSid: string }): Promise<WorkspaceCallback> {
  const { value: workspace } = await transport.call(
    'workspace-fetch',
    (client) => client.taskrouter.v1.workspaces(ref.workspaceSid).fetch(),
    { safeToRepeat: true },
  );
  if (!isSid('workspace', (workspace as { sid?: unknown } | null)?.sid)) {
    throw new UpstreamMalformedAnswerError('workspace-fetch', { detail: 'no workspace SID in a success answer' });
  }
  return { eventCallbackUrl: nonEmptyString(workspace.eventCallbackUrl), eventsFilter: eventsFilterOf(workspace.eventsFilter) };
}

export async function updateWorkspaceCallback(
  transport: TwilioTransport,
  ref: { workspaceSid: string; eventCallbackUrl: string; eventsFilter: string[] },
): Promise<void> {
  await transport.call('workspace-update', (client) =>
    client.taskrouter.v1
      .workspaces(ref.workspaceSid)
      .update({ eventCallbackUrl: ref.eventCallbackUrl, eventsFilter: ref.eventsFilter.join(',') }),
  );
}

/** A workflow's configuration as TaskRouter stores it (a JSON document), parsed; an empty object when it is not JSON. */
export async function fetchWorkflowConfiguration(
  transport: TwilioTransport,
  ref: { workspaceSid: string; workflowSid: string },
): Promise<Record<string, unknown>> {
  const { value: workflow } = await transport.call(
    'workflow-fetch',
    (client) => client.taskrouter.v1.workspaces(ref.workspaceSid).workflows(ref.workflowSid).fetch(),
    { safeToRepeat: true },
  );
  if (!isSid('workflow', (workflow as { sid?: unknown } | null)?.sid)) {
    throw new UpstreamMalformedAnswerError('workflow-fetch', { detail: 'no workflow SID in a success answer' });
  }
  return attributesObject(workflow.configuration);
}
