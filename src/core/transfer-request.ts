import type { Settings } from '../config';
import { type FieldProblem, ForbiddenError, InvalidRequestError, PayloadTooLargeError } from '../errors';
import { FieldReader } from './fields';

export type TargetType = 'worker' | 'queue';
export type TransferType = 'warm' | 'cold';
export type ParticipantStatus = 'closed' | 'wrapup';

/** A transfer request that passed every check. */
export interface TransferRequest {
  interactionSid: string;
  channelSid: string;
  targetType: TargetType;
  /** The worker for agent transfers, the queue for queue transfers. */
  targetSid: string;
  /** Agent transfers: the queue the task goes through, when the request names one. */
  queueSid: string | undefined;
  workflowSid: string | undefined;
  taskChannel: string | undefined;
  attributes: Record<string, unknown>;
  priority: number | undefined;
  timeout: number | undefined;
  transferType: TransferType;
  participantSid: string | undefined;
  participantStatus: ParticipantStatus;
  taskSid: string | undefined;
}

const MAX_PRIORITY = 2147483647;
/** TaskRouter's limit for a task's timeout: two weeks. */
export const MAX_TIMEOUT_SECONDS = 1_209_600;

export const QUEUE_REQUIRED_MESSAGE =
  "is required for an agent transfer (Twilio needs a queue with the worker): name one, set TRANSFER_AGENT_QUEUE_SID, or send taskSid so the original task's queue is used";

export const WORKFLOW_REQUIRED_MESSAGE =
  "is required: every invite names a workflow (Twilio requires one when a workspace has several, as Flex workspaces do): name one, set TRANSFER_WORKFLOW_SID, or send taskSid so the original task's workflow is used";

export interface TransferRequestContext {
  /** The caller's worker, when a Flex agent: a cold transfer can then find the participant to close. */
  callerWorkerSid?: string | undefined;
  /** Problems found outside the body's fields (e.g. the Idempotency-Key header), reported with them. */
  moreProblems?: readonly FieldProblem[];
}

/**
 * Checks every field of a transfer request at once, and what can be known
 * about it without Twilio. Throws InvalidRequestError (400) listing all
 * problems, PayloadTooLargeError (413) when oversized attributes are the only
 * problem, ForbiddenError (403) for a workflow outside TRANSFER_ALLOWED_WORKFLOW_SIDS.
 */
export function parseTransferRequest(
  params: Readonly<Record<string, unknown>>,
  targetType: TargetType,
  settings: Settings,
  context: TransferRequestContext = {},
): TransferRequest {
  const read = new FieldReader(params);
  const interactionSid = read.sid('interactionSid', 'interaction', { required: true });
  const channelSid = read.sid('channelSid', 'channel', { required: true });
  const workerSid = targetType === 'worker' ? read.sid('workerSid', 'worker', { required: true }) : undefined;
  const queueSid = read.sid('queueSid', 'queue', { required: targetType === 'queue' });
  const workflowSid = read.sid('workflowSid', 'workflow', { required: false });
  const taskChannel = read.taskChannel('taskChannel');
  const attributes = read.attributes('attributes');
  const priority = read.integer('priority', { min: 0, max: MAX_PRIORITY, unit: 'priority points' });
  const timeout = read.integer('timeout', { min: 1, max: MAX_TIMEOUT_SECONDS, unit: 'seconds' });
  const transferType = read.oneOf('transferType', ['warm', 'cold'] as const, 'warm');
  const participantSid = read.sid('participantSid', 'participant', { required: false });
  const participantStatus = read.oneOf('participantStatus', ['closed', 'wrapup'] as const, 'closed');
  const taskSid = read.sid('taskSid', 'task', { required: false });
  read.problems.push(...(context.moreProblems ?? []));
  // With a task, its queue and its participants are read from Twilio first; without one, what is missing is known now.
  const direct = targetType === 'worker' && settings.agentRouting === 'direct';
  if (direct && queueSid === undefined && settings.agentQueueSid === undefined && taskSid === undefined) {
    read.problems.push({ field: 'queueSid', message: QUEUE_REQUIRED_MESSAGE });
  }
  if (workflowSid === undefined && settings.defaultWorkflowSid === undefined && taskSid === undefined) {
    read.problems.push({ field: 'workflowSid', message: WORKFLOW_REQUIRED_MESSAGE });
  }
  if (transferType === 'cold' && participantSid === undefined && taskSid === undefined && context.callerWorkerSid === undefined) {
    read.problems.push({
      field: 'participantSid',
      message: 'is required for a cold transfer unless taskSid is given or the caller is a Flex agent signed in with a worker',
    });
  }

  if (read.problems.length > 0) throw new InvalidRequestError([...read.problems, ...read.tooLarge]);
  if (read.tooLarge.length > 0) throw new PayloadTooLargeError(read.tooLarge);
  if (workflowSid !== undefined && settings.allowedWorkflowSids !== undefined && !settings.allowedWorkflowSids.has(workflowSid)) {
    throw new ForbiddenError('workflowSid is not one of the workflows this service allows (TRANSFER_ALLOWED_WORKFLOW_SIDS).');
  }

  return {
    interactionSid: interactionSid as string,
    channelSid: channelSid as string,
    targetType,
    targetSid: (targetType === 'worker' ? workerSid : queueSid) as string,
    queueSid: targetType === 'worker' ? queueSid : undefined,
    workflowSid,
    taskChannel,
    attributes,
    priority,
    timeout,
    transferType,
    participantSid,
    participantStatus,
    taskSid,
  };
}
