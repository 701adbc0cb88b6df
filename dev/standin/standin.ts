/**
 * A stand-in for the parts of Twilio these functions call: IAM's Flex token
 * validation, Flex Interactions (invites, participants), TaskRouter
 * (workspaces, workflows, tasks and their reservations) and Sync documents.
 * It answers the way Twilio does, checks what it receives (credentials, path
 * SIDs, form fields, that what a request names exists), keeps the state those
 * answers imply, and records every request in order, so tests assert on what
 * Twilio would really have been sent. Faults can be scripted per route.
 *
 * It routes like TaskRouter: an invite's task is offered to a worker
 * (`reserve`), accepted (the worker joins the channel, as in Flex) or declined,
 * canceled, timed out or completed, and each change is posted, signed, to the
 * workspace's EventCallbackUrl. Tests drive those moves; the sandbox can let a
 * simulated agent accept every invite (`autoAccept`).
 *
 * Two ways in, one implementation: `handle()` in-process, and `start()` for a
 * loopback HTTP server (reached through dev/redirect-twilio.cjs) that wraps it.
 */
import { aborted, errorAnswer, lowerCaseNames, notFound, scriptedAnswer, StandinNetworkError, wait } from './answers';
import { EventBus, httpEventDelivery, parseEventsFilter } from './events';
import { type ConversationSeed, FlexStore, type InviteResource } from './flex';
import { type RequestHead, type RunningServer, serveHttp, type Transport } from './http-server';
import { matchRoute, type RouteMatch, type RoutedRequest } from './routes';
import { SyncStore, type SyncDocumentResource } from './sync';
import {
  type NamedResourceSeed,
  type ReservationState,
  type TaskResource,
  TaskRouterStore,
  type TaskSeed,
  type WorkflowSeed,
  type WorkspaceSeed,
  type WorkspaceState,
} from './taskrouter';
import { answerTokenValidation, defaultInvalidTokenAnswer, type InvalidTokenAnswer } from './tokens';
import type {
  Clock,
  DeliveredEvent,
  EventDelivery,
  Fault,
  Participant,
  ParticipantState,
  RecordedRequest,
  Route,
  StandinRequest,
  StandinResponse,
  TaskAssignmentStatus,
  TokenGrant,
} from './types';

/** The SID `default` stands for in Sync, unless `syncDefaultServiceSid` is set. */
export const DEFAULT_SYNC_SERVICE_SID = 'IS' + '0d'.repeat(16);
const DEFAULT_PAGE_SIZE = 50;
const DEFAULT_EVENT_RETRY_DELAY_MS = 1_000;

export class TwilioStandin {
  readonly requests: RecordedRequest[] = [];
  /** What IAM answers for a token it does not know. */
  invalidTokenAnswer: InvalidTokenAnswer = defaultInvalidTokenAnswer();
  participantPageSize = DEFAULT_PAGE_SIZE;
  invitePageSize = DEFAULT_PAGE_SIZE;
  /** Added before every answer, to model the network and Twilio's own time (benchmark). */
  latencyMs = 0;
  /** The stand-in's clock (resource dates, Sync TTLs, token expirations); replace it to move time in tests. */
  now: Clock = () => Date.now();
  /** The Sync service `default` stands for; requests may name either. */
  syncDefaultServiceSid = DEFAULT_SYNC_SERVICE_SID;
  /**
   * Refuse, as Twilio does, what nobody seeded: Flex requests on an unknown interaction or channel (404), invites
   * naming an unknown workspace, workflow, queue or worker (400 code 20001). `false` restores the old leniency
   * (any well-formed SID exists) for suites about something else; `reset()` sets it back to `true`.
   */
  refusesUnknown = true;
  /** How TaskRouter events reach a workspace's EventCallbackUrl; the default POSTs with the global fetch. */
  eventDelivery: EventDelivery = httpEventDelivery;
  /** The pause before the one retry of a failed event delivery. */
  eventRetryDelayMs = DEFAULT_EVENT_RETRY_DELAY_MS;
  /**
   * The sandbox's simulated agent: `afterMs` after an invite's task was created, it is reserved to the worker the
   * workflow would pick (see `TaskRouterStore.routeTarget`) and accepted. Off (undefined) by default.
   */
  autoAccept: { afterMs: number } | undefined = undefined;
  /**
   * Every event delivery attempt, in the order they finished. Deliveries run after the API answer that caused them;
   * await `eventsSettled()` before reading this.
   */
  readonly deliveredEvents: DeliveredEvent[];
  /**
   * What each route's handler read from requests, as `form:Name`, `query:Name` or `header:name` (test/dev checks each
   * against Twilio's API definitions).
   */
  readonly parametersRead = new Map<Route, Set<string>>();

