/**
 * Flex Interactions: the participants and the invites of each interaction
 * channel. Every invite also creates its task in TaskRouter, as Flex does, so
 * list and cancel flows work end to end.
 */
import { errorAnswer, jsonAnswer, notFound } from './answers';
import type { RoutedRequest } from './routes';
import { isSid, newSid } from './sids';
import type { TaskRouterStore } from './taskrouter';
import type { Clock, Participant, StandinResponse } from './types';

/** An invite as the create answer carries it: `routing.properties.attributes` as sent (an object). */
export interface InviteResource {
  sid: string;
  interaction_sid: string;
  channel_sid: string;
  routing: { properties: Record<string, unknown> };
  url: string;
}

export interface FlexSettings {
  participantPageSize: number;
  invitePageSize: number;
}

interface StoredInvite {
  sid: string;
  interactionSid: string;
  channelSid: string;
  /** As sent, plus what Twilio adds: the task's sid, assignment_status and date_created. */
  properties: Record<string, unknown>;
}

type Invitation = { invite: InviteResource } | { refusal: string };

const channelKey = (interactionSid: string, channelSid: string) => `${interactionSid}/${channelSid}`;
const channelUrl = (interactionSid: string, channelSid: string) =>
  `https://flex-api.twilio.com/v1/Interactions/${interactionSid}/Channels/${channelSid}`;

export class FlexStore {
  private readonly participants = new Map<string, Participant[]>();
  /** Oldest first, per channel. */
  private readonly invites = new Map<string, StoredInvite[]>();
  private readonly unknownInteractions = new Set<string>();

  constructor(
    private readonly tasks: TaskRouterStore,
    private readonly now: Clock,
    private readonly settings: () => FlexSettings,
  ) {}

  clear(): void {
    this.participants.clear();
    this.invites.clear();
    this.unknownInteractions.clear();
  }

  setParticipants(interactionSid: string, channelSid: string, participants: Participant[]): void {
    this.participants.set(channelKey(interactionSid, channelSid), participants);
  }

  forgetInteraction(interactionSid: string): void {
    this.unknownInteractions.add(interactionSid);
  }

  /** Seeds an invite exactly as a create request would make it (with its pending task); throws what Twilio would answer 400. */
  addInvite(interactionSid: string, channelSid: string, properties: Record<string, unknown>): InviteResource {
    const invitation = this.invite(interactionSid, channelSid, properties);
    if ('refusal' in invitation) throw new Error(invitation.refusal);
    return invitation.invite;
  }

  answer(route: 'invite-create' | 'invite-list' | 'participant-list' | 'participant-update', request: RoutedRequest): StandinResponse {
    const { interactionSid, channelSid } = request.params;
    if (!isSid('KD', interactionSid) || !isSid('UO', channelSid) || this.unknownInteractions.has(interactionSid)) return notFound();
    switch (route) {
      case 'invite-create':
        return this.create(interactionSid, channelSid, request.form.Routing);
      case 'invite-list':
        return this.listInvites(interactionSid, channelSid, request.query);
      case 'participant-list':
        return this.listParticipants(interactionSid, channelSid, request.query);
      case 'participant-update':
        return this.updateParticipant(interactionSid, channelSid, request.params.participantSid ?? '', request.form.Status);
    }
  }

  private create(interactionSid: string, channelSid: string, routingField: string | undefined): StandinResponse {
    const properties = parseRoutingProperties(routingField);
    if (!properties) return errorAnswer(400, 20001, 'Missing required parameter Routing');
    const invitation = this.invite(interactionSid, channelSid, properties);
    if ('refusal' in invitation) return errorAnswer(400, 20001, invitation.refusal);
    return jsonAnswer(201, invitation.invite);
  }

  private invite(interactionSid: string, channelSid: string, sent: Record<string, unknown>): Invitation {
    const workspaceSid = typeof sent.workspace_sid === 'string' ? sent.workspace_sid : undefined;
    if (!isSid('WS', workspaceSid)) return { refusal: 'Invalid Routing: properties.workspace_sid must be a workspace SID' };
    const attributes = attributesObject(sent.attributes);
    if (!attributes) return { refusal: 'Invalid Routing: properties.attributes must be a JSON object' };
    const text = (name: string) => (typeof sent[name] === 'string' ? (sent[name] as string) : undefined);
    const number = (name: string) => (typeof sent[name] === 'number' ? (sent[name] as number) : undefined);

    const taskSid = this.tasks.addTask({
      workspaceSid,
      attributes,
      taskChannelUniqueName: text('task_channel_unique_name'),
      workflowSid: text('workflow_sid'),
      taskQueueSid: text('queue_sid'),
      priority: number('priority'),
      timeout: number('timeout'),
    });
    const stored: StoredInvite = {
      sid: newSid('KG'),
      interactionSid,
      channelSid,
      // Twilio's Interactions examples give the dates inside routing.properties as epoch seconds.
      properties: { ...sent, sid: taskSid, assignment_status: 'pending', date_created: Math.floor(this.now() / 1000) },
    };
    const key = channelKey(interactionSid, channelSid);
    this.invites.set(key, [...(this.invites.get(key) ?? []), stored]);
    return { invite: inviteResource(stored, stored.properties) };
  }

