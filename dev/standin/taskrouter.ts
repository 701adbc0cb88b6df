/**
 * TaskRouter: workspaces (with their event callback), workflows (with their
 * configuration), workers and queues, and the tasks of each workspace with
 * their reservations. A task moves as TaskRouter moves it (pending ->
 * reserved -> assigned -> wrapping -> completed, or canceled), with the
 * versions Twilio exposes as ETag / If-Match, and every move is published as
 * the TaskRouter event a workspace's EventCallbackUrl would receive.
 */
import { errorAnswer, jsonAnswer, notFound, preconditionHolds, twilioDate } from './answers';
import type { TaskRouterEvent } from './events';
import type { RoutedRequest } from './routes';
import { isSid, newSid } from './sids';
import type { Clock, ReservationStatus, StandinResponse, TaskAssignmentStatus } from './types';

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

/** A worker or queue of a workspace (the default workspace when `workspaceSid` is left out). */
export interface NamedResourceSeed {
  workspaceSid?: string;
  sid?: string;
  friendlyName?: string;
}

export interface WorkspaceSeed {
  sid?: string;
  friendlyName?: string;
  eventCallbackUrl?: string;
  /** Comma-separated event types, or a list of them. */
  eventsFilter?: string | readonly string[];
}

export interface WorkflowSeed {
  workspaceSid?: string;
  sid?: string;
  friendlyName?: string;
  /** The workflow configuration document (TaskRouter's `task_routing`), stored and answered as a JSON string. */
  configuration?: object;
  taskReservationTimeout?: number;
}

/** A workspace as the stand-in holds it. */
export interface WorkspaceState {
  sid: string;
  friendlyName: string;
  /** '' when unset (TaskRouter's own example answers an empty string). */
  eventCallbackUrl: string;
  eventsFilter: string | null;
}

/** A workspace as TaskRouter's REST API returns it. */
export interface WorkspaceResource {
  sid: string;
  account_sid: string;
  friendly_name: string;
  event_callback_url: string;
  events_filter: string | null;
  default_activity_name: string;
  default_activity_sid: string;
  timeout_activity_name: string;
  timeout_activity_sid: string;
  multi_task_enabled: boolean;
  prioritize_queue_order: string;
  date_created: string;
  date_updated: string;
  url: string;
  links: Record<string, string>;
}

export interface WorkflowResource {
  sid: string;
  account_sid: string;
  workspace_sid: string;
  friendly_name: string;
  /** A JSON string. */
  configuration: string;
  assignment_callback_url: string | null;
  fallback_assignment_callback_url: string | null;
  document_content_type: string;
  task_reservation_timeout: number;
  date_created: string;
  date_updated: string;
  url: string;
  links: Record<string, string>;
}

/** A reservation, as the stand-in reports it to tests. */
export interface ReservationState {
  sid: string;
  taskSid: string;
  workerSid: string;
  workspaceSid: string;
  status: ReservationStatus;
}

/** How an invite's task is routed: to the invite's `worker_sid` (direct), or by its workflow. */
export type TaskRouting = 'direct' | 'workflow';

/** What an invite asks TaskRouter to create. */
export interface InviteTask {
  workspaceSid: string;
  attributes: Record<string, unknown>;
  taskChannelUniqueName?: string;
  workflowSid?: string;
  taskQueueSid?: string;
  workerSid?: string;
  priority?: number;
  timeout?: number;
  channel: { interactionSid: string; channelSid: string };
}

interface StoredWorkspace extends WorkspaceState {
  createdAt: number;
  updatedAt: number;
  activitySid: string;
}

interface StoredWorkflow {
  sid: string;
  workspaceSid: string;
  friendlyName: string;
  configuration: string;
  taskReservationTimeout: number;
  createdAt: number;
  updatedAt: number;
}

interface StoredNamed {
  sid: string;
  workspaceSid: string;
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
  routing: TaskRouting;
  /** The worker a direct invite named. */
  directWorkerSid: string | null;
  /** The interaction channel whose invite created the task. */
  channel: { interactionSid: string; channelSid: string } | null;
  /** Oldest first. */
  reservationSids: string[];
  /** Workers whose reservation of this task was rejected. */
  rejectedBy: string[];
}

interface StoredReservation extends ReservationState {
  createdAt: number;
  updatedAt: number;
}

