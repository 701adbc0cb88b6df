/**
 * A loopback HTTP stand-in for the parts of Twilio these functions call:
 * IAM's Flex token validation and the Flex Interactions API. It answers the
 * way Twilio does, checks what it receives (credentials, path SIDs, the
 * Routing form field) and records every request in order, so tests assert on
 * what Twilio would really have been sent. Faults can be scripted per route.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Route = 'token-validate' | 'invite' | 'participant-list' | 'participant-update';

export interface RecordedRequest {
  route: Route | 'unknown';
  host: string;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  form: Record<string, string>;
  json: unknown;
  /** Parsed `Routing` form field of an invite. */
  routing?: { properties: Record<string, unknown> };
  at: number;
  /** Which TCP connection carried the request (numbered in order of arrival). */
  connection: number;
}

/** One scripted answer; scripted answers are used in order before the default behaviour resumes. */
export type Fault =
  | { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number }
  | { hang: true }
  | { reset: true }
  | { delayMs: number };

export interface TokenGrant {
  worker_sid?: string;
  roles?: string[];
  /** ISO date; default one hour from now. */
  expiration?: string;
  identity?: string;
}

export interface Participant {
  sid: string;
  type?: string;
  routing_properties?: Record<string, unknown> | null;
}

const hex = (length: number): string => Array.from({ length }, () => Math.floor(Math.random() * 16).toString(16)).join('');

export const newSid = (prefix: string): string => prefix + hex(32);

export class TwilioStandin {
  readonly requests: RecordedRequest[] = [];
  private readonly faults = new Map<Route, Fault[]>();
  private readonly tokens = new Map<string, TokenGrant>();
  private readonly participants = new Map<string, Participant[]>();
  private readonly unknownInteractions = new Set<string>();
  private readonly sockets = new Set<Socket>();
  private readonly connectionIds = new WeakMap<Socket, number>();
  private server: Server | undefined;
  private connectionCount = 0;
  /** What IAM answers for a token it does not know. */
  invalidTokenAnswer: { status: number; body: unknown } = { status: 200, body: { valid: false, code: 20151, message: 'Invalid token' } };
  participantPageSize = 50;
  /** Added before every answer, to model the network and Twilio's own time (benchmark). */
  latencyMs = 0;

  constructor(
    readonly accountSid: string,
    readonly authToken: string,
  ) {}

  get url(): string {
    const address = this.server?.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => void this.handle(request, response));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      this.connectionIds.set(socket, this.connectionIds.has(socket) ? (this.connectionIds.get(socket) as number) : ++this.connectionCount);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Forget recorded requests, scripted faults, tokens and participants. */
  reset(): void {
    this.requests.length = 0;
    this.faults.clear();
    this.tokens.clear();
    this.participants.clear();
    this.unknownInteractions.clear();
    this.invalidTokenAnswer = { status: 200, body: { valid: false, code: 20151, message: 'Invalid token' } };
    this.participantPageSize = 50;
    this.latencyMs = 0;
  }

  grantToken(token: string, grant: TokenGrant): void {
    this.tokens.set(token, grant);
  }

  setParticipants(interactionSid: string, channelSid: string, participants: Participant[]): void {
    this.participants.set(`${interactionSid}/${channelSid}`, participants);
  }

  /** Answer 404 for everything under this interaction. */
  forgetInteraction(interactionSid: string): void {
    this.unknownInteractions.add(interactionSid);
  }

  script(route: Route, ...faults: Fault[]): void {
    this.faults.set(route, [...(this.faults.get(route) ?? []), ...faults]);
  }

  requestsTo(route: Route): RecordedRequest[] {
    return this.requests.filter((request) => request.route === route);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const host = String(request.headers['x-standin-original-host'] ?? request.headers.host ?? '');
    const url = new URL(request.url ?? '/', 'http://standin');
    const route = this.routeOf(host, request.method ?? 'GET', url.pathname);
    const recorded: RecordedRequest = {
      route,
      host,
      method: request.method ?? 'GET',
      path: url.pathname + url.search,
      headers: request.headers,
      rawBody,
      form: Object.fromEntries(new URLSearchParams(rawBody)),
      json: undefined,
      at: Date.now(),
      connection: this.connectionIds.get(request.socket) ?? 0,
    };
    if (String(request.headers['content-type']).startsWith('application/json')) {
      try {
        recorded.json = JSON.parse(rawBody);
      } catch {
        recorded.json = undefined;
      }
    }
    if (route === 'invite' && recorded.form.Routing) recorded.routing = JSON.parse(recorded.form.Routing);
    this.requests.push(recorded);

    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    const fault = route === 'unknown' ? undefined : this.faults.get(route)?.shift();
    if (fault && 'hang' in fault) return; // never answers
    if (fault && 'reset' in fault) {
      request.socket.destroy();
      return;
    }
    if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (fault && 'status' in fault) {
      this.send(response, fault.status, fault.body ?? twilioError(fault.status), fault.headers);
      return;
    }
    this.answer(route, recorded, url, response);
  }

