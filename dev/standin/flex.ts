/**
 * Flex Interactions: the interactions and channels that exist, their
 * participants and their invites. Every invite also creates its task in
 * TaskRouter, as Flex does, so list, cancel and acceptance flows work end to
 * end; an accepted reservation brings its worker into the channel.
 *
 * With `refusesUnknown` (the default), an interaction or channel nobody seeded
 * is 404, as Twilio answers, and an invite naming a workspace, workflow, queue
 * or worker TaskRouter does not know is refused with 400 code 20001 (Twilio's
 * docs name no dedicated code for this; 20001 is its "invalid parameter").
 * Without it, any well-formed SID is a channel and invites are not checked.
 */
import { errorAnswer, jsonAnswer, notFound } from './answers';
import type { RoutedRequest } from './routes';
import { isSid, newSid } from './sids';
import type { TaskRouterStore } from './taskrouter';
import type { Clock, Participant, ParticipantState, StandinResponse } from './types';

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
  refusesUnknown: boolean;
}

export interface ConversationSeed {
  interactionSid?: string;
  channelSid?: string;
  participants?: Participant[];
  /** The workspace the conversation's tasks belong to (recorded; an invite names its own). */
  workspaceSid?: string;
}

/**
 * What Twilio answers when a participant that was already closed is updated again. Twilio's docs do not say;
 * the stand-in answers 400 with Flex's code 45362 ("Failed to remove Participant. Not found.", whose page says
 * "The Participant may have already been removed").
 */
export const PARTICIPANT_ALREADY_CLOSED = { status: 400, code: 45362 } as const;

interface StoredInvite {
  sid: string;
  interactionSid: string;
  channelSid: string;
  /** As sent, plus what Twilio adds: the task's sid, assignment_status and date_created. */
  properties: Record<string, unknown>;
}

interface StoredChannel {
  interactionSid: string;
  channelSid: string;
  workspaceSid: string | undefined;
  participants: ParticipantState[];
  /** Oldest first. */
  invites: StoredInvite[];
}

type Invitation = { invite: InviteResource } | { refusal: string };

const channelKey = (interactionSid: string, channelSid: string) => `${interactionSid}/${channelSid}`;
const channelUrl = (interactionSid: string, channelSid: string) =>
  `https://flex-api.twilio.com/v1/Interactions/${interactionSid}/Channels/${channelSid}`;

const participantState = (participant: Participant): ParticipantState => ({
  sid: participant.sid,
  type: participant.type ?? 'agent',
  routing_properties: participant.routing_properties ?? null,
  status: 'active',
});

export class FlexStore {
  private readonly channels = new Map<string, StoredChannel>();
  private readonly forgotten = new Set<string>();

  constructor(
    private readonly tasks: TaskRouterStore,
    private readonly now: Clock,
    private readonly settings: () => FlexSettings,
    /** Told of every task an invite created through the API (the sandbox's auto-accept listens). */
    private readonly onInviteTask: (taskSid: string) => void,
  ) {}

  clear(): void {
    this.channels.clear();
    this.forgotten.clear();
  }

  /** Seeds an interaction with one channel (fresh SIDs unless given) and its participants. */
  addConversation(seed: ConversationSeed = {}): { interactionSid: string; channelSid: string } {
    const interactionSid = seed.interactionSid ?? newSid('KD');
    const channelSid = seed.channelSid ?? newSid('UO');
    const channel = this.channel(interactionSid, channelSid);
    if (seed.workspaceSid !== undefined) channel.workspaceSid = seed.workspaceSid;
    if (seed.participants) channel.participants = seed.participants.map(participantState);
    return { interactionSid, channelSid };
  }

  /** Replaces the channel's participants; the conversation comes to exist if it did not. */
  setParticipants(interactionSid: string, channelSid: string, participants: Participant[]): void {
    this.channel(interactionSid, channelSid).participants = participants.map(participantState);
  }

