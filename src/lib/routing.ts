import type { Caller } from './auth/authenticate';
import type { Settings } from './config';
import type { TransferRequest } from './transfer-request';

/** Attribute keys this service owns: a request can neither set nor spoof them. */
export const SERVER_ATTRIBUTE_KEYS = [
  'transferTargetType',
  'transferTargetSid',
  'transferType',
  'transferredByWorkerSid',
  'transferredFromTaskSid',
] as const;

export interface RoutingProperties {
  workspace_sid: string;
  workflow_sid?: string;
  queue_sid?: string;
  worker_sid?: string;
  task_channel_unique_name?: string;
  priority?: number;
  timeout?: number;
  attributes: Record<string, unknown>;
}

export interface Routing {
  properties: RoutingProperties;
}

/** The `routing` of the invite: what TaskRouter builds the new task from. */
export function buildRouting(transfer: TransferRequest, caller: Caller, settings: Settings): Routing {
  const serverKeys: readonly string[] = SERVER_ATTRIBUTE_KEYS;
  const attributes: Record<string, unknown> = Object.fromEntries(
    Object.entries(transfer.attributes).filter(([key]) => !serverKeys.includes(key)),
  );
  attributes.transferTargetType = transfer.targetType;
  attributes.transferTargetSid = transfer.targetSid;
  attributes.transferType = transfer.transferType;
  if (caller.kind === 'flex-token' && caller.workerSid !== undefined) attributes.transferredByWorkerSid = caller.workerSid;
  if (transfer.taskSid !== undefined) attributes.transferredFromTaskSid = transfer.taskSid;

  const properties: RoutingProperties = { workspace_sid: settings.workspaceSid, attributes };
  const workflowSid = transfer.workflowSid ?? settings.defaultWorkflowSid;
  if (workflowSid !== undefined) properties.workflow_sid = workflowSid;
  const queueSid = transfer.targetType === 'queue' ? transfer.targetSid : (transfer.queueSid ?? settings.agentQueueSid);
  if (queueSid !== undefined) properties.queue_sid = queueSid;
  if (transfer.targetType === 'worker') properties.worker_sid = transfer.targetSid;
  const taskChannel = transfer.taskChannel ?? settings.defaultTaskChannel;
  if (taskChannel !== undefined) properties.task_channel_unique_name = taskChannel;
  if (transfer.priority !== undefined) properties.priority = transfer.priority;
  if (transfer.timeout !== undefined) properties.timeout = transfer.timeout;
  return { properties };
}
