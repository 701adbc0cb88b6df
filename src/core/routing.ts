import type { Settings } from '../config';
import { plainObject } from '../untrusted-json';
import { type FieldProblem, InvalidRequestError } from '../errors';
import type { Routing, RoutingProperties } from '../twilio/flex';
import type { WorkspaceTask } from '../twilio/taskrouter';
import type { Caller } from './authenticate';
import type { SealedTransferClose } from './transfer-close';
import { QUEUE_REQUIRED_MESSAGE, type TransferRequest, WORKFLOW_REQUIRED_MESSAGE } from './transfer-request';

/** Attribute keys this service owns: a request (or the original task) can neither set nor spoof them. */
export const SERVER_ATTRIBUTE_KEYS = [
  'transferTargetType',
  'transferTargetSid',
  'transferType',
  'transferredByWorkerSid',
  'transferredFromTaskSid',
  'transferRequestKey',
  'transferQueueSid',
  'workerSidsInConversation',
  'transferClose',
] as const;

/** The task channel when neither the request, the original task nor a setting names one: never TaskRouter's `default`. */
export const FALLBACK_TASK_CHANNEL = 'chat';

export interface RoutingInput {
  transfer: TransferRequest;
  caller: Caller;
  settings: Settings;
  /** The task being transferred, when the request named it. */
  originalTask: WorkspaceTask | undefined;
  /** The hash of the request's Idempotency-Key, carried so a repeat can find this invite. */
  requestKeyHash?: string;
  /** The workers of the channel's agent participants (the workflow may skip them). */
  workerSidsInConversation?: readonly string[];
  /** A cold transfer closing on acceptance: what /transfer-events will close, sealed. */
  transferClose?: SealedTransferClose;
}

/**
 * The new task's attributes: the original task's, the request's over them
 * (the `conversations` object merged one level deep, as Flex Insights reads
 * it), then the server's own keys.
 */
function transferAttributes(input: RoutingInput): Record<string, unknown> {
  const { transfer, caller, originalTask } = input;
  const original = originalTask?.attributes ?? {};
  const serverKeys: ReadonlySet<string> = new Set(SERVER_ATTRIBUTE_KEYS);
  const merged: Record<string, unknown> = Object.fromEntries(
    Object.entries({ ...original, ...transfer.attributes }).filter(([key]) => !serverKeys.has(key)),
  );
  const conversations = { ...plainObject(original.conversations), ...plainObject(transfer.attributes.conversations) };
  if (originalTask !== undefined) {
    // Flex Insights links the segments of one conversation by this id.
    conversations.conversation_id = plainObject(original.conversations)?.conversation_id ?? originalTask.sid;
  }
  if (Object.keys(conversations).length > 0) merged.conversations = conversations;

  merged.transferTargetType = transfer.targetType;
  merged.transferTargetSid = transfer.targetSid;
  merged.transferType = transfer.transferType;
  if (caller.kind === 'flex-token' && caller.workerSid !== undefined) merged.transferredByWorkerSid = caller.workerSid;
  if (transfer.taskSid !== undefined) merged.transferredFromTaskSid = transfer.taskSid;
  if (input.requestKeyHash !== undefined) merged.transferRequestKey = input.requestKeyHash;
  merged.workerSidsInConversation = [...(input.workerSidsInConversation ?? [])];
  if (transfer.targetType === 'worker' && input.settings.agentRouting === 'workflow' && transfer.queueSid !== undefined) {
    merged.transferQueueSid = transfer.queueSid;
  }
  if (input.transferClose !== undefined) merged.transferClose = { ...input.transferClose };
  return merged;
}

/** The workflow every invite names (v3): request, then setting, then the original task's; one is required. */
export function transferWorkflow(input: Pick<RoutingInput, 'transfer' | 'settings' | 'originalTask'>): string {
  const workflowSid = input.transfer.workflowSid ?? input.settings.defaultWorkflowSid ?? input.originalTask?.workflowSid;
  if (workflowSid === undefined) {
    throw new InvalidRequestError([{ field: 'workflowSid', message: WORKFLOW_REQUIRED_MESSAGE }]);
  }
  return workflowSid;
}

/** The `routing` of the invite: what TaskRouter builds the new task from. */
export function buildRouting(input: RoutingInput): Routing {
  const { transfer, settings, originalTask } = input;
  const properties: RoutingProperties = {
    workspace_sid: settings.workspaceSid,
    attributes: transferAttributes(input),
    task_channel_unique_name:
      transfer.taskChannel ?? originalTask?.taskChannelUniqueName ?? settings.defaultTaskChannel ?? FALLBACK_TASK_CHANNEL,
  };
  // What only the original task could have supplied is reported together, like every other 400.
  const workflowSid = transfer.workflowSid ?? settings.defaultWorkflowSid ?? originalTask?.workflowSid;
  const direct = transfer.targetType === 'worker' && settings.agentRouting === 'direct';
  const agentQueueSid = transfer.queueSid ?? settings.agentQueueSid ?? originalTask?.queueSid;
  const problems: FieldProblem[] = [];
  if (workflowSid === undefined) problems.push({ field: 'workflowSid', message: WORKFLOW_REQUIRED_MESSAGE });
  if (direct && agentQueueSid === undefined) problems.push({ field: 'queueSid', message: QUEUE_REQUIRED_MESSAGE });
  if (workflowSid === undefined || problems.length > 0) throw new InvalidRequestError(problems);
  properties.workflow_sid = workflowSid;
  if (transfer.targetType === 'worker') {
    // Workflow mode sends neither: the workflow reaches the worker by known-agent routing on transferTargetSid.
    if (direct) {
      properties.queue_sid = agentQueueSid;
      properties.worker_sid = transfer.targetSid;
    }
  } else {
    properties.queue_sid = transfer.targetSid;
  }
  if (transfer.priority !== undefined) properties.priority = transfer.priority;
  if (transfer.timeout !== undefined) properties.timeout = transfer.timeout;
  return { properties };
}