const ASSIGNMENT_STATUSES: readonly TaskAssignmentStatus[] = ['pending', 'reserved', 'assigned', 'wrapping', 'completed', 'canceled'];
const MAX_PRIORITY = 2 ** 31 - 1;
const DEFAULT_TASK_TIMEOUT_SECONDS = 86_400;
/** TaskRouter's default reservation timeout (seconds). */
const DEFAULT_RESERVATION_TIMEOUT_SECONDS = 120;
/** The name Flex gives the workspace it creates. */
const DEFAULT_WORKSPACE_NAME = 'Flex Task Assignment';

/** The states a task may be moved to through the REST API, and from which states. */
const ALLOWED_FROM: Partial<Record<TaskAssignmentStatus, readonly TaskAssignmentStatus[]>> = {
  canceled: ['pending', 'reserved'],
  wrapping: ['assigned'],
  completed: ['assigned', 'wrapping'],
};

/**
 * The reasons the stand-in gives where TaskRouter's documentation names none:
 * a direct invite declined (Twilio's Best Practices say only that the task "gets canceled"),
 * a workflow timed out, a task completed by hand.
 */
export const REASONS = {
  directInviteRejected: 'Reservation rejected by the invited worker',
  workflowTimeout: 'Workflow Timeout',
  completed: 'Task completed',
  participantClosed: 'Participant closed',
} as const;

export class TaskRouterStore {
  private readonly workspaces = new Map<string, StoredWorkspace>();
  private readonly workflows = new Map<string, StoredWorkflow>();
  private readonly workers = new Map<string, StoredNamed>();
  private readonly queues = new Map<string, StoredNamed>();
  private readonly tasks = new Map<string, StoredTask>();
  private readonly reservations = new Map<string, StoredReservation>();
  private readonly channelSids = new Map<string, string>();

  constructor(
    private readonly accountSid: string,
    private readonly now: Clock,
    private readonly publish: (event: TaskRouterEvent) => void,
  ) {}

  clear(): void {
    this.workspaces.clear();
    this.workflows.clear();
    this.workers.clear();
    this.queues.clear();
    this.tasks.clear();
    this.reservations.clear();
    this.channelSids.clear();
  }

  // ---------------------------------------------------------------------------
  // Seeds and read-backs
  // ---------------------------------------------------------------------------

  addWorkspace(seed: WorkspaceSeed = {}): string {
    const sid = seed.sid ?? newSid('WS');
    const at = this.now();
    const filter = seed.eventsFilter;
    this.workspaces.set(sid, {
      sid,
      friendlyName: seed.friendlyName ?? DEFAULT_WORKSPACE_NAME,
      eventCallbackUrl: seed.eventCallbackUrl ?? '',
      eventsFilter: (typeof filter === 'string' ? filter : filter?.join(',')) || null,
      createdAt: at,
      updatedAt: at,
      activitySid: newSid('WA'),
    });
    return sid;
  }

  /** The workspace, registering it with defaults when a seed names one not yet known. */
  private ensureWorkspace(sid: string | undefined): string {
    if (sid === undefined) return this.defaultWorkspaceSid();
    if (!this.workspaces.has(sid)) this.addWorkspace({ sid });
    return sid;
  }

  /** The first workspace registered (one is created when there is none). */
  defaultWorkspaceSid(): string {
    const [first] = this.workspaces.keys();
    return first ?? this.addWorkspace();
  }

  /** A change made outside the API (in the Console): name, callback, filter. Throws for an unknown workspace. */
  changeWorkspace(sid: string, changes: Omit<WorkspaceSeed, 'sid'>): void {
    const stored = this.workspaces.get(sid);
    if (!stored) throw new Error(`No workspace ${sid} in the stand-in`);
    if (changes.friendlyName !== undefined) stored.friendlyName = changes.friendlyName;
    if (changes.eventCallbackUrl !== undefined) stored.eventCallbackUrl = changes.eventCallbackUrl;
    const filter = changes.eventsFilter;
    if (filter !== undefined) stored.eventsFilter = typeof filter === 'string' ? filter || null : filter.join(',') || null;
    stored.updatedAt = this.now();
  }

  workspace(sid: string): WorkspaceState | undefined {
    const stored = this.workspaces.get(sid);
    return (
      stored && { sid, friendlyName: stored.friendlyName, eventCallbackUrl: stored.eventCallbackUrl, eventsFilter: stored.eventsFilter }
    );
  }

  addWorkflow(seed: WorkflowSeed): string {
    const workspaceSid = this.ensureWorkspace(seed.workspaceSid);
    const sid = seed.sid ?? newSid('WW');
    const at = this.now();
    this.workflows.set(sid, {
      sid,
      workspaceSid,
      friendlyName: seed.friendlyName ?? `Workflow ${sid.slice(-6)}`,
      configuration: JSON.stringify(seed.configuration ?? { task_routing: { filters: [] } }),
      taskReservationTimeout: seed.taskReservationTimeout ?? DEFAULT_RESERVATION_TIMEOUT_SECONDS,
      createdAt: at,
      updatedAt: at,
    });
    return sid;
  }

