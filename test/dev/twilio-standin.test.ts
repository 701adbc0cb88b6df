/**
 * The Twilio stand-in itself: its routes answer as Twilio does, through the
 * in-process entry and through the HTTP server alike, and its faults fail the
 * way the network would.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateRequest } from 'twilio';
import { SANDBOX_ACCEPT_AFTER_MS, seedSandbox, simulateSandboxAgents } from '../../dev/sandbox-data';
import {
  type EventDeliveryRequest,
  httpEventDelivery,
  newSid,
  PARTICIPANT_ALREADY_CLOSED,
  REASONS,
  type StandinResponse,
  TwilioStandin,
} from '../../dev/twilio-standin';

const ACCOUNT_SID = 'AC' + 'a1'.repeat(16);
const AUTH_TOKEN = 'T0kenT0kenT0kenT0kenT0kenT0ken12';
const AUTHORIZATION = 'Basic ' + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64');

interface Answer {
  status: number;
  headers: Record<string, string>;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary Twilio bodies
}

interface SendOptions {
  form?: Record<string, string>;
  json?: unknown;
  headers?: Record<string, string>;
}

/** Sends one request to Twilio (an absolute https URL) through one of the stand-in's two entries. */
type Send = (method: string, url: string, options?: SendOptions) => Promise<Answer>;

function encode(options: SendOptions): { body: string; headers: Record<string, string> } {
  const headers: Record<string, string> = { authorization: AUTHORIZATION };
  let body = '';
  if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  } else if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  return { body, headers: { ...headers, ...options.headers } };
}

const parsed = (text: string): unknown => (text ? JSON.parse(text) : undefined);

const inProcess =
  (standin: TwilioStandin): Send =>
  async (method, url, options = {}) => {
    const { body, headers } = encode(options);
    const answer: StandinResponse = await standin.handle({ method, url, headers, body });
    return { status: answer.status, headers: answer.headers, json: parsed(answer.body) };
  };

/** As the redirect preload sends it: plain HTTP to the stand-in, the Twilio host in x-standin-original-host. */
const overHttp =
  (standin: TwilioStandin): Send =>
  async (method, url, options = {}) => {
    const { body, headers } = encode(options);
    const target = new URL(url);
    const response = await fetch(standin.url + target.pathname + target.search, {
      method,
      headers: { ...headers, 'x-standin-original-host': target.hostname },
      body: body || undefined,
    });
    return { status: response.status, headers: Object.fromEntries(response.headers), json: parsed(await response.text()) };
  };

const standin = new TwilioStandin(ACCOUNT_SID, AUTH_TOKEN);
beforeAll(() => standin.start());
afterAll(() => standin.stop());
beforeEach(() => standin.reset());

