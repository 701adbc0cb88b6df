import { AgentWorkflowMisconfiguredError, NotFoundError, TwilioApiError } from '../errors';
import { type ChannelParticipant, listParticipants } from '../twilio/flex';
import {
  fetchTask,
  fetchWorkflowConfiguration,
  fetchWorkspaceCallback,
  type WorkspaceCallback,
  type WorkspaceTask,
} from '../twilio/taskrouter';
import { agentStillThere, agentTaskSids, currentStatus } from './channel-transfers';
import type { AuthenticatedContext, RequestContext } from './context';
import { transferWorkflow } from './routing';
import type { TransferRequest } from './transfer-request';
import { plainObject } from '../untrusted-json';

/** What a transfer reads before its invite. */
export interface TransferReads {
  originalTask: WorkspaceTask | undefined;
  participants: ChannelParticipant[];
  /** The workspace's event callback: read only for a cold transfer that closes on acceptance. */
  workspaceCallback: WorkspaceCallback | undefined;
}

function taskNotFound(taskSid: string): NotFoundError {
  return new NotFoundError({
    field: 'taskSid',
    message: `taskSid ${taskSid} is not a task of this conversation channel: nothing was transferred.`,
  });
}

async function originalTaskOf(context: RequestContext, taskSid: string): Promise<WorkspaceTask> {
  try {
    return await fetchTask(context.transport, { workspaceSid: context.settings.workspaceSid, taskSid });
  } catch (thrown) {
    if (thrown instanceof TwilioApiError && thrown.status === 404) throw taskNotFound(taskSid);
    throw thrown;
  }
}

/** v3: a task belongs to a channel when Flex says so in its attributes, or a participant of the channel holds it. */
function isTaskOfChannel(task: WorkspaceTask, channelSid: string, participants: readonly ChannelParticipant[]): boolean {
  return task.attributes.flexInteractionChannelSid === channelSid || participants.some((participant) => participant.taskSid === task.sid);
}

/** Whether a workflow configuration has a target that reaches the agent a transfer names. */
export function reachesNamedAgent(configuration: Record<string, unknown>): boolean {
  const filters = plainObject(configuration.task_routing)?.filters;
  if (!Array.isArray(filters)) return false;
  return filters.some((filter) => {
    const targets = plainObject(filter)?.targets;
    return (
      Array.isArray(targets) &&
      targets.some((target) => /^\s*task\.transferTargetSid\s*$/.test(String(plainObject(target)?.known_worker_sid ?? '')))
    );
  });
}

/** In workflow mode an agent transfer's workflow must reach a named agent (read once per instance, remembered for minutes). */
async function requireAgentWorkflow(context: RequestContext, workflowSid: string): Promise<void> {
  const { memory, transport, settings } = context;
  const reaches = await memory.recall(memory.agentWorkflows, `${settings.workspaceSid}:${workflowSid}`, async () =>
    reachesNamedAgent(await fetchWorkflowConfiguration(transport, { workspaceSid: settings.workspaceSid, workflowSid })),
  );
  if (!reaches) throw new AgentWorkflowMisconfiguredError(workflowSid);
}

function workspaceCallbackOf(context: RequestContext): Promise<WorkspaceCallback> {
  const { memory, transport, settings } = context;
  return memory.recall(memory.workspaceCallbacks, settings.workspaceSid, () =>
    fetchWorkspaceCallback(transport, { workspaceSid: settings.workspaceSid }),
  );
}

/**
 * Everything a transfer reads before its invite, at once (one round trip):
 * the channel's participants always, the original task, the workflow's
 * configuration and the workspace's callback when needed and not remembered.
 * A workflow known only from the original task is checked in a second round.
 */
export async function readBeforeInvite(context: AuthenticatedContext, transfer: TransferRequest): Promise<TransferReads> {
  const { settings } = context;
  const checksWorkflow = transfer.targetType === 'worker' && settings.agentRouting === 'workflow';
  const workflowUpFront = transfer.workflowSid ?? settings.defaultWorkflowSid;
  const readsCallback = transfer.transferType === 'cold' && settings.coldClose === 'on-accept';
  const [originalTask, participants, workspaceCallback] = await Promise.all([
    transfer.taskSid === undefined ? undefined : originalTaskOf(context, transfer.taskSid),
    listParticipants(context.transport, transfer),
    readsCallback ? workspaceCallbackOf(context) : undefined,
    checksWorkflow && workflowUpFront !== undefined ? requireAgentWorkflow(context, workflowUpFront) : undefined,
  ]);
  if (originalTask !== undefined && !isTaskOfChannel(originalTask, transfer.channelSid, participants)) {
    throw taskNotFound(originalTask.sid);
  }
  if (checksWorkflow && workflowUpFront === undefined) {
    await requireAgentWorkflow(context, transferWorkflow({ transfer, settings, originalTask }));
  }
  return { originalTask, participants, workspaceCallback };
}

/** The tasks of the target worker's agent participants, when the target is listed (transferring back to one who left must work). */
export async function targetStillAssigned(
  context: RequestContext,
  options: { workerSid: string; participants: readonly ChannelParticipant[] },
): Promise<boolean> {
  const ofTarget = options.participants.filter((participant) => participant.workerSid === options.workerSid);
  return agentStillThere(await Promise.all(agentTaskSids(ofTarget).map((taskSid) => currentStatus(context, taskSid))));
}