  addWorker(seed: NamedResourceSeed = {}): string {
    return this.addNamed(this.workers, 'WK', 'Worker', seed);
  }

  addQueue(seed: NamedResourceSeed = {}): string {
    return this.addNamed(this.queues, 'WQ', 'Queue', seed);
  }

  private addNamed(into: Map<string, StoredNamed>, prefix: string, kind: string, seed: NamedResourceSeed): string {
    const workspaceSid = this.ensureWorkspace(seed.workspaceSid);
    const sid = seed.sid ?? newSid(prefix);
    into.set(sid, { sid, workspaceSid, friendlyName: seed.friendlyName ?? `${kind} ${sid.slice(-6)}` });
    return sid;
  }

  /**
   * Seeds a task (no events). What it names exists, as it would in Twilio: the workspace, and the queue and workflow
   * (registered when unknown, the workflow with an empty configuration).
   */
  addTask(seed: TaskSeed): string {
    const workspaceSid = this.ensureWorkspace(seed.workspaceSid);
    this.ensureNamed({ workspaceSid, workflowSid: seed.workflowSid, taskQueueSid: seed.taskQueueSid });
    return this.storeTask({
      workspaceSid,
      sid: seed.sid,
      attributes: JSON.stringify(seed.attributes ?? {}),
      taskChannelUniqueName: seed.taskChannelUniqueName,
      workflowSid: seed.workflowSid,
      taskQueueSid: seed.taskQueueSid,
      assignmentStatus: seed.assignmentStatus,
      priority: seed.priority,
      timeout: seed.timeout,
      routing: 'workflow',
      directWorkerSid: null,
      channel: null,
    });
  }

  /** Registers the workflow, queue and worker a seed names, when they are not known yet. */
  ensureNamed(names: { workspaceSid: string; workflowSid?: string; taskQueueSid?: string; workerSid?: string }): void {
    const { workspaceSid, workflowSid, taskQueueSid, workerSid } = names;
    this.ensureWorkspace(workspaceSid);
    if (workflowSid !== undefined && !this.workflows.has(workflowSid)) this.addWorkflow({ workspaceSid, sid: workflowSid });
    if (taskQueueSid !== undefined && !this.queues.has(taskQueueSid)) this.addQueue({ workspaceSid, sid: taskQueueSid });
    if (workerSid !== undefined && !this.workers.has(workerSid)) this.addWorker({ workspaceSid, sid: workerSid });
  }

