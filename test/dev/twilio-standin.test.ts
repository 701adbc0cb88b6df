/**
 * The Twilio stand-in itself: its routes answer as Twilio does, through the
 * in-process entry and through the HTTP server alike, and its faults fail the
 * way the network would.
 */
import { seedSandbox } from '../../dev/sandbox-data';
import { newSid, type StandinResponse, TwilioStandin } from '../../dev/twilio-standin';

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
  const flexUrl = () => `${standin.url}/v1/Interactions/${newSid('KD')}/Channels/${newSid('UO')}/Participants`;
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
});