test('listens on the loopback interface only', () => {
  expect(standin.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
});

describe.each([
  ['handle()', inProcess],
  ['HTTP', overHttp],
])('through %s', (_entry, entry) => {
  const send = (method: string, url: string, options?: SendOptions) => entry(standin)(method, url, options);
  const workspaceSid = 'WS' + 'b2'.repeat(16);

  describe('auth and unknown paths', () => {
    test('wrong credentials: 401 code 20003, and the request is still recorded', async () => {
      const url = `https://flex-api.twilio.com/v1/Interactions/${newSid('KD')}/Channels/${newSid('UO')}/Invites`;
      const answer = await send('GET', url, {
        headers: { authorization: 'Basic ' + Buffer.from(`${ACCOUNT_SID}:wrong`).toString('base64') },
      });
      expect(answer.status).toBe(401);
      expect(answer.json).toMatchObject({ code: 20003, status: 401 });
      expect(standin.requestsTo('invite-list')).toHaveLength(1);
    });

    test('unknown path: 404 code 20404; known path, wrong method: 405', async () => {
      expect((await send('GET', 'https://flex-api.twilio.com/v1/Nothing')).json).toMatchObject({ status: 404, code: 20404 });
      const task = `https://taskrouter.twilio.com/v1/Workspaces/${workspaceSid}/Tasks/${newSid('WT')}`;
      expect((await send('DELETE', task)).status).toBe(405);
      expect(standin.requests.map((request) => request.route)).toEqual(['unknown', 'unknown']);
    });
  });

  describe('invites', () => {
    const interactionSid = newSid('KD');
    const channelSid = newSid('UO');
    const invitesUrl = `https://flex-api.twilio.com/v1/Interactions/${interactionSid}/Channels/${channelSid}/Invites`;
    const queueSid = newSid('WQ');
    beforeEach(() => {
      standin.addWorkspace({ sid: workspaceSid });
      standin.addConversation({ interactionSid, channelSid });
      standin.addQueue({ workspaceSid, sid: queueSid });
    });
    const routing = (n: number) => ({
      properties: {
        workspace_sid: workspaceSid,
        queue_sid: queueSid,
        task_channel_unique_name: 'chat',
        attributes: { transferType: 'warm', n, conversations: { conversation_id: 'WT1' } },
      },
    });
    const createInvite = (n: number) => send('POST', invitesUrl, { form: { Routing: JSON.stringify(routing(n)) } });

    test('create answers the attributes as sent and creates the pending task', async () => {
      const created = await createInvite(1);
      expect(created.status).toBe(201);
      expect(created.json.sid).toMatch(/^KG[0-9a-f]{32}$/);
      const properties = created.json.routing.properties;
      expect(properties).toMatchObject({ ...routing(1).properties, assignment_status: 'pending' });
      expect(properties.attributes).toEqual(routing(1).properties.attributes);
      expect(properties.sid).toMatch(/^WT[0-9a-f]{32}$/);
      expect(standin.task(properties.sid)).toMatchObject({
        workspace_sid: workspaceSid,
        task_queue_sid: queueSid,
        task_channel_unique_name: 'chat',
        assignment_status: 'pending',
        attributes: JSON.stringify(routing(1).properties.attributes),
      });
      expect(standin.requestsTo('invite-create')[0]?.routing).toEqual(routing(1));
    });

    test('list answers every invite of the channel, oldest first, attributes as a JSON string, in pages', async () => {
      standin.invitePageSize = 2;
      const created = [await createInvite(1), await createInvite(2), await createInvite(3)];
      const first = await send('GET', invitesUrl);
      expect(first.status).toBe(200);
      expect(first.json.meta).toMatchObject({ page: 0, page_size: 2, key: 'invites', previous_page_url: null });
      expect(first.json.invites.map((invite: { sid: string }) => invite.sid)).toEqual([created[0]?.json.sid, created[1]?.json.sid]);
      const listed = first.json.invites[0].routing.properties;
      expect(typeof listed.attributes).toBe('string');
      expect(JSON.parse(listed.attributes)).toEqual(routing(1).properties.attributes);
      expect(listed.sid).toBe(created[0]?.json.routing.properties.sid);
      // Epoch seconds, as Twilio's Interactions examples show the dates inside routing properties.
      expect(Number.isInteger(listed.date_created)).toBe(true);
      expect(Math.abs(listed.date_created * 1000 - Date.now())).toBeLessThan(60 * 60_000);

      const second = await send('GET', first.json.meta.next_page_url);
      expect(second.json.invites.map((invite: { sid: string }) => invite.sid)).toEqual([created[2]?.json.sid]);
      expect(second.json.meta).toMatchObject({ page: 1, next_page_url: null });
    });

    test('a channel without invites lists none; a forgotten interaction is 404', async () => {
      expect((await send('GET', invitesUrl)).json.invites).toEqual([]);
      standin.forgetInteraction(interactionSid);
      expect((await send('GET', invitesUrl)).status).toBe(404);
    });

    test('seeded invites are listed like created ones', async () => {
      const seeded = standin.addInvite(interactionSid, channelSid, routing(7).properties);
      const listed = await send('GET', invitesUrl);
      expect(listed.json.invites).toHaveLength(1);
      expect(listed.json.invites[0].sid).toBe(seeded.sid);
      expect(standin.task(seeded.routing.properties.sid as string)?.assignment_status).toBe('pending');
    });
  });

  describe('tasks', () => {
    const taskUrl = (sid: string, workspace = workspaceSid) => `https://taskrouter.twilio.com/v1/Workspaces/${workspace}/Tasks/${sid}`;

    test('fetch: the task with an ETag; another workspace or an unknown task: 404', async () => {
      const sid = standin.addTask({ workspaceSid, attributes: { name: 'Ada' }, taskChannelUniqueName: 'chat' });
      const fetched = await send('GET', taskUrl(sid));
      expect(fetched.status).toBe(200);
      expect(fetched.json).toMatchObject({ sid, workspace_sid: workspaceSid, assignment_status: 'pending', attributes: '{"name":"Ada"}' });
      expect(fetched.headers.etag).toBe(standin.taskETag(sid));
      expect((await send('GET', taskUrl(sid, newSid('WS')))).json).toMatchObject({ status: 404, code: 20404 });
      expect((await send('GET', taskUrl(newSid('WT')))).status).toBe(404);
    });

    test('update with a matching If-Match succeeds and changes the ETag; a stale one is 412', async () => {
      const sid = standin.addTask({ workspaceSid, assignmentStatus: 'reserved' });
      const etag = (await send('GET', taskUrl(sid))).headers.etag ?? '';
      const canceled = await send('POST', taskUrl(sid), {
        form: { AssignmentStatus: 'canceled', Reason: 'Transfer canceled' },
        headers: { 'if-match': etag },
      });
      expect(canceled.status).toBe(200);
      expect(canceled.json).toMatchObject({ assignment_status: 'canceled', reason: 'Transfer canceled' });
      expect(canceled.headers.etag).not.toBe(etag);

      const stale = await send('POST', taskUrl(sid), { form: { Priority: '3' }, headers: { 'if-match': etag } });
      expect(stale.status).toBe(412);
      expect(standin.task(sid)?.priority).toBe(0);
    });

    test('an acceptance in between makes the ETag stale; canceling an accepted task is 400', async () => {
      const sid = standin.addTask({ workspaceSid });
      const etag = (await send('GET', taskUrl(sid))).headers.etag ?? '';
      standin.setTaskStatus(sid, 'assigned');
      const form = { AssignmentStatus: 'canceled', Reason: 'Transfer canceled' };
      expect((await send('POST', taskUrl(sid), { form, headers: { 'if-match': etag } })).status).toBe(412);
      const refused = await send('POST', taskUrl(sid), { form });
      expect(refused.status).toBe(400);
      expect(refused.json).toMatchObject({ code: 20001, message: expect.stringMatching(/^Cannot cancel task/) });
      expect(standin.task(sid)?.assignment_status).toBe('assigned');
    });

    test('canceling needs a Reason', async () => {
      const sid = standin.addTask({ workspaceSid });
      const answer = await send('POST', taskUrl(sid), { form: { AssignmentStatus: 'canceled' } });
      expect(answer.status).toBe(400);
      expect(answer.json.code).toBe(20001);
      expect(standin.task(sid)?.assignment_status).toBe('pending');
    });
  });

  describe('what exists and what does not', () => {
    const invitesUrl = (interactionSid: string, channelSid: string) =>
      `https://flex-api.twilio.com/v1/Interactions/${interactionSid}/Channels/${channelSid}/Invites`;
    const participantsUrl = (interactionSid: string, channelSid: string) =>
      `https://flex-api.twilio.com/v1/Interactions/${interactionSid}/Channels/${channelSid}/Participants`;
    const routingForm = (properties: Record<string, unknown>) => ({ Routing: JSON.stringify({ properties }) });

    test('an interaction or channel nobody seeded: 404 code 20404 for invites, the invite list and participants', async () => {
      const { interactionSid, channelSid } = standin.addConversation({ workspaceSid });
      const queueSid = standin.addQueue({ workspaceSid });
      const properties = { workspace_sid: workspaceSid, queue_sid: queueSid };
      const unknown: [string, string][] = [
        [newSid('KD'), channelSid],
        [interactionSid, newSid('UO')],
      ];
      for (const [interaction, channel] of unknown) {
        for (const answer of [
          await send('POST', invitesUrl(interaction, channel), { form: routingForm(properties) }),
          await send('GET', invitesUrl(interaction, channel)),
          await send('GET', participantsUrl(interaction, channel)),
          await send('POST', `${participantsUrl(interaction, channel)}/${newSid('UT')}`, { form: { Status: 'closed' } }),
        ]) {
          expect(answer.status).toBe(404);
          expect(answer.json).toMatchObject({ code: 20404, status: 404 });
        }
      }
      expect((await send('POST', invitesUrl(interactionSid, channelSid), { form: routingForm(properties) })).status).toBe(201);
    });

    test('setParticipants makes the conversation exist (old seeds keep working)', async () => {
      const [interactionSid, channelSid] = [newSid('KD'), newSid('UO')];
      expect((await send('GET', participantsUrl(interactionSid, channelSid))).status).toBe(404);
      standin.setParticipants(interactionSid, channelSid, [{ sid: newSid('UT'), type: 'customer' }]);
      const listed = await send('GET', participantsUrl(interactionSid, channelSid));
      expect(listed.status).toBe(200);
      expect(listed.json.participants).toHaveLength(1);
    });

    test.each([
      ['workspace', (): Record<string, unknown> => ({ workspace_sid: newSid('WS') }), /workspace WS[0-9a-f]{32} was not found/],
      ['workflow', (): Record<string, unknown> => ({ workspace_sid: workspaceSid, workflow_sid: newSid('WW') }), /workflow WW/],
      ['queue', (): Record<string, unknown> => ({ workspace_sid: workspaceSid, queue_sid: newSid('WQ') }), /queue WQ/],
      ['worker', (): Record<string, unknown> => ({ workspace_sid: workspaceSid, worker_sid: newSid('WK') }), /worker WK/],
    ])('an invite naming an unknown %s: 400 code 20001 naming it, and no task is created', async (_kind, properties, message) => {
      standin.addWorkspace({ sid: workspaceSid });
      const { interactionSid, channelSid } = standin.addConversation();
      const answer = await send('POST', invitesUrl(interactionSid, channelSid), { form: routingForm(properties()) });
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ code: 20001, status: 400, message: expect.stringMatching(message) });
      expect((await send('GET', invitesUrl(interactionSid, channelSid))).json.invites).toEqual([]);
    });

    test('a workflow, queue or worker of another workspace is unknown to this one', async () => {
      standin.addWorkspace({ sid: workspaceSid });
      const otherWorkspace = standin.addWorkspace();
      const { interactionSid, channelSid } = standin.addConversation();
      const properties = { workspace_sid: workspaceSid, queue_sid: standin.addQueue({ workspaceSid: otherWorkspace }) };
      expect((await send('POST', invitesUrl(interactionSid, channelSid), { form: routingForm(properties) })).status).toBe(400);
    });

    test('refusesUnknown = false: any well-formed SID is a channel, and routing is not checked (the old leniency)', async () => {
      standin.refusesUnknown = false;
      const [interactionSid, channelSid] = [newSid('KD'), newSid('UO')];
      const properties = { workspace_sid: newSid('WS'), workflow_sid: newSid('WW'), queue_sid: newSid('WQ'), worker_sid: newSid('WK') };
      const created = await send('POST', invitesUrl(interactionSid, channelSid), { form: routingForm(properties) });
      expect(created.status).toBe(201);
      expect((await send('GET', participantsUrl(newSid('KD'), newSid('UO')))).status).toBe(200);
      standin.reset();
      expect(standin.refusesUnknown).toBe(true);
    });
  });

  describe('workspaces and workflows', () => {
    const workspaceUrl = (sid: string) => `https://taskrouter.twilio.com/v1/Workspaces/${sid}`;

    test('fetch: the workspace as TaskRouter answers it, no callback unless set; an unknown one is 404', async () => {
      standin.addWorkspace({ sid: workspaceSid, friendlyName: 'Flex Task Assignment' });
      const fetched = await send('GET', workspaceUrl(workspaceSid));
      expect(fetched.status).toBe(200);
      expect(fetched.json).toMatchObject({
        sid: workspaceSid,
        account_sid: ACCOUNT_SID,
        friendly_name: 'Flex Task Assignment',
        event_callback_url: '',
        events_filter: null,
        multi_task_enabled: true,
        url: workspaceUrl(workspaceSid),
      });
      expect((await send('GET', workspaceUrl(newSid('WS')))).json).toMatchObject({ status: 404, code: 20404 });
    });

    test('update: EventCallbackUrl and EventsFilter are recorded and answered; an empty value clears them', async () => {
      standin.addWorkspace({ sid: workspaceSid });
      const callback = 'https://example.twil.io/transfer-events';
      const filter = 'reservation.accepted,task.canceled,task.deleted,workflow.timeout';
      const updated = await send('POST', workspaceUrl(workspaceSid), { form: { EventCallbackUrl: callback, EventsFilter: filter } });
      expect(updated.status).toBe(200);
      expect(updated.json).toMatchObject({ event_callback_url: callback, events_filter: filter });
      expect(standin.workspace(workspaceSid)).toMatchObject({ eventCallbackUrl: callback, eventsFilter: filter });
      expect((await send('GET', workspaceUrl(workspaceSid))).json).toMatchObject({ event_callback_url: callback, events_filter: filter });
      expect(standin.requestsTo('workspace-update')[0]?.form).toEqual({ EventCallbackUrl: callback, EventsFilter: filter });

      await send('POST', workspaceUrl(workspaceSid), { form: { EventCallbackUrl: '', EventsFilter: '' } });
      expect(standin.workspace(workspaceSid)).toMatchObject({ eventCallbackUrl: '', eventsFilter: null });
    });

    test('update: a callback that is not an http(s) URL is 400 and changes nothing; an unknown workspace is 404', async () => {
      standin.addWorkspace({ sid: workspaceSid, eventCallbackUrl: 'https://kept.example/events' });
      const refused = await send('POST', workspaceUrl(workspaceSid), { form: { EventCallbackUrl: 'ftp://example.com/x' } });
      expect(refused.status).toBe(400);
      expect(standin.workspace(workspaceSid)?.eventCallbackUrl).toBe('https://kept.example/events');
      expect((await send('POST', workspaceUrl(newSid('WS')), { form: { EventsFilter: 'task.created' } })).status).toBe(404);
    });

    test('workflow fetch: its configuration as a JSON string; another workspace or an unknown workflow is 404', async () => {
      standin.addWorkspace({ sid: workspaceSid });
      const configuration = {
        task_routing: { filters: [{ expression: '1==1', targets: [{ queue: newSid('WQ'), known_worker_sid: 'task.transferTargetSid' }] }] },
      };
      const workflowSid = standin.addWorkflow({ workspaceSid, friendlyName: 'Transfers', configuration });
      const fetched = await send('GET', `${workspaceUrl(workspaceSid)}/Workflows/${workflowSid}`);
      expect(fetched.status).toBe(200);
      expect(fetched.json).toMatchObject({
        sid: workflowSid,
        workspace_sid: workspaceSid,
        friendly_name: 'Transfers',
        task_reservation_timeout: 120,
      });
      expect(typeof fetched.json.configuration).toBe('string');
      expect(JSON.parse(fetched.json.configuration)).toEqual(configuration);

      const elsewhere = standin.addWorkspace();
      expect((await send('GET', `${workspaceUrl(elsewhere)}/Workflows/${workflowSid}`)).status).toBe(404);
      expect((await send('GET', `${workspaceUrl(workspaceSid)}/Workflows/${newSid('WW')}`)).json).toMatchObject({ code: 20404 });
    });
  });

  describe('participants', () => {
    const participantUrl = (channel: { interactionSid: string; channelSid: string }, sid: string) =>
      `https://flex-api.twilio.com/v1/Interactions/${channel.interactionSid}/Channels/${channel.channelSid}/Participants/${sid}`;

    test('closing: 200 with the participant (Twilio has no status field), still listed; closing it again is 400 code 45362', async () => {
      const agentSid = newSid('UT');
      const channel = standin.addConversation({ participants: [{ sid: newSid('UT'), type: 'customer' }, { sid: agentSid }] });
      const closed = await send('POST', participantUrl(channel, agentSid), { form: { Status: 'closed' } });
      expect(closed.status).toBe(200);
      expect(closed.json).toEqual({
        sid: agentSid,
        type: 'agent',
        interaction_sid: channel.interactionSid,
        channel_sid: channel.channelSid,
        routing_properties: null,
        url: participantUrl(channel, agentSid),
      });
      expect(standin.participants(channel.interactionSid, channel.channelSid)?.map((participant) => participant.status)).toEqual([
        'active',
        'closed',
      ]);
      const again = await send('POST', participantUrl(channel, agentSid), { form: { Status: 'closed' } });
      expect(again.status).toBe(PARTICIPANT_ALREADY_CLOSED.status);
      expect(again.json).toMatchObject({ status: 400, code: 45362 });
      expect((await send('POST', participantUrl(channel, agentSid), { form: { Status: 'wrapup' } })).json.code).toBe(45362);
    });

    test("wrapup then closed moves the participant's task to wrapping, then completed", async () => {
      standin.addWorkspace({ sid: workspaceSid });
      const taskSid = standin.addTask({ workspaceSid, assignmentStatus: 'assigned' });
      const agentSid = newSid('UT');
      const channel = standin.addConversation({
        participants: [{ sid: agentSid, routing_properties: { worker_sid: newSid('WK'), task_sid: taskSid } }],
      });
      expect((await send('POST', participantUrl(channel, agentSid), { form: { Status: 'wrapup' } })).status).toBe(200);
      expect(standin.task(taskSid)?.assignment_status).toBe('wrapping');
      expect((await send('POST', participantUrl(channel, agentSid), { form: { Status: 'closed' } })).status).toBe(200);
      expect(standin.task(taskSid)).toMatchObject({ assignment_status: 'completed', reason: REASONS.participantClosed });
    });

    test('an unknown participant is 404; a status other than closed or wrapup is 400', async () => {
      const agentSid = newSid('UT');
      const channel = standin.addConversation({ participants: [{ sid: agentSid }] });
      expect((await send('POST', participantUrl(channel, newSid('UT')), { form: { Status: 'closed' } })).status).toBe(404);
      expect((await send('POST', participantUrl(channel, agentSid), { form: { Status: 'active' } })).status).toBe(400);
    });
  });

  describe('sync documents', () => {
    const documents = (service = 'default') => `https://sync.twilio.com/v1/Services/${service}/Documents`;

    test('create, duplicate 409, fetch by unique name and SID, update with If-Match, delete', async () => {
      const created = await send('POST', documents(), { form: { UniqueName: 'key-1', Data: '{"state":"running"}', Ttl: '60' } });
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({
        unique_name: 'key-1',
        service_sid: standin.syncDefaultServiceSid,
        account_sid: ACCOUNT_SID,
        revision: '0',
        data: { state: 'running' },
        created_by: 'system',
      });
      expect(created.json.sid).toMatch(/^ET[0-9a-f]{32}$/);
      expect(created.json.date_expires).not.toBeNull();
      expect(created.headers.etag).toBe('0');

      const duplicate = await send('POST', documents(standin.syncDefaultServiceSid), { form: { UniqueName: 'key-1', Data: '{}' } });
      expect(duplicate.status).toBe(409);
      expect(duplicate.json.code).toBe(54301);

      expect((await send('GET', `${documents()}/key-1`)).json.sid).toBe(created.json.sid);
      const bySid = `${documents()}/${created.json.sid}`;
      expect((await send('GET', bySid)).json.data).toEqual({ state: 'running' });

      const stale = await send('POST', bySid, { form: { Data: '{"state":"done"}' }, headers: { 'if-match': '7' } });
      expect(stale.status).toBe(412);
      expect(stale.json.code).toBe(54103);
      const updated = await send('POST', bySid, { form: { Data: '{"state":"done"}' }, headers: { 'if-match': '0' } });
      expect(updated.status).toBe(200);
      expect(updated.json).toMatchObject({ revision: '1', data: { state: 'done' } });

      expect((await send('DELETE', bySid)).status).toBe(204);
      expect((await send('GET', bySid)).json).toMatchObject({ status: 404, code: 54100 });
      expect((await send('DELETE', bySid)).status).toBe(404);
    });

    test('a document past its TTL on the stand-in clock is gone, and its unique name free again', async () => {
      let clock = Date.parse('2030-01-01T00:00:00Z');
      standin.now = () => clock;
      const created = await send('POST', documents(), { form: { UniqueName: 'key-ttl', Data: '{}', Ttl: '60' } });
      expect(created.json.date_expires).toBe('2030-01-01T00:01:00Z');
      clock += 59_000;
      expect((await send('GET', `${documents()}/key-ttl`)).status).toBe(200);
      clock += 1_000;
      expect((await send('GET', `${documents()}/key-ttl`)).status).toBe(404);
      expect((await send('POST', documents(), { form: { UniqueName: 'key-ttl', Data: '{}' } })).status).toBe(201);
    });

    test('other services are separate; a service that is not an IS SID is 404', async () => {
      await send('POST', documents(), { form: { UniqueName: 'shared-name' } });
      expect((await send('POST', documents(newSid('IS')), { form: { UniqueName: 'shared-name' } })).status).toBe(201);
      expect((await send('GET', `${documents('nope')}/shared-name`)).status).toBe(404);
    });
  });
});