  private readonly faults = new Map<Route, Fault[]>();
  private readonly tokens = new Map<string, TokenGrant>();
  private readonly taskrouter: TaskRouterStore;
  private readonly flex: FlexStore;
  private readonly sync: SyncStore;
  private readonly events: EventBus;
  /** Scheduled auto-accepts, each with its cancel. */
  private readonly autoAccepts = new Map<ReturnType<typeof setTimeout>, () => void>();
  /** One promise per scheduled auto-accept, settled when it ran or was canceled. */
  private readonly autoAcceptsDue = new Set<Promise<void>>();
  private server: RunningServer | undefined;

  constructor(
    readonly accountSid: string,
    readonly authToken: string,
  ) {
    const clock = () => this.now();
    this.events = new EventBus(
      () => ({ authToken: this.authToken, delivery: this.eventDelivery, retryDelayMs: this.eventRetryDelayMs }),
      (workspaceSid) => {
        const callback = this.taskrouter.callbackOf(workspaceSid);
        return callback && { url: callback.url, eventsFilter: parseEventsFilter(callback.eventsFilter) };
      },
    );
    this.deliveredEvents = this.events.delivered;
    this.taskrouter = new TaskRouterStore(accountSid, clock, (event) => this.events.publish(event));
    this.flex = new FlexStore(
      this.taskrouter,
      clock,
      () => ({ participantPageSize: this.participantPageSize, invitePageSize: this.invitePageSize, refusesUnknown: this.refusesUnknown }),
      (taskSid) => this.scheduleAutoAccept(taskSid),
    );
    this.sync = new SyncStore(accountSid, clock, () => this.syncDefaultServiceSid);
  }

  /** The HTTP server's base URL, e.g. http://127.0.0.1:53211 (after `start()`). */
  get url(): string {
    if (!this.server) throw new Error('The Twilio stand-in is not listening: call start() first');
    return this.server.url;
  }

  /** Listens on 127.0.0.1 only; port 0 picks a free one. */
  async start(port = 0): Promise<this> {
    if (this.server) throw new Error(`The Twilio stand-in is already listening at ${this.server.url}`);
    this.server = await serveHttp((head, readBody, transport) => this.exchange(head, readBody, transport), port);
    return this;
  }

  /** Closes the server and drops open connections (pending hangs end). Safe to call twice. */
  async stop(): Promise<void> {
    this.cancelAutoAccepts();
    const server = this.server;
    this.server = undefined;
    await server?.close();
  }

  /** Forget recorded requests, scripted faults, deliveries and all state (queued deliveries are dropped); settings and the clock return to their defaults. */
  reset(): void {
    this.cancelAutoAccepts();
    this.requests.length = 0;
    this.parametersRead.clear();
    this.faults.clear();
    this.tokens.clear();
    this.flex.clear();
    this.taskrouter.clear();
    this.sync.clear();
    this.events.clear();
    this.refusesUnknown = true;
    this.eventDelivery = httpEventDelivery;
    this.eventRetryDelayMs = DEFAULT_EVENT_RETRY_DELAY_MS;
    this.autoAccept = undefined;
    this.invalidTokenAnswer = defaultInvalidTokenAnswer();
    this.participantPageSize = DEFAULT_PAGE_SIZE;
    this.invitePageSize = DEFAULT_PAGE_SIZE;
    this.latencyMs = 0;
    this.now = () => Date.now();
    this.syncDefaultServiceSid = DEFAULT_SYNC_SERVICE_SID;
  }

  /**
   * In-process entry (no sockets): the same routing, checks, recording, faults and latency as the HTTP server.
   * Where HTTP would fail at the socket, the promise rejects with a {@link StandinNetworkError}.
   */
  handle(request: StandinRequest, signal?: AbortSignal): Promise<StandinResponse> {
    const head: RequestHead = { method: request.method, url: request.url, headers: request.headers };
    return this.exchange(head, () => Promise.resolve(request.body), { signal, connection: 0 });
  }

  script(route: Route, ...faults: Fault[]): void {
    this.faults.set(route, [...(this.faults.get(route) ?? []), ...faults]);
  }

