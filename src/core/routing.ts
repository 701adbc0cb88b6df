import type { Settings } from '../config';
import { plainObject } from '../values';
import { InvalidRequestError } from '../errors';
import type { Routing, RoutingProperties } from '../twilio/flex';
import type { WorkspaceTask } from '../twilio/taskrouter';
import type { Caller } from './authenticate';
import { QUEUE_REQUIRED_MESSAGE, type TransferRequest } from './transfer-request';

/** Attribute keys this service owns: a request (or the original task) can neither set nor spoof them. */
export const SERVER_ATTRIBUTE_KEYS = [
  'transferTargetType',
  'transferTargetSid',
  'transferType',
  'transferredByWorkerSid',
  'transferredFromTaskSid',
  'transferRequestKey',
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
  return merged;
}

/** The queue an agent transfer goes through: request, then setting, then the original task's; one is required. */
export function agentTransferQueue(input: Pick<RoutingInput, 'transfer' | 'settings' | 'originalTask'>): string {
  const queueSid = input.transfer.queueSid ?? input.settings.agentQueueSid ?? input.originalTask?.queueSid;
  if (queueSid === undefined) {
    throw new InvalidRequestError([{ field: 'queueSid', message: QUEUE_REQUIRED_MESSAGE }]);
  }
  return queueSid;
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
  const workflowSid = transfer.workflowSid ?? settings.defaultWorkflowSid ?? originalTask?.workflowSid;
  if (workflowSid !== undefined) properties.workflow_sid = workflowSid;
  if (transfer.targetType === 'worker') {
    properties.queue_sid = agentTransferQueue(input);
    properties.worker_sid = transfer.targetSid;
  } else {
    properties.queue_sid = transfer.targetSid;
  }
  if (transfer.priority !== undefined) properties.priority = transfer.priority;
  if (transfer.timeout !== undefined) properties.timeout = transfer.timeout;
  return { properties };
}