  private listInvites(interactionSid: string, channelSid: string, query: URLSearchParams): StandinResponse {
    const all = this.invites.get(channelKey(interactionSid, channelSid)) ?? [];
    const page = pageOf(all, query, this.settings().invitePageSize, `${channelUrl(interactionSid, channelSid)}/Invites`);
    // Twilio's list answers carry routing.properties.attributes as a JSON string, unlike the create answer.
    const invites = page.items.map((stored) => {
      const { attributes } = stored.properties;
      return inviteResource(stored, {
        ...stored.properties,
        attributes: typeof attributes === 'string' ? attributes : JSON.stringify(attributes ?? {}),
      });
    });
    return jsonAnswer(200, { invites, meta: { ...page.meta, key: 'invites' } });
  }

  private listParticipants(interactionSid: string, channelSid: string, query: URLSearchParams): StandinResponse {
    const all = this.participants.get(channelKey(interactionSid, channelSid)) ?? [];
    const base = channelUrl(interactionSid, channelSid);
    const page = pageOf(all, query, this.settings().participantPageSize, `${base}/Participants`);
    const participants = page.items.map((participant) => ({
      sid: participant.sid,
      type: participant.type ?? 'agent',
      interaction_sid: interactionSid,
      channel_sid: channelSid,
      routing_properties: participant.routing_properties ?? null,
      url: `${base}/Participants/${participant.sid}`,
    }));
    return jsonAnswer(200, { participants, meta: { ...page.meta, key: 'participants' } });
  }

  private updateParticipant(
    interactionSid: string,
    channelSid: string,
    participantSid: string,
    status: string | undefined,
  ): StandinResponse {
    if (status !== 'closed' && status !== 'wrapup') return errorAnswer(400, 20001, 'Invalid Status');
    const known = this.participants.get(channelKey(interactionSid, channelSid))?.some((participant) => participant.sid === participantSid);
    if (!known) return notFound();
    return jsonAnswer(200, {
      sid: participantSid,
      type: 'agent',
      interaction_sid: interactionSid,
      channel_sid: channelSid,
      status,
      url: `${channelUrl(interactionSid, channelSid)}/Participants/${participantSid}`,
    });
  }
}

function inviteResource(stored: StoredInvite, properties: Record<string, unknown>): InviteResource {
  return {
    sid: stored.sid,
    interaction_sid: stored.interactionSid,
    channel_sid: stored.channelSid,
    routing: { properties },
    url: `${channelUrl(stored.interactionSid, stored.channelSid)}/Invites/${stored.sid}`,
  };
}

function parseRoutingProperties(field: string | undefined): Record<string, unknown> | undefined {
  if (field === undefined) return undefined;
  try {
    const routing: unknown = JSON.parse(field);
    const properties = (routing as { properties?: unknown } | null)?.properties;
    return isPlainObject(properties) ? properties : undefined;
  } catch {
    return undefined;
  }
}

/** Routing attributes may be sent as an object or as a string holding one; absent means none. */
function attributesObject(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return {};
  if (isPlainObject(value)) return value;
  if (typeof value !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return isPlainObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

interface PageMeta {
  page: number;
  page_size: number;
  first_page_url: string;
  previous_page_url: string | null;
  url: string;
  next_page_url: string | null;
}

/**
 * One page of a Twilio list (Page is 0-based). The stand-in's page size is an upper bound:
 * a smaller PageSize asked for is honoured, a larger one is not, so tests can force paging.
 */
function pageOf<T>(all: readonly T[], query: URLSearchParams, maxPageSize: number, listUrl: string): { items: T[]; meta: PageMeta } {
  const asked = Number(query.get('PageSize'));
  const pageSize = Number.isInteger(asked) && asked > 0 ? Math.min(asked, maxPageSize) : maxPageSize;
  const askedPage = Number(query.get('Page') ?? '0');
  const page = Number.isInteger(askedPage) && askedPage >= 0 ? askedPage : 0;
  const pageUrl = (number: number) => `${listUrl}?PageSize=${pageSize}&Page=${number}`;
  return {
    items: all.slice(page * pageSize, (page + 1) * pageSize),
    meta: {
      page,
      page_size: pageSize,
      first_page_url: pageUrl(0),
      previous_page_url: page > 0 ? pageUrl(page - 1) : null,
      url: pageUrl(page),
      next_page_url: (page + 1) * pageSize < all.length ? pageUrl(page + 1) : null,
    },
  };
}