  requestsTo(route: Route): RecordedRequest[] {
    return this.requests.filter((request) => request.route === route);
  }

  grantToken(token: string, grant: TokenGrant): void {
    this.tokens.set(token, grant);
  }

  // ---------------------------------------------------------------------------
  // Flex: conversations and participants
  // ---------------------------------------------------------------------------

  /** Seeds an interaction with one channel (fresh SIDs unless given) and its participants; returns their SIDs. */
  addConversation(seed: ConversationSeed = {}): { interactionSid: string; channelSid: string } {
    return this.flex.addConversation(seed);
  }

  /** Replaces the channel's participants; the interaction and channel come to exist if they did not. */
  setParticipants(interactionSid: string, channelSid: string, participants: Participant[]): void {
    this.flex.setParticipants(interactionSid, channelSid, participants);
  }

  /** The channel's participants with their status (which Twilio does not list), or undefined for an unknown channel. */
  participants(interactionSid: string, channelSid: string): ParticipantState[] | undefined {
    return this.flex.participants(interactionSid, channelSid);
  }

  /** Answer 404 for everything under this interaction. */
  forgetInteraction(interactionSid: string): void {
    this.flex.forgetInteraction(interactionSid);
  }

  /**
   * Seeds an invite as if it had been created through the API, with its pending task (`properties.workspace_sid` is
   * required), without events. The conversation, and the workspace, workflow, queue and worker it names, come to
   * exist if they did not. Returns it as the create answer would.
   */
  addInvite(interactionSid: string, channelSid: string, properties: Record<string, unknown>): InviteResource {
    return this.flex.addInvite(interactionSid, channelSid, properties);
  }

  // ---------------------------------------------------------------------------
  // TaskRouter: workspaces, workflows, workers, queues, tasks
  // ---------------------------------------------------------------------------

  /** Registers a workspace (fresh SID unless given; no EventCallbackUrl unless given); returns its SID. */
  addWorkspace(seed: WorkspaceSeed = {}): string {
    return this.taskrouter.addWorkspace(seed);
  }

  /** Changes a workspace as the Console would (no API request recorded), e.g. its EventCallbackUrl. Throws for an unknown one. */
  changeWorkspace(sid: string, changes: Omit<WorkspaceSeed, 'sid'>): void {
    this.taskrouter.changeWorkspace(sid, changes);
  }

  /** The workspace's name and event callback as they are now (after any `workspace-update`), or undefined. */
  workspace(sid: string): WorkspaceState | undefined {
    return this.taskrouter.workspace(sid);
  }

  /**
   * Registers a Workflow (in the default workspace unless named: the first registered). Tasks routed by it carry its
   * friendly name; `configuration` (an object) is answered as the JSON string TaskRouter stores. Returns its SID.
   */
  addWorkflow(workflow: WorkflowSeed = {}): string {
    return this.taskrouter.addWorkflow(workflow);
  }

  /** Registers a worker (in the default workspace unless named) so invites and reservations can name it; returns its SID. */
  addWorker(worker: NamedResourceSeed = {}): string {
    return this.taskrouter.addWorker(worker);
  }

  /** Registers a TaskQueue (in the default workspace unless named): tasks in it carry its friendly name. Returns its SID. */
  addQueue(queue: NamedResourceSeed = {}): string {
    return this.taskrouter.addQueue(queue);
  }

  /** Seeds a TaskRouter task (default status `pending`), without events; its workspace, queue and workflow come to exist if unknown. Returns its SID. */
  addTask(task: TaskSeed): string {
    return this.taskrouter.addTask(task);
  }

  /** The task as TaskRouter would return it now (`attributes` is a JSON string), or undefined. */
  task(sid: string): TaskResource | undefined {
    return this.taskrouter.task(sid);
  }

  /** The ETag TaskRouter would send with the task now. */
  taskETag(sid: string): string | undefined {
    return this.taskrouter.etag(sid);
  }

  /**
   * A raw change made outside the API (old tests): new status, new ETag, no reservation and no event.
   * The lifecycle methods below move a task as TaskRouter does. Throws for an unknown task.
   */
  setTaskStatus(sid: string, status: TaskAssignmentStatus): void {
    this.taskrouter.setTaskStatus(sid, status);
  }

  /** The reservation's task, worker and status, or undefined. */
  reservation(sid: string): ReservationState | undefined {
    return this.taskrouter.reservation(sid);
  }

