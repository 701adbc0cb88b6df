/**
 * A stand-in for the parts of Twilio these functions call: IAM's Flex token
 * validation, Flex Interactions (invites, participants), TaskRouter tasks and
 * Sync documents. It answers the way Twilio does, checks what it receives
 * (credentials, path SIDs, form fields), keeps the state those answers imply,
 * and records every request in order, so tests assert on what Twilio would
 * really have been sent. Faults can be scripted per route.
 *
 * Two ways in, one implementation: `handle()` in-process, and `start()` for a
 * loopback HTTP server (reached through dev/redirect-twilio.cjs) that wraps it.
 */
import { aborted, errorAnswer, lowerCaseNames, notFound, scriptedAnswer, StandinNetworkError, wait } from './answers';
import { FlexStore, type InviteResource } from './flex';
import { type RequestHead, type RunningServer, serveHttp, type Transport } from './http-server';
import { matchRoute, type RouteMatch, type RoutedRequest } from './routes';
import { SyncStore, type SyncDocumentResource } from './sync';
import { type NamedResourceSeed, type TaskResource, TaskRouterStore, type TaskSeed } from './taskrouter';
import { answerTokenValidation, defaultInvalidTokenAnswer, type InvalidTokenAnswer } from './tokens';
import type {
  Clock,
  Fault,
  Participant,
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

  private readonly faults = new Map<Route, Fault[]>();
  private readonly tokens = new Map<string, TokenGrant>();
  private readonly taskrouter: TaskRouterStore;
  private readonly flex: FlexStore;
  private readonly sync: SyncStore;
  private server: RunningServer | undefined;

  constructor(
    readonly accountSid: string,
    readonly authToken: string,
  ) {
    const clock = () => this.now();
    this.taskrouter = new TaskRouterStore(accountSid, clock);
    this.flex = new FlexStore(this.taskrouter, clock, () => ({
      participantPageSize: this.participantPageSize,
      invitePageSize: this.invitePageSize,
    }));
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
    const server = this.server;
    this.server = undefined;
    await server?.close();
  }

  /** Forget recorded requests, scripted faults and all state; settings and the clock return to their defaults. */
  reset(): void {
    this.requests.length = 0;
    this.faults.clear();
    this.tokens.clear();
    this.flex.clear();
    this.taskrouter.clear();
    this.sync.clear();
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

  setParticipants(interactionSid: string, channelSid: string, participants: Participant[]): void {
    this.flex.setParticipants(interactionSid, channelSid, participants);
  }

  /** Answer 404 for everything under this interaction. */
  forgetInteraction(interactionSid: string): void {
    this.flex.forgetInteraction(interactionSid);
  }

  /**
   * Seeds an invite as if it had been created through the API, with its pending task
   * (`properties.workspace_sid` is required). Returns it as the create answer would.
   */
  addInvite(interactionSid: string, channelSid: string, properties: Record<string, unknown>): InviteResource {
    return this.flex.addInvite(interactionSid, channelSid, properties);
  }

  /** Seeds a TaskRouter task (default status `pending`); returns its SID. */
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

  /** A change made outside the API (an agent accepts, wraps up…): new status, new ETag. Throws for an unknown task. */
  setTaskStatus(sid: string, status: TaskAssignmentStatus): void {
    this.taskrouter.setTaskStatus(sid, status);
  }

  /** Registers a worker so tasks and seeds can name it; returns its SID. */
  addWorker(worker: NamedResourceSeed): string {
    return this.taskrouter.addNamedResource('WK', worker);
  }

  /** Registers a TaskQueue: tasks in it carry its friendly name. Returns its SID. */
  addQueue(queue: NamedResourceSeed): string {
    return this.taskrouter.addNamedResource('WQ', queue);
  }

  /** Registers a Workflow: tasks routed by it carry its friendly name. Returns its SID. */
  addWorkflow(workflow: NamedResourceSeed): string {
    return this.taskrouter.addNamedResource('WW', workflow);
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
      query: url.searchParams,
      headers: recorded.headers,
      form: recorded.form,
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
        return this.taskrouter.fetch(request);
      case 'task-update':
        return this.taskrouter.update(request);
      case 'sync-create':
      case 'sync-fetch':
      case 'sync-update':
      case 'sync-delete':
        return this.sync.answer(match.route, request);
    }
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
