/**
 * TaskRouter: the tasks of each workspace, with the versions Twilio exposes as
 * ETag / If-Match, and the friendly names of the queues and workflows they name.
 */
import { errorAnswer, jsonAnswer, notFound, preconditionHolds, twilioDate } from './answers';
import type { RoutedRequest } from './routes';
import { isSid, newSid } from './sids';
import type { Clock, StandinResponse, TaskAssignmentStatus } from './types';

export interface TaskSeed {
  workspaceSid: string;
  sid?: string;
  attributes?: object;
  taskChannelUniqueName?: string;
  workflowSid?: string;
  taskQueueSid?: string;
  assignmentStatus?: TaskAssignmentStatus;
  priority?: number;
  timeout?: number;
}

/** A task as TaskRouter's REST API returns it. */
export interface TaskResource {
  sid: string;
  account_sid: string;
  workspace_sid: string;
  workflow_sid: string | null;
  workflow_friendly_name: string | null;
  task_queue_sid: string | null;
  task_queue_friendly_name: string | null;
  task_channel_sid: string;
  task_channel_unique_name: string;
  assignment_status: TaskAssignmentStatus;
  /** A JSON string, as TaskRouter returns it. */
  attributes: string;
  priority: number;
  timeout: number;
  /** Seconds since the task was created. */
  age: number;
  reason: string | null;
  date_created: string;
  date_updated: string;
  url: string;
  links: { reservations: string };
}

/** A named TaskRouter resource the stand-in does not serve but tasks refer to (worker, queue, workflow). */
export interface NamedResourceSeed {
  workspaceSid: string;
  sid?: string;
  friendlyName: string;
}

interface StoredTask {
  sid: string;
  workspaceSid: string;
  workflowSid: string | null;
  taskQueueSid: string | null;
  taskChannelUniqueName: string;
  assignmentStatus: TaskAssignmentStatus;
  attributes: string;
  priority: number;
  timeout: number;
  reason: string | null;
  createdAt: number;
  updatedAt: number;
  /** Sent as the ETag; bumped by every change. */
  version: number;
}

const ASSIGNMENT_STATUSES: readonly TaskAssignmentStatus[] = ['pending', 'reserved', 'assigned', 'wrapping', 'completed', 'canceled'];
const MAX_PRIORITY = 2 ** 31 - 1;
const DEFAULT_TASK_TIMEOUT_SECONDS = 86_400;

/** The states a task may be moved to through the REST API, and from which states. */
const ALLOWED_FROM: Partial<Record<TaskAssignmentStatus, readonly TaskAssignmentStatus[]>> = {
  canceled: ['pending', 'reserved'],
  wrapping: ['assigned'],
  completed: ['assigned', 'wrapping'],
};

export class TaskRouterStore {
  private readonly tasks = new Map<string, StoredTask>();
  /** Workers, queues and workflows by SID. */
  private readonly namedResources = new Map<string, Required<NamedResourceSeed>>();
  private readonly channelSids = new Map<string, string>();

  constructor(
    private readonly accountSid: string,
    private readonly now: Clock,
  ) {}

  clear(): void {
    this.tasks.clear();
    this.namedResources.clear();
    this.channelSids.clear();
  }

  addTask(seed: TaskSeed): string {
    const sid = seed.sid ?? newSid('WT');
    const at = this.now();
    this.tasks.set(sid, {
      sid,
      workspaceSid: seed.workspaceSid,
      workflowSid: seed.workflowSid ?? null,
      taskQueueSid: seed.taskQueueSid ?? null,
      taskChannelUniqueName: seed.taskChannelUniqueName ?? 'default',
      assignmentStatus: seed.assignmentStatus ?? 'pending',
      attributes: JSON.stringify(seed.attributes ?? {}),
      priority: seed.priority ?? 0,
      timeout: seed.timeout ?? DEFAULT_TASK_TIMEOUT_SECONDS,
      reason: null,
      createdAt: at,
      updatedAt: at,
      version: 0,
    });
    return sid;
  }

  /** The task as TaskRouter would return it now, or undefined when unknown. */
  task(sid: string): TaskResource | undefined {
    const stored = this.tasks.get(sid);
    return stored && this.resource(stored);
  }

  /** The ETag TaskRouter would send with the task now. */
  etag(sid: string): string | undefined {
    const stored = this.tasks.get(sid);
    return stored && String(stored.version);
  }

  /** What happens outside the API (an agent accepts, a reservation times out): a new status and a new version. */
  setTaskStatus(sid: string, status: TaskAssignmentStatus, reason?: string): void {
    const stored = this.tasks.get(sid);
    if (!stored) throw new Error(`No task ${sid} in the stand-in`);
    stored.assignmentStatus = status;
    if (reason !== undefined) stored.reason = reason;
    this.touch(stored);
  }

  /** Registers a worker (WK…), queue (WQ…) or workflow (WW…) so tasks that name it carry its friendly name. */
  addNamedResource(prefix: 'WK' | 'WQ' | 'WW', seed: NamedResourceSeed): string {
    const sid = seed.sid ?? newSid(prefix);
    this.namedResources.set(sid, { ...seed, sid });
    return sid;
  }