  /** The channel's participants with their status, or undefined for a channel that does not exist. */
  participants(interactionSid: string, channelSid: string): ParticipantState[] | undefined {
    return this.channels.get(channelKey(interactionSid, channelSid))?.participants.map((participant) => ({ ...participant }));
  }

  /** As Flex does when a worker accepts a reservation of the channel's task: the worker joins as an agent participant. */
  joinAsAgent(
    channel: { interactionSid: string; channelSid: string },
    agent: { workerSid: string; taskSid: string; workspaceSid: string },
  ): string {
    const sid = newSid('UT');
    this.channel(channel.interactionSid, channel.channelSid).participants.push({
      sid,
      type: 'agent',
      routing_properties: { workspace_sid: agent.workspaceSid, task_sid: agent.taskSid, worker_sid: agent.workerSid },
      status: 'active',
    });
    return sid;
  }

  forgetInteraction(interactionSid: string): void {
    this.forgotten.add(interactionSid);
    for (const [key, channel] of this.channels) if (channel.interactionSid === interactionSid) this.channels.delete(key);
  }

  /**
   * Seeds an invite exactly as a create request would make it (with its pending task, no events); throws what Twilio
   * would answer 400 for its shape. The workspace, workflow, queue and worker it names come to exist if unknown.
   */
  addInvite(interactionSid: string, channelSid: string, properties: Record<string, unknown>): InviteResource {
    this.channel(interactionSid, channelSid);
    const invitation = this.invite(interactionSid, channelSid, properties, { checkReferences: false, seeded: true });
    if ('refusal' in invitation) throw new Error(invitation.refusal);
    return invitation.invite;
  }

  answer(route: 'invite-create' | 'invite-list' | 'participant-list' | 'participant-update', request: RoutedRequest): StandinResponse {
    const { interactionSid, channelSid } = request.params;
    if (!isSid('KD', interactionSid) || !isSid('UO', channelSid) || this.forgotten.has(interactionSid)) return notFound();
    const { refusesUnknown } = this.settings();
    if (refusesUnknown && !this.channels.has(channelKey(interactionSid, channelSid))) return notFound();
    switch (route) {
      case 'invite-create':
        return this.create(interactionSid, channelSid, request.form.Routing, refusesUnknown);
      case 'invite-list':
        return this.listInvites(interactionSid, channelSid, request.query);
      case 'participant-list':
        return this.listParticipants(interactionSid, channelSid, request.query);
      case 'participant-update':
        return this.updateParticipant(interactionSid, channelSid, request.params.participantSid ?? '', request.form.Status);
    }
  }

  /** The channel, created when it does not exist yet (seeds, and lenient requests). */
  private channel(interactionSid: string, channelSid: string): StoredChannel {
    const key = channelKey(interactionSid, channelSid);
    let channel = this.channels.get(key);
    if (!channel) {
      channel = { interactionSid, channelSid, workspaceSid: undefined, participants: [], invites: [] };
      this.channels.set(key, channel);
      this.forgotten.delete(interactionSid);
    }
    return channel;
  }

  private create(interactionSid: string, channelSid: string, routingField: string | undefined, checkReferences: boolean): StandinResponse {
    const properties = parseRoutingProperties(routingField);
    if (!properties) return errorAnswer(400, 20001, 'Missing required parameter Routing');
    const invitation = this.invite(interactionSid, channelSid, properties, { checkReferences, seeded: false });
    if ('refusal' in invitation) return errorAnswer(400, 20001, invitation.refusal);
    this.onInviteTask(invitation.invite.routing.properties.sid as string);
    return jsonAnswer(201, invitation.invite);
  }