  private storeTask(fields: {
    workspaceSid: string;
    sid?: string;
    attributes: string;
    taskChannelUniqueName?: string;
    workflowSid?: string;
    taskQueueSid?: string;
    assignmentStatus?: TaskAssignmentStatus;
    priority?: number;
    timeout?: number;
    routing: TaskRouting;
    directWorkerSid: string | null;
    channel: StoredTask['channel'];
  }): string {
    const sid = fields.sid ?? newSid('WT');
    const at = this.now();
    this.tasks.set(sid, {
      sid,
      workspaceSid: fields.workspaceSid,
      workflowSid: fields.workflowSid ?? null,
      taskQueueSid: fields.taskQueueSid ?? null,
      taskChannelUniqueName: fields.taskChannelUniqueName ?? 'default',
      assignmentStatus: fields.assignmentStatus ?? 'pending',
      attributes: fields.attributes,
      priority: fields.priority ?? 0,
      timeout: fields.timeout ?? DEFAULT_TASK_TIMEOUT_SECONDS,
      reason: null,
      createdAt: at,
      updatedAt: at,
      version: 0,
      routing: fields.routing,
      directWorkerSid: fields.directWorkerSid,
      channel: fields.channel,
      reservationSids: [],
      rejectedBy: [],
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

  /** How the task is routed, and the channel whose invite created it. */
  taskRouting(sid: string): { routing: TaskRouting; directWorkerSid: string | null; channel: StoredTask['channel'] } | undefined {
    const stored = this.tasks.get(sid);
    return stored && { routing: stored.routing, directWorkerSid: stored.directWorkerSid, channel: stored.channel };
  }

  reservation(sid: string): ReservationState | undefined {
    const stored = this.reservations.get(sid);
    return (
      stored && { sid, taskSid: stored.taskSid, workerSid: stored.workerSid, workspaceSid: stored.workspaceSid, status: stored.status }
    );
  }

  /** The task's reservations, oldest first. */
  reservationsOf(taskSid: string): ReservationState[] {
    return (this.tasks.get(taskSid)?.reservationSids ?? []).flatMap((sid) => this.reservation(sid) ?? []);
  }

  /** What happens outside the API, without events (old tests): a new status and a new version. */
  setTaskStatus(sid: string, status: TaskAssignmentStatus, reason?: string): void {
    const stored = this.requireTask(sid);
    stored.assignmentStatus = status;
    if (reason !== undefined) stored.reason = reason;
    this.touch(stored);
  }

  /** The friendly name of a registered worker, queue or workflow. */
  friendlyName(sid: string): string | undefined {
    return (this.workers.get(sid) ?? this.queues.get(sid) ?? this.workflows.get(sid))?.friendlyName;
  }

  /** The workspace's event callback, when one is set. */
  callbackOf(workspaceSid: string): { url: string; eventsFilter: string | null } | undefined {
    const workspace = this.workspaces.get(workspaceSid);
    return workspace && workspace.eventCallbackUrl !== ''
      ? { url: workspace.eventCallbackUrl, eventsFilter: workspace.eventsFilter }
      : undefined;
  }

  // ---------------------------------------------------------------------------
  // Invites
  // ---------------------------------------------------------------------------

  /** Why TaskRouter would refuse to create the invite's task (an unknown workspace, workflow, queue or worker), if it would. */
  routingRefusal(properties: {
    workspaceSid: string;
    workflowSid?: string;
    taskQueueSid?: string;
    workerSid?: string;
  }): string | undefined {
    const { workspaceSid, workflowSid, taskQueueSid, workerSid } = properties;
    if (!this.workspaces.has(workspaceSid)) return `Invalid Routing: workspace ${workspaceSid} was not found`;
    const inWorkspace = (resource: { workspaceSid: string } | undefined) => resource?.workspaceSid === workspaceSid;
    if (workflowSid !== undefined && !inWorkspace(this.workflows.get(workflowSid))) {
      return `Invalid Routing: workflow ${workflowSid} was not found in workspace ${workspaceSid}`;
    }
    if (taskQueueSid !== undefined && !inWorkspace(this.queues.get(taskQueueSid))) {
      return `Invalid Routing: queue ${taskQueueSid} was not found in workspace ${workspaceSid}`;
    }
    if (workerSid !== undefined && !inWorkspace(this.workers.get(workerSid))) {
      return `Invalid Routing: worker ${workerSid} was not found in workspace ${workspaceSid}`;
    }
    return undefined;
  }

  /**
   * The task an invite creates (pending), with its `task.created` event (and `workflow.entered` for a workflow-routed
   * one); a seeded invite's task publishes nothing.
   */
  createInviteTask(invite: InviteTask, options: { publish: boolean }): string {
    const sid = this.storeTask({
      workspaceSid: invite.workspaceSid,
      attributes: JSON.stringify(invite.attributes),
      taskChannelUniqueName: invite.taskChannelUniqueName,
      workflowSid: invite.workflowSid,
      taskQueueSid: invite.taskQueueSid,
      priority: invite.priority,
      timeout: invite.timeout,
      routing: invite.workerSid === undefined ? 'workflow' : 'direct',
      directWorkerSid: invite.workerSid ?? null,
      channel: invite.channel,
    });
    const task = this.requireTask(sid);
    if (!options.publish) return sid;
    this.publishTaskEvent('task.created', task, `Task ${sid} created`);
    if (task.routing === 'workflow' && task.workflowSid !== null) {
      this.publish(this.workflowEvent('workflow.entered', task, `Task ${sid} entered workflow ${task.workflowSid}`));
    }
    return sid;
  }

  // ---------------------------------------------------------------------------
  // The lifecycle (driven by tests, the sandbox's auto-accept, the Flex side and the REST API)
  // ---------------------------------------------------------------------------

  /** Offers a pending task to a worker of its workspace: task `reserved`, a `pending` reservation, `reservation.created`. */
  reserve(taskSid: string, workerSid: string): string {
    const task = this.requireTask(taskSid);
    if (task.assignmentStatus !== 'pending')
      throw new Error(`Task ${taskSid} is ${task.assignmentStatus}: only a pending task can be reserved`);
    const worker = this.workers.get(workerSid);
    if (worker?.workspaceSid !== task.workspaceSid) throw new Error(`No worker ${workerSid} in workspace ${task.workspaceSid}`);
    const at = this.now();
    const reservation: StoredReservation = {
      sid: newSid('WR'),
      taskSid,
      workerSid,
      workspaceSid: task.workspaceSid,
      status: 'pending',
      createdAt: at,
      updatedAt: at,
    };
    this.reservations.set(reservation.sid, reservation);
    task.reservationSids.push(reservation.sid);
    task.assignmentStatus = 'reserved';
    this.touch(task);
    this.publishReservationEvent('reservation.created', task, reservation);
    return reservation.sid;
  }

  /**
   * The worker accepts: task `assigned`, reservation `accepted`, `reservation.accepted`. Returns the task's channel,
   * if an invite made it.
   */
  acceptReservation(reservationSid: string): { taskSid: string; workerSid: string; workspaceSid: string; channel: StoredTask['channel'] } {
    const { reservation, task } = this.pendingReservation(reservationSid);
    this.moveReservation(reservation, 'accepted');
    task.assignmentStatus = 'assigned';
    this.touch(task);
    this.publishReservationEvent('reservation.accepted', task, reservation);
    return { taskSid: task.sid, workerSid: reservation.workerSid, workspaceSid: task.workspaceSid, channel: task.channel };
  }

  /**
   * The worker declines: `reservation.rejected`. A workflow-routed task goes back to `pending` for the workflow's next
   * step; a direct (`worker_sid`) invite's task is canceled, as Twilio's Best Practices say ("the created task gets
   * canceled but the conversation remains active without an agent").
   */
  rejectReservation(reservationSid: string): void {
    const { reservation, task } = this.pendingReservation(reservationSid);
    this.moveReservation(reservation, 'rejected');
    task.rejectedBy.push(reservation.workerSid);
    task.assignmentStatus = 'pending';
    this.touch(task);
    this.publishReservationEvent('reservation.rejected', task, reservation);
    if (task.routing === 'direct') this.cancel(task, REASONS.directInviteRejected);
  }

  /** The workflow's last target times out: a pending reservation is canceled, then `workflow.timeout` and `task.canceled`. */
  timeOutTask(taskSid: string): void {
    const task = this.requireTask(taskSid);
    if (task.assignmentStatus !== 'pending' && task.assignmentStatus !== 'reserved') {
      throw new Error(`Task ${taskSid} is ${task.assignmentStatus}: only a pending or reserved task can time out`);
    }
    this.cancelPendingReservations(task);
    if (task.workflowSid !== null) this.publish(this.workflowEvent('workflow.timeout', task, `Task ${taskSid} timed out of its workflow`));
    this.cancel(task, REASONS.workflowTimeout);
  }

  /** The agent completes an assigned (or wrapping) task: `task.completed`, then `reservation.completed`. */
  completeTask(taskSid: string, reason: string = REASONS.completed): void {
    const task = this.requireTask(taskSid);
    const refusal = transitionRefusal(task.assignmentStatus, 'completed');
    if (refusal) throw new Error(`Task ${taskSid}: ${refusal}`);
    this.complete(task, reason);
  }

  /** What a Flex participant's status update does to the participant's task: wrapup -> wrapping, closed -> completed. */
  participantLeft(taskSid: string, status: 'wrapup' | 'closed'): void {
    const task = this.tasks.get(taskSid);
    if (!task) return;
    if (status === 'wrapup' && task.assignmentStatus === 'assigned') {
      task.assignmentStatus = 'wrapping';
      this.touch(task);
      this.publishTaskEvent('task.wrapup', task, `Task ${taskSid} wrapping up`);
    }
    if (status === 'closed' && (task.assignmentStatus === 'assigned' || task.assignmentStatus === 'wrapping')) {
      this.complete(task, REASONS.participantClosed);
    }
  }

  /**
   * The worker a router would offer a pending task to now (the sandbox's simulated agent): the known agent its
   * workflow targets (`known_worker_sid: "task.<attribute>"`) when that worker exists, else a direct invite's worker,
   * else any worker of the workspace not in the task's `workerSidsInConversation` (nor the transferring one). A worker
   * who rejected the task is not offered it again.
   */
  routeTarget(taskSid: string): string | undefined {
    const task = this.tasks.get(taskSid);
    if (!task || task.assignmentStatus !== 'pending') return undefined;
    const attributes = parseObject(task.attributes);
    const eligible = (workerSid: unknown): workerSid is string =>
      typeof workerSid === 'string' &&
      this.workers.get(workerSid)?.workspaceSid === task.workspaceSid &&
      !task.rejectedBy.includes(workerSid);
    const workflow = task.workflowSid === null ? undefined : this.workflows.get(task.workflowSid);
    if (task.routing === 'workflow' && workflow) {
      for (const expression of knownWorkerExpressions(parseObject(workflow.configuration))) {
        const known = attributes[expression];
        if (eligible(known)) return known;
      }
    }
    if (task.routing === 'direct') return eligible(task.directWorkerSid) ? task.directWorkerSid : undefined;
    const inConversation = Array.isArray(attributes.workerSidsInConversation) ? attributes.workerSidsInConversation : [];
    const excluded = new Set<unknown>([...inConversation, attributes.transferredByWorkerSid]);
    return [...this.workers.values()].map((worker) => worker.sid).find((sid) => eligible(sid) && !excluded.has(sid));
  }

  private pendingReservation(reservationSid: string): { reservation: StoredReservation; task: StoredTask } {
    const reservation = this.reservations.get(reservationSid);
    if (!reservation) throw new Error(`No reservation ${reservationSid} in the stand-in`);
    if (reservation.status !== 'pending') throw new Error(`Reservation ${reservationSid} is ${reservation.status}, not pending`);
    return { reservation, task: this.requireTask(reservation.taskSid) };
  }

  private moveReservation(reservation: StoredReservation, status: ReservationStatus): void {
    reservation.status = status;
    reservation.updatedAt = this.now();
  }

  private cancelPendingReservations(task: StoredTask): void {
    for (const sid of task.reservationSids) {
      const reservation = this.reservations.get(sid);
      if (reservation?.status !== 'pending') continue;
      this.moveReservation(reservation, 'canceled');
      this.publishReservationEvent('reservation.canceled', task, reservation);
    }
  }

  private cancel(task: StoredTask, reason: string): void {
    task.assignmentStatus = 'canceled';
    task.reason = reason;
    this.touch(task);
    this.publishTaskEvent('task.canceled', task, `Task ${task.sid} canceled: ${reason}`);
  }

  private complete(task: StoredTask, reason: string): void {
    task.assignmentStatus = 'completed';
    task.reason = reason;
    this.touch(task);
    this.publishTaskEvent('task.completed', task, `Task ${task.sid} completed: ${reason}`);
    for (const sid of task.reservationSids) {
      const reservation = this.reservations.get(sid);
      if (reservation?.status !== 'accepted') continue;
      this.moveReservation(reservation, 'completed');
      this.publishReservationEvent('reservation.completed', task, reservation);
    }
  }

  // ---------------------------------------------------------------------------
  // REST
  // ---------------------------------------------------------------------------

  fetchTask(request: RoutedRequest): StandinResponse {
    const stored = this.findTask(request.params);
    if (!stored) return notFound();
    return this.answerWith(200, stored);
  }

  updateTask(request: RoutedRequest): StandinResponse {
    const stored = this.findTask(request.params);
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
    }
    if (attributes !== undefined) stored.attributes = attributes;
    if (newPriority !== undefined) stored.priority = newPriority;
    if (status === 'canceled') {
      this.cancelPendingReservations(stored);
      this.cancel(stored, reason as string);
    } else if (status === 'completed') {
      this.complete(stored, reason ?? REASONS.completed);
    } else {
      if (status === 'wrapping') stored.assignmentStatus = 'wrapping';
      if (reason !== undefined) stored.reason = reason;
      this.touch(stored);
      if (status === 'wrapping') this.publishTaskEvent('task.wrapup', stored, `Task ${stored.sid} wrapping up`);
      else this.publishTaskEvent('task.updated', stored, `Task ${stored.sid} updated`);
    }
    return this.answerWith(200, stored);
  }

  fetchWorkspace(request: RoutedRequest): StandinResponse {
    const stored = this.workspaces.get(request.params.workspaceSid ?? '');
    return stored ? jsonAnswer(200, this.workspaceResource(stored)) : notFound();
  }

  updateWorkspace(request: RoutedRequest): StandinResponse {
    const stored = this.workspaces.get(request.params.workspaceSid ?? '');
    if (!stored) return notFound();
    const { FriendlyName: friendlyName, EventCallbackUrl: callbackUrl, EventsFilter: eventsFilter } = request.form;
    if (callbackUrl !== undefined && callbackUrl !== '' && !isHttpUrl(callbackUrl)) {
      return errorAnswer(400, 20001, `Invalid EventCallbackUrl: ${callbackUrl}`);
    }
    if (friendlyName !== undefined && friendlyName.trim() === '') return errorAnswer(400, 20001, 'FriendlyName must not be empty');
    if (friendlyName !== undefined) stored.friendlyName = friendlyName;
    if (callbackUrl !== undefined) stored.eventCallbackUrl = callbackUrl;
    if (eventsFilter !== undefined) stored.eventsFilter = eventsFilter === '' ? null : eventsFilter;
    stored.updatedAt = this.now();
    return jsonAnswer(200, this.workspaceResource(stored));
  }

  fetchWorkflow(request: RoutedRequest): StandinResponse {
    const { workspaceSid, workflowSid } = request.params;
    const stored = this.workflows.get(workflowSid ?? '');
    if (!stored || stored.workspaceSid !== workspaceSid || !this.workspaces.has(workspaceSid)) return notFound();
    return jsonAnswer(200, this.workflowResource(stored));
  }

  private findTask(params: Record<string, string>): StoredTask | undefined {
    const { workspaceSid, taskSid } = params;
    if (!isSid('WS', workspaceSid) || !isSid('WT', taskSid)) return undefined;
    const stored = this.tasks.get(taskSid);
    return stored?.workspaceSid === workspaceSid ? stored : undefined;
  }

  private requireTask(sid: string): StoredTask {
    const stored = this.tasks.get(sid);
    if (!stored) throw new Error(`No task ${sid} in the stand-in`);
    return stored;
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

  private nameIn(workspaceSid: string, sid: string | null): string | null {
    if (sid === null) return null;
    const named = this.workers.get(sid) ?? this.queues.get(sid) ?? this.workflows.get(sid);
    return named?.workspaceSid === workspaceSid ? named.friendlyName : null;
  }

  private resource(stored: StoredTask): TaskResource {
    const url = `https://taskrouter.twilio.com/v1/Workspaces/${stored.workspaceSid}/Tasks/${stored.sid}`;
    return {
      sid: stored.sid,
      account_sid: this.accountSid,
      workspace_sid: stored.workspaceSid,
      workflow_sid: stored.workflowSid,
      workflow_friendly_name: this.nameIn(stored.workspaceSid, stored.workflowSid),
      task_queue_sid: stored.taskQueueSid,
      task_queue_friendly_name: this.nameIn(stored.workspaceSid, stored.taskQueueSid),
      task_channel_sid: this.channelSid(stored.taskChannelUniqueName),
      task_channel_unique_name: stored.taskChannelUniqueName,
      assignment_status: stored.assignmentStatus,
      attributes: stored.attributes,
      priority: stored.priority,
      timeout: stored.timeout,
      age: this.ageOf(stored),
      reason: stored.reason,
      date_created: twilioDate(stored.createdAt),
      date_updated: twilioDate(stored.updatedAt),
      url,
      links: { reservations: `${url}/Reservations` },
    };
  }

  private ageOf(stored: StoredTask): number {
    return Math.max(0, Math.floor((this.now() - stored.createdAt) / 1000));
  }

  private workspaceResource(stored: StoredWorkspace): WorkspaceResource {
    const url = `https://taskrouter.twilio.com/v1/Workspaces/${stored.sid}`;
    const links = [
      'activities',
      'statistics',
      'real_time_statistics',
      'cumulative_statistics',
      'task_queues',
      'tasks',
      'workers',
      'workflows',
    ];
    const pathOf: Record<string, string> = {
      activities: 'Activities',
      statistics: 'Statistics',
      real_time_statistics: 'RealTimeStatistics',
      cumulative_statistics: 'CumulativeStatistics',
      task_queues: 'TaskQueues',
      tasks: 'Tasks',
      workers: 'Workers',
      workflows: 'Workflows',
    };
    return {
      sid: stored.sid,
      account_sid: this.accountSid,
      friendly_name: stored.friendlyName,
      event_callback_url: stored.eventCallbackUrl,
      events_filter: stored.eventsFilter,
      default_activity_name: 'Offline',
      default_activity_sid: stored.activitySid,
      timeout_activity_name: 'Offline',
      timeout_activity_sid: stored.activitySid,
      // Flex workspaces are multitasking.
      multi_task_enabled: true,
      prioritize_queue_order: 'FIFO',
      date_created: twilioDate(stored.createdAt),
      date_updated: twilioDate(stored.updatedAt),
      url,
      links: Object.fromEntries(links.map((name) => [name, `${url}/${pathOf[name]}`])),
    };
  }

  private workflowResource(stored: StoredWorkflow): WorkflowResource {
    const url = `https://taskrouter.twilio.com/v1/Workspaces/${stored.workspaceSid}/Workflows/${stored.sid}`;
    return {
      sid: stored.sid,
      account_sid: this.accountSid,
      workspace_sid: stored.workspaceSid,
      friendly_name: stored.friendlyName,
      configuration: stored.configuration,
      assignment_callback_url: null,
      fallback_assignment_callback_url: null,
      document_content_type: 'application/json',
      task_reservation_timeout: stored.taskReservationTimeout,
      date_created: twilioDate(stored.createdAt),
      date_updated: twilioDate(stored.updatedAt),
      url,
      links: {
        statistics: `${url}/Statistics`,
        real_time_statistics: `${url}/RealTimeStatistics`,
        cumulative_statistics: `${url}/CumulativeStatistics`,
      },
    };
  }

  // ---------------------------------------------------------------------------
  // Events, with the field names of TaskRouter's Events reference
  // ---------------------------------------------------------------------------

  private commonFields(eventType: string, task: StoredTask, resourceType: string, resourceSid: string, description: string) {
    return {
      EventType: eventType,
      AccountSid: this.accountSid,
      WorkspaceSid: task.workspaceSid,
      WorkspaceName: this.workspaces.get(task.workspaceSid)?.friendlyName ?? DEFAULT_WORKSPACE_NAME,
      EventDescription: description,
      ResourceType: resourceType,
      ResourceSid: resourceSid,
      // Epoch seconds, as TaskRouter's callbacks give it.
      Timestamp: String(Math.floor(this.now() / 1000)),
    };
  }

  /** The reference's "Task" field data, with the task channel's. */
  private taskFields(task: StoredTask): Record<string, string> {
    const fields: Record<string, string> = {
      TaskSid: task.sid,
      TaskAttributes: task.attributes,
      TaskAge: String(this.ageOf(task)),
      TaskPriority: String(task.priority),
      TaskAssignmentStatus: task.assignmentStatus,
      TaskChannelSid: this.channelSid(task.taskChannelUniqueName),
      TaskChannelUniqueName: task.taskChannelUniqueName,
    };
    if (task.assignmentStatus === 'canceled' && task.reason !== null) fields.TaskCanceledReason = task.reason;
    if (task.assignmentStatus === 'completed' && task.reason !== null) fields.TaskCompletedReason = task.reason;
    return fields;
  }

  private publishTaskEvent(eventType: string, task: StoredTask, description: string): void {
    this.publish({
      workspaceSid: task.workspaceSid,
      eventType,
      taskSid: task.sid,
      form: { ...this.commonFields(eventType, task, 'task', task.sid, description), ...this.taskFields(task) },
    });
  }

  /** workflow.* events: "Task", WorkflowSid, WorkflowName. */
  private workflowEvent(eventType: string, task: StoredTask, description: string): TaskRouterEvent {
    const workflowSid = task.workflowSid ?? '';
    return {
      workspaceSid: task.workspaceSid,
      eventType,
      taskSid: task.sid,
      form: {
        ...this.commonFields(eventType, task, 'workflow', workflowSid, description),
        ...this.taskFields(task),
        WorkflowSid: workflowSid,
        WorkflowName: this.nameIn(task.workspaceSid, task.workflowSid) ?? '',
      },
    };
  }

  /** reservation.* events: "Task", "Worker", TaskQueueSid, ReservationSid, WorkflowSid. */
  private publishReservationEvent(eventType: string, task: StoredTask, reservation: StoredReservation): void {
    const worker = this.workers.get(reservation.workerSid);
    const optional: Record<string, string> = {};
    if (task.taskQueueSid !== null) optional.TaskQueueSid = task.taskQueueSid;
    if (task.workflowSid !== null) optional.WorkflowSid = task.workflowSid;
    const description = `Reservation ${reservation.sid} of task ${task.sid} for worker ${reservation.workerSid}: ${reservation.status}`;
    this.publish({
      workspaceSid: task.workspaceSid,
      eventType,
      taskSid: task.sid,
      reservationSid: reservation.sid,
      workerSid: reservation.workerSid,
      form: {
        ...this.commonFields(eventType, task, 'reservation', reservation.sid, description),
        ...this.taskFields(task),
        WorkerSid: reservation.workerSid,
        WorkerName: worker?.friendlyName ?? '',
        WorkerAttributes: '{}',
        ReservationSid: reservation.sid,
        ...optional,
      },
    });
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
  const value = parseJson(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseObject(text: string): Record<string, unknown> {
  const value = parseJson(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** The task attributes a workflow's known-agent targets read (`known_worker_sid: "task.<attribute>"`), in document order. */
export function knownWorkerExpressions(configuration: Record<string, unknown>): string[] {
  const found: string[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'known_worker_sid' && typeof inner === 'string') {
        const match = /^task\.([A-Za-z_$][\w$]*)$/.exec(inner.trim());
        if (match?.[1]) found.push(match[1]);
      } else {
        visit(inner);
      }
    }
  };
  visit(configuration);
  return found;
}