describe('faults in-process', () => {
  const tokenUrl = `https://iam.twilio.com/v1/Accounts/${ACCOUNT_SID}/Tokens/validate`;
  const validation = (token = 'unknown') => ({
    method: 'POST',
    url: tokenUrl,
    headers: { authorization: AUTHORIZATION, 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });

  test('hang never answers, and rejects with ECONNABORTED when the signal aborts', async () => {
    standin.script('token-validate', { hang: true });
    const controller = new AbortController();
    const pending = standin.handle(validation(), controller.signal);
    let settled = false;
    void pending.then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(false);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ECONNABORTED' });
    expect(standin.requestsTo('token-validate')[0]?.fault).toEqual({ hang: true });
  });

  test('reset rejects with ECONNRESET after the request was received', async () => {
    standin.script('token-validate', { reset: true });
    await expect(standin.handle(validation())).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(standin.requestsTo('token-validate')[0]?.json).toEqual({ token: 'unknown' });
  });

  test('refuse rejects with ECONNREFUSED at once; the attempt is recorded without its body', async () => {
    standin.latencyMs = 5_000;
    standin.script('token-validate', { refuse: true });
    await expect(standin.handle(validation())).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(standin.requestsTo('token-validate')[0]).toMatchObject({ rawBody: '', fault: { refuse: true } });
  });

  test('a scripted status answers once, after its delay; then the normal answer resumes', async () => {
    standin.grantToken('granted', { worker_sid: newSid('WK'), roles: ['agent'] });
    standin.script('token-validate', { status: 429, headers: { 'Retry-After': '1' }, delayMs: 30 });
    const startedAt = Date.now();
    const limited = await standin.handle(validation('granted'));
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(25);
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    expect(JSON.parse(limited.body)).toMatchObject({ code: 20429, status: 429 });
    const valid = await standin.handle(validation('granted'));
    expect(JSON.parse(valid.body)).toMatchObject({ valid: true, roles: ['agent'] });
  });

  test('latency applies in-process too and is cut short by an abort', async () => {
    standin.latencyMs = 10_000;
    await expect(standin.handle(validation(), AbortSignal.timeout(30))).rejects.toMatchObject({ code: 'ECONNABORTED' });
  });
});

describe('faults over HTTP', () => {
  const flexUrl = () => {
    const { interactionSid, channelSid } = standin.addConversation();
    return `${standin.url}/v1/Interactions/${interactionSid}/Channels/${channelSid}/Participants`;
  };
  const headers = { authorization: AUTHORIZATION, 'x-standin-original-host': 'flex-api.twilio.com' };

  test.each([[{ reset: true as const }], [{ refuse: true as const }]])('%j drops the connection', async (fault) => {
    standin.script('participant-list', fault);
    await expect(fetch(flexUrl(), { headers })).rejects.toThrow();
    expect(standin.requestsTo('participant-list')[0]?.fault).toEqual(fault);
  });

  test('hang keeps the request open until the client gives up', async () => {
    standin.script('participant-list', { hang: true });
    await expect(fetch(flexUrl(), { headers, signal: AbortSignal.timeout(100) })).rejects.toThrow();
    const answer = await fetch(flexUrl(), { headers });
    expect(answer.status).toBe(200);
    expect(standin.requestsTo('participant-list')[1]?.connection).toBeGreaterThan(0);
  });
});

describe('the TaskRouter lifecycle and its events', () => {
  const workspaceSid = 'WS' + 'd4'.repeat(16);
  const CALLBACK = 'http://localhost:3001/transfer-events';
  const send = inProcess(standin);
  let received: EventDeliveryRequest[] = [];

  beforeEach(() => {
    received = [];
    standin.eventRetryDelayMs = 0;
    standin.eventDelivery = async (request) => {
      received.push(request);
      return { status: 204 };
    };
    standin.addWorkspace({ sid: workspaceSid, friendlyName: 'Flex Task Assignment', eventCallbackUrl: CALLBACK });
  });

  const types = (requests: EventDeliveryRequest[] = received) => requests.map((request) => request.form.EventType);
  const eventOf = (eventType: string) => received.find((request) => request.form.EventType === eventType);
  const signedByTwilio = (request: EventDeliveryRequest | undefined, authToken = AUTH_TOKEN) =>
    request !== undefined && validateRequest(authToken, request.headers['x-twilio-signature'] ?? '', request.url, request.form);

  /** An invite created through the API, as the functions create one; returns its task and channel. */
  async function invite(properties: Record<string, unknown>, channel = standin.addConversation({ workspaceSid })) {
    const url = `https://flex-api.twilio.com/v1/Interactions/${channel.interactionSid}/Channels/${channel.channelSid}/Invites`;
    const answer = await send('POST', url, {
      form: { Routing: JSON.stringify({ properties: { workspace_sid: workspaceSid, ...properties } }) },
    });
    expect(answer.status).toBe(201);
    return { taskSid: answer.json.routing.properties.sid as string, channel };
  }

  /** A workflow-routed agent transfer (known-agent routing on transferTargetSid), as v3 invites. */
  async function workflowInvite(targetWorkerSid: string, extra: Record<string, unknown> = {}) {
    const workflowSid = standin.addWorkflow({ workspaceSid, friendlyName: 'Transfers' });
    const attributes = { transferTargetType: 'worker', transferTargetSid: targetWorkerSid, ...extra };
    return { workflowSid, ...(await invite({ workflow_sid: workflowSid, task_channel_unique_name: 'chat', attributes })) };
  }

  async function participantsOf(channel: { interactionSid: string; channelSid: string }) {
    const url = `https://flex-api.twilio.com/v1/Interactions/${channel.interactionSid}/Channels/${channel.channelSid}/Participants`;
    return (await send('GET', url)).json.participants as { sid: string; type: string; routing_properties: unknown }[];
  }

  test("an invite's task: task.created and workflow.entered, posted after the API answer, signed, with TaskRouter's fields", async () => {
    const at = Date.parse('2030-01-01T00:00:00Z');
    standin.now = () => at;
    const workflowSid = standin.addWorkflow({ workspaceSid, friendlyName: 'Transfers' });
    const queueSid = standin.addQueue({ workspaceSid, friendlyName: 'Support' });
    const attributes = { transferTargetType: 'queue', transferTargetSid: queueSid };
    const { taskSid } = await invite({
      workflow_sid: workflowSid,
      queue_sid: queueSid,
      task_channel_unique_name: 'chat',
      priority: 3,
      attributes,
    });
    expect(received).toEqual([]); // not before the answer

    await standin.eventsSettled();
    expect(types()).toEqual(['task.created', 'workflow.entered']);
    expect(eventOf('task.created')?.form).toEqual({
      EventType: 'task.created',
      AccountSid: ACCOUNT_SID,
      WorkspaceSid: workspaceSid,
      WorkspaceName: 'Flex Task Assignment',
      EventDescription: expect.stringContaining(taskSid),
      ResourceType: 'task',
      ResourceSid: taskSid,
      Timestamp: String(at / 1000),
      TaskSid: taskSid,
      TaskAttributes: JSON.stringify(attributes),
      TaskAge: '0',
      TaskPriority: '3',
      TaskAssignmentStatus: 'pending',
      TaskChannelSid: expect.stringMatching(/^TC[0-9a-f]{32}$/),
      TaskChannelUniqueName: 'chat',
    });
    expect(eventOf('workflow.entered')?.form).toMatchObject({
      ResourceType: 'workflow',
      ResourceSid: workflowSid,
      WorkflowName: 'Transfers',
    });
    for (const request of received) {
      expect(request.url).toBe(CALLBACK);
      expect(request.headers).toMatchObject({
        'content-type': 'application/x-www-form-urlencoded',
        'i-twilio-idempotency-token': expect.stringMatching(/\S{16,}/),
      });
      expect(signedByTwilio(request)).toBe(true);
      expect(signedByTwilio(request, 'another-auth-token-another-token')).toBe(false);
    }
    expect(standin.deliveredEvents).toEqual([
      expect.objectContaining({ eventType: 'task.created', taskSid, reservationSid: undefined, url: CALLBACK, status: 204, attempt: 1 }),
      expect.objectContaining({ eventType: 'workflow.entered', taskSid, status: 204, attempt: 1 }),
    ]);
  });

  test('reserve, then accept: the task reserved, then assigned; the worker joins the channel as an agent, as in Flex', async () => {
    const workerSid = standin.addWorker({ workspaceSid, friendlyName: 'Alice' });
    const { taskSid, channel, workflowSid } = await workflowInvite(workerSid);

    const reservationSid = standin.reserve(taskSid, workerSid);
    expect(reservationSid).toMatch(/^WR[0-9a-f]{32}$/);
    expect(standin.task(taskSid)?.assignment_status).toBe('reserved');
    expect(standin.reservation(reservationSid)).toMatchObject({ taskSid, workerSid, status: 'pending' });

    const participantSid = standin.acceptReservation(reservationSid);
    expect(standin.task(taskSid)?.assignment_status).toBe('assigned');
    expect(standin.reservation(reservationSid)?.status).toBe('accepted');
    expect(await participantsOf(channel)).toEqual([
      expect.objectContaining({
        sid: participantSid,
        type: 'agent',
        routing_properties: { workspace_sid: workspaceSid, task_sid: taskSid, worker_sid: workerSid },
      }),
    ]);

    await standin.eventsSettled();
    expect(types()).toEqual(['task.created', 'workflow.entered', 'reservation.created', 'reservation.accepted']);
    const accepted = eventOf('reservation.accepted');
    expect(accepted?.form).toMatchObject({
      ResourceType: 'reservation',
      ResourceSid: reservationSid,
      ReservationSid: reservationSid,
      WorkerSid: workerSid,
      WorkerName: 'Alice',
      WorkflowSid: workflowSid,
      TaskSid: taskSid,
      TaskAssignmentStatus: 'assigned',
    });
    expect(signedByTwilio(accepted)).toBe(true);
    expect(standin.deliveredEvents.at(-1)).toMatchObject({ eventType: 'reservation.accepted', reservationSid, workerSid });
  });

  test('a declined workflow-routed task goes back to pending for the next step: nothing canceled', async () => {
    const [known, other] = [standin.addWorker({ workspaceSid }), standin.addWorker({ workspaceSid })];
    const { taskSid } = await workflowInvite(known);
    const declined = standin.reserve(taskSid, known);
    standin.rejectReservation(declined);
    expect(standin.reservation(declined)?.status).toBe('rejected');
    expect(standin.task(taskSid)?.assignment_status).toBe('pending');

    standin.acceptReservation(standin.reserve(taskSid, other));
    expect(standin.task(taskSid)?.assignment_status).toBe('assigned');
    await standin.eventsSettled();
    expect(types()).toEqual([
      'task.created',
      'workflow.entered',
      'reservation.created',
      'reservation.rejected',
      'reservation.created',
      'reservation.accepted',
    ]);
    expect(eventOf('reservation.rejected')?.form).toMatchObject({ WorkerSid: known, TaskAssignmentStatus: 'pending' });
  });

  test('a declined direct (worker_sid) invite cancels its task, and the conversation is left without that agent', async () => {
    const workerSid = standin.addWorker({ workspaceSid });
    const queueSid = standin.addQueue({ workspaceSid });
    const customer = { sid: newSid('UT'), type: 'customer' };
    const { taskSid, channel } = await invite(
      { worker_sid: workerSid, queue_sid: queueSid, attributes: { transferTargetType: 'worker' } },
      standin.addConversation({ workspaceSid, participants: [customer] }),
    );
    standin.rejectReservation(standin.reserve(taskSid, workerSid));
    expect(standin.task(taskSid)).toMatchObject({ assignment_status: 'canceled', reason: REASONS.directInviteRejected });
    expect((await participantsOf(channel)).map((participant) => participant.sid)).toEqual([customer.sid]);

    await standin.eventsSettled();
    expect(types()).toEqual(['task.created', 'reservation.created', 'reservation.rejected', 'task.canceled']);
    expect(eventOf('task.canceled')?.form).toMatchObject({
      TaskSid: taskSid,
      TaskAssignmentStatus: 'canceled',
      TaskCanceledReason: REASONS.directInviteRejected,
    });
  });

  test('timeOutTask: the pending reservation canceled, then workflow.timeout and task.canceled', async () => {
    const workerSid = standin.addWorker({ workspaceSid });
    const { taskSid, workflowSid } = await workflowInvite(workerSid);
    const reservationSid = standin.reserve(taskSid, workerSid);
    standin.timeOutTask(taskSid);
    expect(standin.task(taskSid)).toMatchObject({ assignment_status: 'canceled', reason: REASONS.workflowTimeout });
    expect(standin.reservation(reservationSid)?.status).toBe('canceled');
    await standin.eventsSettled();
    expect(types().slice(2)).toEqual(['reservation.created', 'reservation.canceled', 'workflow.timeout', 'task.canceled']);
    expect(eventOf('workflow.timeout')?.form).toMatchObject({ ResourceType: 'workflow', WorkflowSid: workflowSid, TaskSid: taskSid });
    expect(eventOf('task.canceled')?.form.TaskCanceledReason).toBe(REASONS.workflowTimeout);
  });

  test('completeTask: task.completed with its reason, then reservation.completed', async () => {
    const workerSid = standin.addWorker({ workspaceSid });
    const { taskSid } = await workflowInvite(workerSid);
    const reservationSid = standin.reserve(taskSid, workerSid);
    standin.acceptReservation(reservationSid);
    standin.completeTask(taskSid, 'Resolved');
    expect(standin.task(taskSid)).toMatchObject({ assignment_status: 'completed', reason: 'Resolved' });
    expect(standin.reservation(reservationSid)?.status).toBe('completed');
    await standin.eventsSettled();
    expect(types().slice(-2)).toEqual(['task.completed', 'reservation.completed']);
    expect(eventOf('task.completed')?.form).toMatchObject({ TaskAssignmentStatus: 'completed', TaskCompletedReason: 'Resolved' });
  });

  test('a cancel through the API (If-Match): reservation.canceled and task.canceled with its Reason; a stale ETag posts nothing', async () => {
    const workerSid = standin.addWorker({ workspaceSid });
    const { taskSid } = await workflowInvite(workerSid);
    const taskUrl = `https://taskrouter.twilio.com/v1/Workspaces/${workspaceSid}/Tasks/${taskSid}`;
    const staleTag = standin.taskETag(taskSid) ?? '';
    const reservationSid = standin.reserve(taskSid, workerSid);
    const form = { AssignmentStatus: 'canceled', Reason: 'Transfer canceled' };

    expect((await send('POST', taskUrl, { form, headers: { 'if-match': staleTag } })).status).toBe(412);
    await standin.eventsSettled();
    expect(types()).not.toContain('task.canceled');

    const canceled = await send('POST', taskUrl, { form, headers: { 'if-match': standin.taskETag(taskSid) ?? '' } });
    expect(canceled.status).toBe(200);
    expect(standin.reservation(reservationSid)?.status).toBe('canceled');
    await standin.eventsSettled();
    expect(types().slice(-2)).toEqual(['reservation.canceled', 'task.canceled']);
    expect(eventOf('task.canceled')?.form).toMatchObject({ TaskCanceledReason: 'Transfer canceled', TaskAssignmentStatus: 'canceled' });
  });

  test('moves TaskRouter would not make are refused', async () => {
    const workerSid = standin.addWorker({ workspaceSid });
    const { taskSid } = await workflowInvite(workerSid);
    expect(() => standin.reserve(taskSid, newSid('WK'))).toThrow(/No worker/);
    expect(() => standin.reserve(taskSid, standin.addWorker({ workspaceSid: standin.addWorkspace() }))).toThrow(/No worker/);
    expect(() => standin.completeTask(taskSid)).toThrow(/pending/);
    const reservationSid = standin.reserve(taskSid, workerSid);
    expect(() => standin.reserve(taskSid, workerSid)).toThrow(/reserved/);
    standin.acceptReservation(reservationSid);
    expect(() => standin.acceptReservation(reservationSid)).toThrow(/accepted, not pending/);
    expect(() => standin.rejectReservation(reservationSid)).toThrow(/not pending/);
    expect(() => standin.timeOutTask(taskSid)).toThrow(/assigned/);
  });

  test("EventsFilter: only the event types the workspace's filter names are posted", async () => {
    const workspaceUrl = `https://taskrouter.twilio.com/v1/Workspaces/${workspaceSid}`;
    await send('POST', workspaceUrl, { form: { EventsFilter: 'reservation.accepted, task.canceled' } });
    const workerSid = standin.addWorker({ workspaceSid });
    const { taskSid } = await workflowInvite(workerSid);
    standin.acceptReservation(standin.reserve(taskSid, workerSid));
    const second = await workflowInvite(workerSid);
    standin.timeOutTask(second.taskSid);
    await standin.eventsSettled();
    expect(types()).toEqual(['reservation.accepted', 'task.canceled']);
    expect(standin.deliveredEvents.map((delivery) => delivery.eventType)).toEqual(['reservation.accepted', 'task.canceled']);
  });

  test('a workspace without an EventCallbackUrl: nothing is posted', async () => {
    standin.changeWorkspace(workspaceSid, { eventCallbackUrl: '' });
    const workerSid = standin.addWorker({ workspaceSid });
    const { taskSid } = await workflowInvite(workerSid);
    standin.acceptReservation(standin.reserve(taskSid, workerSid));
    await standin.eventsSettled();
    expect(received).toEqual([]);
    expect(standin.deliveredEvents).toEqual([]);
  });

  test("one workspace's events arrive in order, one at a time, even when the receiver is slow", async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    let releaseFirst: () => void = () => undefined;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    standin.eventDelivery = async (request) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      if (received.length === 0) {
        received.push(request);
        await firstHeld;
      } else {
        received.push(request);
      }
      inFlight -= 1;
      return { status: 204 };
    };
    const workerSid = standin.addWorker({ workspaceSid });
    const { taskSid } = await workflowInvite(workerSid);
    standin.acceptReservation(standin.reserve(taskSid, workerSid));
    const settled = standin.eventsSettled();
    await new Promise((resolve) => setImmediate(resolve));
    expect(types()).toEqual(['task.created']); // the rest wait for the first answer
    releaseFirst();
    await settled;
    expect(types()).toEqual(['task.created', 'workflow.entered', 'reservation.created', 'reservation.accepted']);
    expect(mostInFlight).toBe(1);
  });

  test('a failed delivery (an error status or no answer) is recorded and retried once with the same idempotency token', async () => {
    const answers: (number | Error)[] = [500, 204, new Error('socket hang up'), new Error('socket hang up again'), 204];
    standin.eventDelivery = async (request) => {
      received.push(request);
      const next = answers.shift() ?? 204;
      if (next instanceof Error) throw next;
      return { status: next };
    };
    const workerSid = standin.addWorker({ workspaceSid });
    const { taskSid } = await workflowInvite(workerSid);
    standin.reserve(taskSid, workerSid);
    await standin.eventsSettled();

    expect(types()).toEqual(['task.created', 'task.created', 'workflow.entered', 'workflow.entered', 'reservation.created']);
    expect(received[0]?.headers['i-twilio-idempotency-token']).toBe(received[1]?.headers['i-twilio-idempotency-token']);
    expect(received[1]?.headers['i-twilio-idempotency-token']).not.toBe(received[2]?.headers['i-twilio-idempotency-token']);
    expect(standin.deliveredEvents.map(({ eventType, status, attempt, error }) => ({ eventType, status, attempt, error }))).toEqual([
      { eventType: 'task.created', status: 500, attempt: 1, error: undefined },
      { eventType: 'task.created', status: 204, attempt: 2, error: undefined },
      { eventType: 'workflow.entered', status: null, attempt: 1, error: 'socket hang up' },
      { eventType: 'workflow.entered', status: null, attempt: 2, error: 'socket hang up again' },
      { eventType: 'reservation.created', status: 204, attempt: 1, error: undefined },
    ]);
  });

  test('the default delivery POSTs each event to the callback over HTTP, form-encoded and signed; a 5xx is retried', async () => {
    const posted: { headers: Record<string, string | string[] | undefined>; body: string; url: string }[] = [];
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        posted.push({ headers: request.headers, body, url: request.url ?? '' });
        response.writeHead(posted.length === 1 ? 503 : 204, { 'content-type': 'application/json' });
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const callback = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/transfer-events`;
      standin.eventDelivery = httpEventDelivery;
      standin.changeWorkspace(workspaceSid, { eventCallbackUrl: callback, eventsFilter: 'task.created' });
      const { taskSid } = await invite({ attributes: { transferTargetType: 'queue' } });
      await standin.eventsSettled();

      expect(posted).toHaveLength(2);
      const form = Object.fromEntries(new URLSearchParams(posted[1]?.body));
      expect(form).toMatchObject({ EventType: 'task.created', TaskSid: taskSid, WorkspaceSid: workspaceSid });
      expect(posted[1]?.url).toBe('/transfer-events');
      expect(posted[1]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(validateRequest(AUTH_TOKEN, String(posted[1]?.headers['x-twilio-signature']), callback, form)).toBe(true);
      expect(standin.deliveredEvents.map((delivery) => delivery.status)).toEqual([503, 204]);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  test('reset() drops the deliveries still queued', async () => {
    let calls = 0;
    standin.eventDelivery = async () => {
      calls += 1;
      return { status: 204 };
    };
    await workflowInvite(standin.addWorker({ workspaceSid }));
    standin.reset();
    await standin.eventsSettled();
    expect(calls).toBe(0);
    expect(standin.deliveredEvents).toEqual([]);
  });

  describe('auto-accept (the sandbox simulated agent)', () => {
    beforeEach(() => {
      standin.autoAccept = { afterMs: 0 };
    });

    const acceptedBy = (taskSid: string) =>
      standin
        .reservationsOf(taskSid)
        .filter((reservation) => reservation.status === 'accepted')
        .map((reservation) => reservation.workerSid);

    test('known-agent routing: the worker the workflow reads from task.transferTargetSid accepts, and joins the channel', async () => {
      const [someone, known] = [standin.addWorker({ workspaceSid }), standin.addWorker({ workspaceSid })];
      const configuration = {
        task_routing: {
          filters: [
            {
              expression: 'transferTargetType == "worker"',
              targets: [{ queue: newSid('WQ'), known_worker_sid: 'task.transferTargetSid' }],
            },
          ],
        },
      };
      const workflowSid = standin.addWorkflow({ workspaceSid, configuration });
      const { taskSid, channel } = await invite({
        workflow_sid: workflowSid,
        attributes: { transferTargetType: 'worker', transferTargetSid: known },
      });
      expect(standin.task(taskSid)?.assignment_status).toBe('pending');

      await standin.eventsSettled();
      expect(acceptedBy(taskSid)).toEqual([known]);
      expect(standin.task(taskSid)?.assignment_status).toBe('assigned');
      expect(await participantsOf(channel)).toEqual([
        expect.objectContaining({ routing_properties: { workspace_sid: workspaceSid, task_sid: taskSid, worker_sid: known } }),
      ]);
      expect(types()).toEqual(['task.created', 'workflow.entered', 'reservation.created', 'reservation.accepted']);
      expect(someone).not.toBe(known);
    });

    test('a direct invite: its worker_sid accepts', async () => {
      standin.addWorker({ workspaceSid });
      const invited = standin.addWorker({ workspaceSid });
      const { taskSid } = await invite({ worker_sid: invited, queue_sid: standin.addQueue({ workspaceSid }), attributes: {} });
      await standin.eventsSettled();
      expect(acceptedBy(taskSid)).toEqual([invited]);
    });

    test('otherwise a worker who is not in the conversation, nor the transferring one, nor a known agent that does not exist', async () => {
      const [inConversation, transferring, free] = [1, 2, 3].map(() => standin.addWorker({ workspaceSid }));
      const queueSid = standin.addQueue({ workspaceSid });
      const attributes = {
        transferTargetType: 'queue',
        transferTargetSid: newSid('WK'),
        transferredByWorkerSid: transferring,
        workerSidsInConversation: [inConversation],
      };
      const { taskSid } = await invite({ queue_sid: queueSid, attributes });
      await standin.eventsSettled();
      expect(acceptedBy(taskSid)).toEqual([free]);
    });

    test('a task that moved on before the agent came (canceled) is left alone; auto-accept is off by default', async () => {
      const workerSid = standin.addWorker({ workspaceSid });
      const canceled = await workflowInvite(workerSid);
      standin.timeOutTask(canceled.taskSid);
      await standin.eventsSettled();
      expect(standin.reservationsOf(canceled.taskSid)).toEqual([]);

      standin.autoAccept = undefined;
      const untouched = await workflowInvite(workerSid);
      await standin.eventsSettled();
      expect(standin.task(untouched.taskSid)?.assignment_status).toBe('pending');
      standin.reset();
      expect(standin.autoAccept).toBeUndefined();
    });
  });
});

describe('sandbox data', () => {
  const workspaceSid = 'WS' + 'c3'.repeat(16);

  test('seeds conversations, their tasks and participants, and grants the demo tokens', async () => {
    const sandbox = seedSandbox(standin, { workspaceSid });
    expect(seedSandbox(new TwilioStandin(ACCOUNT_SID, AUTH_TOKEN), { workspaceSid })).toEqual(sandbox);
    for (const token of Object.values(sandbox.tokens)) expect(token).toMatch(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){4}$/);

    const send = inProcess(standin);
    const validated = await send('POST', `https://iam.twilio.com/v1/Accounts/${ACCOUNT_SID}/Tokens/validate`, {
      json: { token: sandbox.tokens.agent },
    });
    expect(validated.json).toMatchObject({ valid: true, worker_sid: sandbox.workers[0].sid, roles: ['agent'] });

    const [mine] = sandbox.conversations;
    const task = await send('GET', `https://taskrouter.twilio.com/v1/Workspaces/${workspaceSid}/Tasks/${mine.taskSid}`);
    expect(task.json).toMatchObject({ assignment_status: 'assigned', task_queue_friendly_name: 'Support' });
    expect(JSON.parse(task.json.attributes)).toMatchObject({
      customerName: mine.customerName,
      conversations: { conversation_id: mine.taskSid },
    });

    const participants = await send(
      'GET',
      `https://flex-api.twilio.com/v1/Interactions/${mine.interactionSid}/Channels/${mine.channelSid}/Participants`,
    );
    expect(participants.json.participants).toEqual([
      expect.objectContaining({ sid: mine.customerParticipantSid, type: 'customer' }),
      expect.objectContaining({
        sid: mine.agentParticipantSid,
        type: 'agent',
        routing_properties: { worker_sid: sandbox.workers[0].sid, task_sid: mine.taskSid, workspace_sid: workspaceSid },
      }),
    ]);
  });
  test('the workspace has no event callback yet, and its workflow reaches a named agent through known-agent routing', async () => {
    const sandbox = seedSandbox(standin, { workspaceSid });
    const send = inProcess(standin);
    const workspace = await send('GET', `https://taskrouter.twilio.com/v1/Workspaces/${workspaceSid}`);
    expect(workspace.json).toMatchObject({ sid: workspaceSid, event_callback_url: '', events_filter: null });
    const workflow = await send('GET', `https://taskrouter.twilio.com/v1/Workspaces/${workspaceSid}/Workflows/${sandbox.workflow.sid}`);
    const configuration = JSON.parse(workflow.json.configuration);
    const [toAgent] = configuration.task_routing.filters;
    expect(toAgent.targets[0]).toMatchObject({ known_worker_sid: 'task.transferTargetSid', queue: sandbox.queues[0].sid });
    expect(toAgent.targets[1].expression).toContain('workerSidsInConversation');
  });

  test('simulated agents: a few seconds after an invite, the worker the workflow targets accepts and the callback hears of it', async () => {
    const sandbox = seedSandbox(standin, { workspaceSid });
    simulateSandboxAgents(standin);
    expect(standin.autoAccept).toEqual({ afterMs: SANDBOX_ACCEPT_AFTER_MS });
    simulateSandboxAgents(standin, 0);
    const received: string[] = [];
    standin.eventDelivery = async ({ form }) => {
      received.push(`${form.EventType} ${form.WorkerSid ?? ''}`.trim());
      return { status: 204 };
    };
    standin.changeWorkspace(workspaceSid, { eventCallbackUrl: 'http://localhost:3001/transfer-events' });
    const [mine] = sandbox.conversations;
    const [alice, bob] = sandbox.workers;
    const url = `https://flex-api.twilio.com/v1/Interactions/${mine.interactionSid}/Channels/${mine.channelSid}/Invites`;
    const routing = (attributes: Record<string, unknown>) => ({
      Routing: JSON.stringify({ properties: { workspace_sid: workspaceSid, workflow_sid: sandbox.workflow.sid, attributes } }),
    });
    const send = inProcess(standin);
    const toBob = await send('POST', url, { form: routing({ transferTargetType: 'worker', transferTargetSid: bob.sid }) });
    const toQueue = await send('POST', url, {
      form: routing({ transferTargetType: 'queue', transferTargetSid: sandbox.queues[1].sid, workerSidsInConversation: [alice.sid] }),
    });
    await standin.eventsSettled();

    for (const invite of [toBob, toQueue]) {
      const taskSid = invite.json.routing.properties.sid;
      expect(standin.task(taskSid)?.assignment_status).toBe('assigned');
      expect(standin.reservationsOf(taskSid).map((reservation) => reservation.workerSid)).toEqual([bob.sid]);
    }
    expect(received.filter((event) => event.startsWith('reservation.accepted'))).toEqual([
      `reservation.accepted ${bob.sid}`,
      `reservation.accepted ${bob.sid}`,
    ]);
  });
});
