import type { Twilio } from 'twilio';
import type { Routing } from '../routing';
import type { ParticipantStatus } from '../transfer-request';
import type { UpstreamSession } from './upstream';

export interface ChannelRef {
  interactionSid: string;
  channelSid: string;
}

export interface CreatedInvite {
  inviteSid: string;
  /** The TaskRouter task Twilio created for the invite, when its answer says. */
  taskSid: string | null;
}

/** Pages to read at most when looking for the caller among a channel's participants. */
const MAX_PARTICIPANT_PAGES = 20;
const PARTICIPANT_PAGE_SIZE = 100;

function channel(client: Twilio, ref: ChannelRef) {
  return client.flexApi.v1.interaction(ref.interactionSid).channels(ref.channelSid);
}

function createdTaskSid(routing: unknown): string | null {
  const properties = (routing as { properties?: { sid?: unknown } } | null | undefined)?.properties;
  return typeof properties?.sid === 'string' && properties.sid !== '' ? properties.sid : null;
}

export async function createInvite(client: Twilio, upstream: UpstreamSession, ref: ChannelRef, routing: Routing): Promise<CreatedInvite> {
  const invite = await upstream.call('invite', () => channel(client, ref).invites.create({ routing }));
  return { inviteSid: invite.sid, taskSid: createdTaskSid(invite.routing) };
}

export async function setParticipantStatus(
  client: Twilio,
  upstream: UpstreamSession,
  ref: ChannelRef,
  participantSid: string,
  status: ParticipantStatus,
): Promise<void> {
  await upstream.call('participant-close', () => channel(client, ref).participants(participantSid).update({ status }));
}

/** The channel participant that the worker joined as (its routing properties name the worker), if any. */
export async function findParticipantOfWorker(
  client: Twilio,
  upstream: UpstreamSession,
  ref: ChannelRef,
  workerSid: string,
): Promise<string | undefined> {
  return upstream.call('participant-lookup', async () => {
    type ParticipantPage = {
      instances: { sid: string; routingProperties: unknown }[];
      nextPageUrl?: string;
      nextPage(): Promise<ParticipantPage> | undefined;
    };
    let page: ParticipantPage = await channel(client, ref).participants.page({ pageSize: PARTICIPANT_PAGE_SIZE });
    for (let pagesRead = 1; ; pagesRead += 1) {
      const match = page.instances.find(
        (participant) => (participant.routingProperties as { worker_sid?: unknown } | null | undefined)?.worker_sid === workerSid,
      );
      if (match) return match.sid;
      if (!page.nextPageUrl || pagesRead >= MAX_PARTICIPANT_PAGES) return undefined;
      const next = await page.nextPage();
      if (!next) return undefined;
      page = next;
    }
  });
}