  /** The friendly name of a registered worker, queue or workflow. */
  friendlyName(sid: string): string | undefined {
    return this.namedResources.get(sid)?.friendlyName;
  }

  fetch(request: RoutedRequest): StandinResponse {
    const stored = this.find(request.params);
    if (!stored) return notFound();
    return this.answerWith(200, stored);
  }

  update(request: RoutedRequest): StandinResponse {
    const stored = this.find(request.params);
    if (!stored) return notFound();
    const { AssignmentStatus: status, Reason: reason, Attributes: attributes, Priority: priority } = request.form;

    if (status !== undefined && !ASSIGNMENT_STATUSES.includes(status as TaskAssignmentStatus)) {
      return errorAnswer(400, 20001, `Invalid AssignmentStatus: ${status}`);
    }
    if (status === 'canceled' && !reason)
      return errorAnswer(400, 20001, 'Missing required parameter Reason: a task is canceled with a Reason');
    if (attributes !== undefined && !isJsonObject(attributes)) return errorAnswer(400, 20001, 'Attributes must be a JSON object');
    if (attributes !== undefined && (status === 'wrapping' || status === 'completed')) {
      return errorAnswer(400, 20001, 'Attributes cannot be updated together with a move to wrapping or completed');
    }
    const newPriority = priority === undefined ? undefined : Number(priority);
    if (newPriority !== undefined && !(Number.isInteger(newPriority) && newPriority >= 0 && newPriority <= MAX_PRIORITY)) {
      return errorAnswer(400, 20001, `Invalid Priority: ${priority}`);
    }
    // TaskRouter's precondition failure; Twilio documents the 412 status but no dedicated error code.
    if (!preconditionHolds(request.headers['if-match'], String(stored.version))) {
      return errorAnswer(412, 20001, 'Task version mismatch: the If-Match header does not match the ETag of the task');
    }
    if (status !== undefined) {
      const refusal = transitionRefusal(stored.assignmentStatus, status as TaskAssignmentStatus);
      if (refusal) return errorAnswer(400, 20001, refusal);
      stored.assignmentStatus = status as TaskAssignmentStatus;
    }
    if (reason !== undefined) stored.reason = reason;
    if (attributes !== undefined) stored.attributes = attributes;
    if (newPriority !== undefined) stored.priority = newPriority;
    this.touch(stored);
    return this.answerWith(200, stored);
  }

  private find(params: Record<string, string>): StoredTask | undefined {
    const { workspaceSid, taskSid } = params;
    if (!isSid('WS', workspaceSid) || !isSid('WT', taskSid)) return undefined;
    const stored = this.tasks.get(taskSid);
    return stored?.workspaceSid === workspaceSid ? stored : undefined;
  }

  private touch(stored: StoredTask): void {
    stored.version += 1;
    stored.updatedAt = this.now();
  }

  private answerWith(status: number, stored: StoredTask): StandinResponse {
    return jsonAnswer(status, this.resource(stored), { etag: String(stored.version) });
  }

  private channelSid(uniqueName: string): string {
    let sid = this.channelSids.get(uniqueName);
    if (!sid) {
      sid = newSid('TC');
      this.channelSids.set(uniqueName, sid);
    }
    return sid;
  }

  private resource(stored: StoredTask): TaskResource {
    const url = `https://taskrouter.twilio.com/v1/Workspaces/${stored.workspaceSid}/Tasks/${stored.sid}`;
    const nameOf = (sid: string | null) => {
      const named = sid === null ? undefined : this.namedResources.get(sid);
      return named?.workspaceSid === stored.workspaceSid ? named.friendlyName : null;
    };
    return {
      sid: stored.sid,
      account_sid: this.accountSid,
      workspace_sid: stored.workspaceSid,
      workflow_sid: stored.workflowSid,
      workflow_friendly_name: nameOf(stored.workflowSid),
      task_queue_sid: stored.taskQueueSid,
      task_queue_friendly_name: nameOf(stored.taskQueueSid),
      task_channel_sid: this.channelSid(stored.taskChannelUniqueName),
      task_channel_unique_name: stored.taskChannelUniqueName,
      assignment_status: stored.assignmentStatus,
      attributes: stored.attributes,
      priority: stored.priority,
      timeout: stored.timeout,
      age: Math.max(0, Math.floor((this.now() - stored.createdAt) / 1000)),
      reason: stored.reason,
      date_created: twilioDate(stored.createdAt),
      date_updated: twilioDate(stored.updatedAt),
      url,
      links: { reservations: `${url}/Reservations` },
    };
  }
}

function transitionRefusal(from: TaskAssignmentStatus, to: TaskAssignmentStatus): string | undefined {
  const allowedFrom = ALLOWED_FROM[to];
  if (!allowedFrom) return `Cannot move a task to ${to} through the API`;
  if (allowedFrom.includes(from)) return undefined;
  if (to === 'canceled') return `Cannot cancel task because it is not pending or reserved (it is ${from})`;
  return `Cannot move task to ${to} because it is ${from}`;
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