  /** The task's reservations, oldest first. */
  reservationsOf(taskSid: string): ReservationState[] {
    return this.taskrouter.reservationsOf(taskSid);
  }

  // ---------------------------------------------------------------------------
  // The task lifecycle, as TaskRouter and Flex move it (each step posts its events)
  // ---------------------------------------------------------------------------

  /** Offers a pending task to a worker of its workspace: task `reserved`, reservation `pending`. Returns the reservation SID. */
  reserve(taskSid: string, workerSid: string): string {
    return this.taskrouter.reserve(taskSid, workerSid);
  }

  /**
   * The worker accepts: task `assigned`, reservation `accepted`; as Flex does, the worker joins the channel whose invite
   * created the task as an `agent` participant with `routing_properties: { workspace_sid, task_sid, worker_sid }`.
   * Returns that participant's SID (undefined when the task came from no invite).
   */
  acceptReservation(reservationSid: string): string | undefined {
    const accepted = this.taskrouter.acceptReservation(reservationSid);
    return accepted.channel ? this.flex.joinAsAgent(accepted.channel, accepted) : undefined;
  }

  /**
   * The worker declines. A workflow-routed task goes back to `pending` for the workflow's next step; a direct
   * (`worker_sid`) invite's task is canceled, the conversation left without that agent, as Twilio's Best Practices warn.
   */
  rejectReservation(reservationSid: string): void {
    this.taskrouter.rejectReservation(reservationSid);
  }

  /** Nobody accepted in time: a pending reservation is canceled, then `workflow.timeout` and `task.canceled`. */
  timeOutTask(taskSid: string): void {
    this.taskrouter.timeOutTask(taskSid);
  }

  /** The agent completes an assigned or wrapping task: `task.completed`. */
  completeTask(taskSid: string, reason?: string): void {
    this.taskrouter.completeTask(taskSid, reason);
  }

  /** Resolves once every queued event delivery (retries included) and every scheduled auto-accept has finished. */
  async eventsSettled(): Promise<void> {
    for (;;) {
      if (this.autoAcceptsDue.size > 0) {
        await Promise.all([...this.autoAcceptsDue]);
        continue;
      }
      await this.events.settled();
      if (this.autoAcceptsDue.size === 0) return;
    }
  }

