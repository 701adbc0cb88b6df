import { UpstreamMalformedAnswerError } from '../errors';
import { isSid } from '../value-formats';
import { nonEmptyString, plainObject } from '../untrusted-json';
import type { TwilioTransport } from './transport';

export interface ChannelRef {
  interactionSid: string;
  channelSid: string;
}

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

export interface CreatedInvite {
  inviteSid: string;
  /** The TaskRouter task Twilio created for the invite, when its answer says. */
  taskSid: string | null;
}

export interface ChannelParticipant {
  sid: string;
  type: string;
  workerSid: string | undefined;
  taskSid: string | undefined;
}

export interface ChannelInvite {
  inviteSid: string;
  taskSid: string | undefined;
  /** The new task's attributes as Twilio stored them (it answers them as a JSON string). */
  attributes: Record<string, unknown>;
  properties: Record<string, unknown>;
}

const PAGE_SIZE = 100;

interface Page<Instance> {
  instances: Instance[];
  nextPageUrl?: string;
  nextPage(): Promise<Page<Instance>> | undefined;
}

/** A list longer than this many pages is cut short (a next_page_url pointing back at itself would loop until the deadline). */
export const MAX_PAGES = 50;

/**
 * Every page, up to MAX_PAGES, on the host the list started on (the
 * transport refuses any other). A list cut short is said in the request's
 * log line.
 */
async function readAllPages<Instance>(transport: TwilioTransport, listName: string, first: Promise<Page<Instance>>): Promise<Instance[]> {
  let page = await first;
  const all = [...page.instances];
  for (let pages = 1; page.nextPageUrl; pages += 1) {
    if (pages >= MAX_PAGES) {
      transport.note(`the ${listName} list was cut short after ${MAX_PAGES} pages`);
      break;
    }
    const next = await page.nextPage();
    if (!next) break;
    page = next;
    all.push(...page.instances);
  }
  return all;
}

/** Attributes as Twilio returns them: an object, or a JSON string holding one. */
export function attributesObject(value: unknown): Record<string, unknown> {
  if (typeof value === 'string') {
    try {
      return plainObject(JSON.parse(value)) ?? {};
    } catch {
      return {};
    }
  }
  return plainObject(value) ?? {};
}

export async function createInvite(transport: TwilioTransport, ref: ChannelRef, routing: Routing): Promise<CreatedInvite> {
  const { value: invite } = await transport.call('invite-create', (client) =>
    client.flexApi.v1.interaction(ref.interactionSid).channels(ref.channelSid).invites.create({ routing }),
  );
  if (!isSid('invite', (invite as { sid?: unknown } | null)?.sid)) {
    throw new UpstreamMalformedAnswerError('invite-create', { detail: 'no invite SID in a success answer' });
  }
  const properties = plainObject(plainObject(invite.routing)?.properties);
  return { inviteSid: invite.sid, taskSid: nonEmptyString(properties?.sid) ?? null };
}

export async function setParticipantStatus(
  transport: TwilioTransport,
  ref: ChannelRef,
  participant: { sid: string; status: 'closed' | 'wrapup' },
): Promise<void> {
  await transport.call('participant-update', (client) =>
    client.flexApi.v1
      .interaction(ref.interactionSid)
      .channels(ref.channelSid)
      .participants(participant.sid)
      .update({ status: participant.status }),
  );
}

export async function listParticipants(transport: TwilioTransport, ref: ChannelRef): Promise<ChannelParticipant[]> {
  const { value } = await transport.call(
    'participant-list',
    (client) =>
      readAllPages(
        transport,
        'participant',
        client.flexApi.v1.interaction(ref.interactionSid).channels(ref.channelSid).participants.page({ pageSize: PAGE_SIZE }),
      ),
    { safeToRepeat: true },
  );
  return value.map((participant) => {
    const routing = plainObject(participant.routingProperties);
    return {
      sid: participant.sid,
      type: String(participant.type ?? ''),
      workerSid: nonEmptyString(routing?.worker_sid),
      taskSid: nonEmptyString(routing?.task_sid),
    };
  });
}

export async function listInvites(transport: TwilioTransport, ref: ChannelRef): Promise<ChannelInvite[]> {
  const { value } = await transport.call(
    'invite-list',
    (client) =>
      readAllPages(
        transport,
        'invite',
        client.flexApi.v1.interaction(ref.interactionSid).channels(ref.channelSid).invites.page({ pageSize: PAGE_SIZE }),
      ),
    { safeToRepeat: true },
  );
  return value.map((invite) => {
    const properties = plainObject(plainObject(invite.routing)?.properties) ?? {};
    return {
      inviteSid: invite.sid,
      taskSid: nonEmptyString(properties.sid),
      attributes: attributesObject(properties.attributes),
      properties,
    };
  });
}