  private invite(
    interactionSid: string,
    channelSid: string,
    sent: Record<string, unknown>,
    how: { checkReferences: boolean; seeded: boolean },
  ): Invitation {
    const workspaceSid = typeof sent.workspace_sid === 'string' ? sent.workspace_sid : undefined;
    if (!isSid('WS', workspaceSid)) return { refusal: 'Invalid Routing: properties.workspace_sid must be a workspace SID' };
    const attributes = attributesObject(sent.attributes);
    if (!attributes) return { refusal: 'Invalid Routing: properties.attributes must be a JSON object' };
    const text = (name: string) => (typeof sent[name] === 'string' ? (sent[name] as string) : undefined);
    const number = (name: string) => (typeof sent[name] === 'number' ? (sent[name] as number) : undefined);
    const references = {
      workspaceSid,
      workflowSid: text('workflow_sid'),
      taskQueueSid: text('queue_sid'),
      workerSid: text('worker_sid'),
    };
    if (how.checkReferences) {
      const refusal = this.tasks.routingRefusal(references);
      if (refusal) return { refusal };
    }
    if (how.seeded) this.tasks.ensureNamed(references);

    const taskSid = this.tasks.createInviteTask(
      {
        ...references,
        attributes,
        taskChannelUniqueName: text('task_channel_unique_name'),
        priority: number('priority'),
        timeout: number('timeout'),
        channel: { interactionSid, channelSid },
      },
      { publish: !how.seeded },
    );
    const stored: StoredInvite = {
      sid: newSid('KG'),
      interactionSid,
      channelSid,
      // Twilio's Interactions examples give the dates inside routing.properties as epoch seconds.
      properties: { ...sent, sid: taskSid, assignment_status: 'pending', date_created: Math.floor(this.now() / 1000) },
    };
    this.channel(interactionSid, channelSid).invites.push(stored);
    return { invite: inviteResource(stored, stored.properties) };
  }

  private listInvites(interactionSid: string, channelSid: string, query: URLSearchParams): StandinResponse {
    const all = this.channels.get(channelKey(interactionSid, channelSid))?.invites ?? [];
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

  /**
   * Every participant, those closed included: Twilio does not document whether a participant who left stays listed,
   * and listing them keeps callers honest (they must look at the participant's task, as the contract says).
   * Twilio's participant resource has no status field, so none is listed.
   */
  private listParticipants(interactionSid: string, channelSid: string, query: URLSearchParams): StandinResponse {
    const all = this.channels.get(channelKey(interactionSid, channelSid))?.participants ?? [];
    const base = channelUrl(interactionSid, channelSid);
    const page = pageOf(all, query, this.settings().participantPageSize, `${base}/Participants`);
    const participants = page.items.map((participant) => participantResource(interactionSid, channelSid, participant));
    return jsonAnswer(200, { participants, meta: { ...page.meta, key: 'participants' } });
  }

  private updateParticipant(
    interactionSid: string,
    channelSid: string,
    participantSid: string,
    status: string | undefined,
  ): StandinResponse {
    if (status !== 'closed' && status !== 'wrapup') return errorAnswer(400, 20001, 'Invalid Status');
    const participant = this.channels
      .get(channelKey(interactionSid, channelSid))
      ?.participants.find((known) => known.sid === participantSid);
    if (!participant) return notFound();
    if (participant.status === 'closed') {
      return errorAnswer(
        PARTICIPANT_ALREADY_CLOSED.status,
        PARTICIPANT_ALREADY_CLOSED.code,
        `Failed to remove Participant ${participantSid} from Channel ${channelSid} because the Participant was not found (it was already closed)`,
      );
    }
    participant.status = status;
    // Flex moves the participant's task along: wrapup -> wrapping, closed -> completed.
    const taskSid = participant.routing_properties?.task_sid;
    if (typeof taskSid === 'string') this.tasks.participantLeft(taskSid, status);
    return jsonAnswer(200, participantResource(interactionSid, channelSid, participant));
  }
}

function participantResource(interactionSid: string, channelSid: string, participant: ParticipantState) {
  return {
    sid: participant.sid,
    type: participant.type,
    interaction_sid: interactionSid,
    channel_sid: channelSid,
    routing_properties: participant.routing_properties,
    url: `${channelUrl(interactionSid, channelSid)}/Participants/${participant.sid}`,
  };
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