  private scheduleAutoAccept(taskSid: string): void {
    const settings = this.autoAccept;
    if (!settings) return;
    const due = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.autoAccepts.delete(timer);
        try {
          this.acceptAsRouted(taskSid);
        } catch {
          // The task moved on in between (a test or the API changed it): the simulated agent has nothing to accept.
        } finally {
          resolve();
        }
      }, settings.afterMs);
      timer.unref?.();
      this.autoAccepts.set(timer, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.autoAcceptsDue.add(due);
    void due.then(() => this.autoAcceptsDue.delete(due));
  }

  /** The simulated agent: reserve to the worker the workflow would pick, then accept. Nothing when the task moved on. */
  private acceptAsRouted(taskSid: string): void {
    const workerSid = this.taskrouter.routeTarget(taskSid);
    if (workerSid === undefined) return;
    this.acceptReservation(this.reserve(taskSid, workerSid));
  }

  private cancelAutoAccepts(): void {
    for (const cancel of this.autoAccepts.values()) cancel();
    this.autoAccepts.clear();
  }

  /** The live Sync document, by SID or unique name, in `service` (an IS SID or `default`). */
  syncDocument(sidOrUniqueName: string, service = 'default'): SyncDocumentResource | undefined {
    return this.sync.document(service, sidOrUniqueName);
  }

  private async exchange(head: RequestHead, readBody: () => Promise<string>, transport: Transport): Promise<StandinResponse> {
    const { signal } = transport;
    if (signal?.aborted) throw aborted();
    const headers = lowerCaseNames(head.headers);
    const url = new URL(head.url);
    const host = headers['x-standin-original-host'] ?? url.hostname;
    const match = matchRoute(host, head.method, url.pathname);
    const fault = match.route === 'unknown' ? undefined : this.faults.get(match.route)?.shift();
    const record = (rawBody: string) => this.record({ match, host, method: head.method, url, headers, rawBody, fault, transport });

    if (fault && 'refuse' in fault) {
      record(''); // the body never reached Twilio
      throw new StandinNetworkError('ECONNREFUSED', `Connection refused by the stand-in (scripted) for ${head.method} ${url.href}`);
    }
    const recorded = record(await readBody());
    if (this.latencyMs > 0) await wait(this.latencyMs, signal);
    const scripted = fault && (await this.applyFault(fault, url, signal));
    return scripted ?? this.answer(match, recorded, url);
  }

  /** A scripted answer, or undefined to go on with the normal one. */
  private async applyFault(fault: Fault, url: URL, signal: AbortSignal | undefined): Promise<StandinResponse | undefined> {
    if ('hang' in fault) await wait(Infinity, signal);
    if ('reset' in fault) throw new StandinNetworkError('ECONNRESET', `Connection reset by the stand-in (scripted) for ${url.href}`);
    if ('delayMs' in fault && fault.delayMs) await wait(fault.delayMs, signal);
    return 'status' in fault ? scriptedAnswer(fault.status, fault.body, fault.headers) : undefined;
  }

  private record(exchange: {
    match: RouteMatch;
    host: string;
    method: string;
    url: URL;
    headers: Record<string, string>;
    rawBody: string;
    fault: Fault | undefined;
    transport: Transport;
  }): RecordedRequest {
    const { match, headers, rawBody } = exchange;
    const recorded: RecordedRequest = {
      route: match.route,
      host: exchange.host,
      method: exchange.method,
      path: exchange.url.pathname + exchange.url.search,
      headers,
      rawBody,
      form: Object.fromEntries(new URLSearchParams(rawBody)),
      json: (headers['content-type'] ?? '').startsWith('application/json') ? parseJson(rawBody) : undefined,
      at: Date.now(),
      connection: exchange.transport.connection,
    };
    if (match.route === 'invite-create' && recorded.form.Routing !== undefined) {
      const routing = parseJson(recorded.form.Routing) as RecordedRequest['routing'];
      if (routing && typeof routing === 'object') recorded.routing = routing;
    }
    if (exchange.fault) recorded.fault = exchange.fault;
    this.requests.push(recorded);
    return recorded;
  }

  private answer(match: RouteMatch, recorded: RecordedRequest, url: URL): StandinResponse {
    if (match.route === 'unknown') return match.status === 405 ? errorAnswer(405, 20004, 'Method not allowed') : notFound();
    if (!this.authorized(recorded.headers)) return errorAnswer(401, 20003, 'Authenticate');
    const request: RoutedRequest = {
      params: match.params,
      query: this.watchedQuery(match.route, url.searchParams),
      headers: this.watched(match.route, 'header', recorded.headers),
      form: this.watched(match.route, 'form', recorded.form),
      json: recorded.json,
    };
    switch (match.route) {
      case 'token-validate':
        return answerTokenValidation(recorded.json, this.tokens, this.invalidTokenAnswer, this.now());
      case 'invite-create':
      case 'invite-list':
      case 'participant-list':
      case 'participant-update':
        return this.flex.answer(match.route, request);
      case 'task-fetch':
        return this.taskrouter.fetchTask(request);
      case 'task-update':
        return this.taskrouter.updateTask(request);
      case 'workspace-fetch':
        return this.taskrouter.fetchWorkspace(request);
      case 'workspace-update':
        return this.taskrouter.updateWorkspace(request);
      case 'workflow-fetch':
        return this.taskrouter.fetchWorkflow(request);
      case 'sync-create':
      case 'sync-fetch':
      case 'sync-update':
      case 'sync-delete':
        return this.sync.answer(match.route, request);
    }
  }

  /** The form or headers, noting each name the handler reads. */
  private watched(route: Route, part: 'form' | 'header', values: Record<string, string>): Record<string, string> {
    const read = this.readsOf(route);
    return new Proxy(values, {
      get: (target, name, receiver) => {
        if (typeof name === 'string') read.add(`${part}:${name}`);
        return Reflect.get(target, name, receiver) as unknown;
      },
    });
  }

  /** The query, noting each parameter the handler reads. */
  private watchedQuery(route: Route, query: URLSearchParams): URLSearchParams {
    const read = this.readsOf(route);
    const watched = new URLSearchParams(query);
    watched.get = (name: string) => {
      read.add(`query:${name}`);
      return URLSearchParams.prototype.get.call(watched, name);
    };
    return watched;
  }

  private readsOf(route: Route): Set<string> {
    let read = this.parametersRead.get(route);
    if (!read) {
      read = new Set();
      this.parametersRead.set(route, read);
    }
    return read;
  }

  private authorized(headers: Record<string, string>): boolean {
    return headers.authorization === 'Basic ' + Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64');
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