  private routeOf(host: string, method: string, path: string): Route | 'unknown' {
    if (host.startsWith('iam.') && method === 'POST' && /^\/v1\/Accounts\/AC\w+\/Tokens\/validate$/.test(path)) return 'token-validate';
    if (host === 'flex-api.twilio.com') {
      if (method === 'POST' && /^\/v1\/Interactions\/[^/]+\/Channels\/[^/]+\/Invites$/.test(path)) return 'invite';
      if (method === 'GET' && /^\/v1\/Interactions\/[^/]+\/Channels\/[^/]+\/Participants$/.test(path)) return 'participant-list';
      if (method === 'POST' && /^\/v1\/Interactions\/[^/]+\/Channels\/[^/]+\/Participants\/[^/]+$/.test(path)) return 'participant-update';
    }
    return 'unknown';
  }

  private authorized(recorded: RecordedRequest): boolean {
    const expected = 'Basic ' + Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64');
    return recorded.headers.authorization === expected;
  }

  private answer(route: Route | 'unknown', recorded: RecordedRequest, url: URL, response: ServerResponse): void {
    if (route === 'unknown') {
      this.send(response, 404, twilioError(404));
      return;
    }
    if (!this.authorized(recorded)) {
      this.send(response, 401, {
        code: 20003,
        message: 'Authenticate',
        more_info: 'https://www.twilio.com/docs/errors/20003',
        status: 401,
      });
      return;
    }
    if (route === 'token-validate') {
      this.answerTokenValidation(recorded, response);
      return;
    }
    const [, , interactionSid = '', , channelSid = '', , participantSid] = url.pathname.split('/').slice(1);
    if (
      !/^KD[0-9a-f]{32}$/i.test(interactionSid) ||
      !/^UO[0-9a-f]{32}$/i.test(channelSid) ||
      this.unknownInteractions.has(interactionSid)
    ) {
      this.send(response, 404, twilioError(404));
      return;
    }
    const base = `https://flex-api.twilio.com/v1/Interactions/${interactionSid}/Channels/${channelSid}`;
    if (route === 'invite') {
      const routing = recorded.routing;
      if (!routing || typeof routing.properties !== 'object') {
        this.send(response, 400, { code: 20001, message: 'Missing required parameter Routing', status: 400 });
        return;
      }
      const inviteSid = newSid('KG');
      this.send(response, 201, {
        sid: inviteSid,
        interaction_sid: interactionSid,
        channel_sid: channelSid,
        routing: { properties: { ...routing.properties, sid: newSid('WT'), assignment_status: 'pending' } },
        url: `${base}/Invites/${inviteSid}`,
      });
      return;
    }
    if (route === 'participant-list') {
      const all = this.participants.get(`${interactionSid}/${channelSid}`) ?? [];
      const pageNumber = Number(url.searchParams.get('Page') ?? '0');
      const pageSize = this.participantPageSize;
      const slice = all.slice(pageNumber * pageSize, (pageNumber + 1) * pageSize);
      const hasNext = (pageNumber + 1) * pageSize < all.length;
      const pageUrl = (page: number) => `${base}/Participants?PageSize=${pageSize}&Page=${page}`;
      this.send(response, 200, {
        participants: slice.map((participant) => ({
          sid: participant.sid,
          type: participant.type ?? 'agent',
          interaction_sid: interactionSid,
          channel_sid: channelSid,
          routing_properties: participant.routing_properties ?? null,
          url: `${base}/Participants/${participant.sid}`,
        })),
        meta: {
          page: pageNumber,
          page_size: pageSize,
          first_page_url: pageUrl(0),
          previous_page_url: pageNumber > 0 ? pageUrl(pageNumber - 1) : null,
          url: pageUrl(pageNumber),
          next_page_url: hasNext ? pageUrl(pageNumber + 1) : null,
          key: 'participants',
        },
      });
      return;
    }
    const status = recorded.form.Status;
    if (status !== 'closed' && status !== 'wrapup') {
      this.send(response, 400, { code: 20001, message: 'Invalid Status', status: 400 });
      return;
    }
    const known = this.participants.get(`${interactionSid}/${channelSid}`)?.some((participant) => participant.sid === participantSid);
    if (!known) {
      this.send(response, 404, twilioError(404));
      return;
    }
    this.send(response, 200, {
      sid: participantSid,
      type: 'agent',
      interaction_sid: interactionSid,
      channel_sid: channelSid,
      status,
      url: `${base}/Participants/${participantSid}`,
    });
  }

  private answerTokenValidation(recorded: RecordedRequest, response: ServerResponse): void {
    const token = (recorded.json as { token?: unknown } | undefined)?.token;
    const grant = typeof token === 'string' ? this.tokens.get(token) : undefined;
    if (!grant) {
      this.send(response, this.invalidTokenAnswer.status, this.invalidTokenAnswer.body);
      return;
    }
    this.send(response, 200, {
      valid: true,
      code: 0,
      message: null,
      expiration: grant.expiration ?? new Date(Date.now() + 3600_000).toISOString(),
      realm_user_id: 'US' + hex(32),
      identity: grant.identity ?? 'agent@example.com',
      roles: grant.roles ?? ['agent'],
      worker_sid: grant.worker_sid,
    });
  }

  private send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    response.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/html' : 'application/json', ...headers });
    response.end(text);
  }
}

export function twilioError(status: number): { code: number; message: string; more_info: string; status: number } {
  const code = status === 404 ? 20404 : status === 429 ? 20429 : status === 409 ? 20409 : status >= 500 ? 20500 : 20001;
  return {
    code,
    message: status === 404 ? 'The requested resource was not found' : `Stand-in error ${status}`,
    more_info: `https://www.twilio.com/docs/errors/${code}`,
    status,
  };
}
