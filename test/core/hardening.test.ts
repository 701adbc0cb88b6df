/**
 * Issue 20: a transfer touches only its own conversation, never sends
 * credentials elsewhere, and says exactly what happened. Each test here
 * failed before its fix.
 */
import { newSid } from '../../dev/twilio-standin';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_WORKSPACE_SID } from '../support/functions-server';
import { grantAgentToken, inProcessFunctions } from '../support/in-process';
import { seedWorld, transferForm, type World, WORKFLOW_SID } from '../support/world';

function warmToQueue(world: World, extra: Record<string, string> = {}) {
  return transferForm(world, { queueSid: world.queueSid, ...extra });
}

const BASIC_AUTH = 'Basic ' + Buffer.from(`${TEST_ACCOUNT_SID}:${TEST_AUTH_TOKEN}`).toString('base64');

/** A participant list page as Twilio answers it, with the next page wherever `nextPageUrl` says. */
function participantPage(world: World, nextPageUrl: string) {
  return {
    status: 200,
    body: {
      participants: [
        {
          sid: world.agentParticipant,
          type: 'agent',
          interaction_sid: world.interactionSid,
          channel_sid: world.channelSid,
          routing_properties: { worker_sid: world.agentWorker, task_sid: world.taskSid },
          url: `https://flex-api.twilio.com/v1/Interactions/${world.interactionSid}/Channels/${world.channelSid}/Participants/${world.agentParticipant}`,
        },
      ],
      meta: {
        page: 0,
        page_size: 1,
        key: 'participants',
        next_page_url: nextPageUrl,
        url: nextPageUrl,
        first_page_url: nextPageUrl,
        previous_page_url: null,
      },
    },
  };
}

describe('another conversation’s task never reaches a transfer', () => {
  const functions = inProcessFunctions({ settings: { TRANSFER_WORKFLOW_SID: WORKFLOW_SID } });

  test('a plain agent of their own channel naming another conversation’s taskSid: 404 naming taskSid, nothing created', async () => {
    const mine = seedWorld(functions);
    const other = functions.standin.addConversation({ workspaceSid: TEST_WORKSPACE_SID });
    const otherTask = functions.standin.addTask({
      workspaceSid: TEST_WORKSPACE_SID,
      workflowSid: WORKFLOW_SID,
      assignmentStatus: 'assigned',
      attributes: {
        flexInteractionSid: other.interactionSid,
        flexInteractionChannelSid: other.channelSid,
        customerName: 'Dave',
        phone: '+15550100',
      },
    });
    const answer = await functions.call('transfer-to-queue', warmToQueue(mine, { taskSid: otherTask }));
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('not_found');
    expect(answer.body.error.details[0].field).toBe('taskSid');
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
  });

  test('the same answer as an unknown task, so nothing is learned about other conversations', async () => {
    const mine = seedWorld(functions);
    const unknown = await functions.call('transfer-to-queue', warmToQueue(mine, { taskSid: newSid('WT') }));
    const other = functions.standin.addConversation({ workspaceSid: TEST_WORKSPACE_SID });
    const otherTask = functions.standin.addTask({
      workspaceSid: TEST_WORKSPACE_SID,
      attributes: { flexInteractionChannelSid: other.channelSid },
    });
    const foreign = await functions.call('transfer-to-queue', warmToQueue(mine, { taskSid: otherTask }));
    expect(foreign.status).toBe(unknown.status);
    expect(foreign.body.error.message.replace(otherTask, 'X')).toBe(unknown.body.error.message.replace(/WT[0-9a-f]{32}/, 'X'));
  });

  test('a task a participant of the channel holds is the channel’s, even without Flex’s attribute', async () => {
    const world = seedWorld(functions);
    const held = functions.standin.addTask({
      workspaceSid: TEST_WORKSPACE_SID,
      sid: newSid('WT'),
      workflowSid: WORKFLOW_SID,
      attributes: {},
    });
    functions.standin.setParticipants(world.interactionSid, world.channelSid, [
      { sid: world.customerParticipant, type: 'customer' },
      { sid: world.agentParticipant, type: 'agent', routing_properties: { worker_sid: world.agentWorker, task_sid: held } },
    ]);
    const answer = await functions.call('transfer-to-queue', warmToQueue(world, { taskSid: held }));
    expect(answer.status).toBe(201);
  });
});

describe('credentials never follow a next_page_url elsewhere, and lists end', () => {
  const functions = inProcessFunctions({ settings: { TRANSFER_WORKFLOW_SID: WORKFLOW_SID } });

  test('a next page on another host: 502, and no request (so no credentials) goes there', async () => {
    const world = seedWorld(functions);
    functions.standin.script('participant-list', participantPage(world, 'https://collector.example.com/v1/steal?Page=1'));
    const answer = await functions.call('transfer-to-queue', warmToQueue(world));
    expect(answer.status).toBe(502);
    expect(answer.body.error.code).toBe('upstream_error');
    expect(functions.standin.requests.filter((request) => !request.host.endsWith('twilio.com'))).toHaveLength(0);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
  });

  test('a next page on the same host over plain http: 502, never sent (the credentials would travel in clear)', async () => {
    const world = seedWorld(functions);
    const insecure = `http://flex-api.twilio.com/v1/Interactions/${world.interactionSid}/Channels/${world.channelSid}/Participants?Page=1`;
    functions.standin.script('participant-list', participantPage(world, insecure));
    const answer = await functions.call('transfer-to-queue', warmToQueue(world));
    expect(answer.status).toBe(502);
    expect(functions.standin.requestsTo('participant-list')).toHaveLength(1);
  });

  test('a next page pointing back at itself: read at most 50 pages, then the list ends and the log says so', async () => {
    const world = seedWorld(functions);
    const self = `https://flex-api.twilio.com/v1/Interactions/${world.interactionSid}/Channels/${world.channelSid}/Participants?PageSize=1&Page=1`;
    functions.standin.script('participant-list', ...Array.from({ length: 60 }, () => participantPage(world, self)));
    const answer = await functions.call('transfer-to-queue', warmToQueue(world));
    expect(answer.status).toBe(201);
    expect(functions.standin.requestsTo('participant-list')).toHaveLength(50);
    expect(answer.log.notes?.join(' ')).toContain('50 pages');
    for (const request of functions.standin.requestsTo('participant-list')) expect(request.headers.authorization).toBe(BASIC_AUTH);
  });
});

describe('answers that say what happened', () => {
  const functions = inProcessFunctions({ settings: { TRANSFER_WORKFLOW_SID: WORKFLOW_SID, TRANSFER_COLD_CLOSE: 'immediate' } });

  test('a failed read releases the Idempotency-Key: the retry is not told "still in progress"', async () => {
    const world = seedWorld(functions);
    functions.standin.script('task-fetch', { status: 500 });
    const headers = { 'Idempotency-Key': 'retry-after-a-failed-read' };
    const first = await functions.call('transfer-to-queue', { ...warmToQueue(world), headers });
    expect(first.status).toBe(502);
    const retry = await functions.call('transfer-to-queue', { ...warmToQueue(world), headers });
    expect(retry.status).toBe(201);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(1);
  });

  test('Sync refusing the function’s own credentials is 502 (the function’s fault), not 503', async () => {
    const world = seedWorld(functions);
    functions.standin.script('sync-create', { status: 401, body: { code: 20003, message: 'Authenticate', status: 401 } });
    const answer = await functions.call('transfer-to-queue', { ...warmToQueue(world), headers: { 'Idempotency-Key': 'sync-refuses' } });
    expect(answer.status).toBe(502);
    expect(answer.body.error.message).toContain('ACCOUNT_SID');
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
  });

  test('a close whose answer never came says it may not have happened', async () => {
    const world = seedWorld(functions);
    functions.standin.script('participant-update', { status: 500 });
    const answer = await functions.call('transfer-to-queue', warmToQueue(world, { transferType: 'cold' }));
    expect(answer.status).toBe(201);
    expect(answer.body.participantClosed).toBe(false);
    expect(answer.body.warnings[0]).toContain('may not have been set');
  });

  test('an invite dated outside what JavaScript can hold: 200 with that date null, and the log says which', async () => {
    const world = seedWorld(functions);
    const invite = functions.standin.addInvite(world.interactionSid, world.channelSid, {
      workspace_sid: TEST_WORKSPACE_SID,
      attributes: JSON.stringify({ transferTargetType: 'queue', transferTargetSid: world.queueSid, transferType: 'warm' }),
    });
    functions.standin.script('invite-list', {
      status: 200,
      body: {
        invites: [{ ...invite, routing: { properties: { ...invite.routing.properties, date_created: 8640000000001 } } }],
        meta: { page: 0, page_size: 50, key: 'invites', next_page_url: null },
      },
    });
    const answer = await functions.call('list-transfers', {
      form: { Token: world.token, interactionSid: world.interactionSid, channelSid: world.channelSid },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.transfers[0].createdAt).toBeNull();
    expect(answer.log.notes?.join(' ')).toContain(invite.sid);
  });

  test.each([
    ['a number beyond what JSON carries (1e309)', '{"amount":1e309}'],
    ['an integer beyond 2^53', '{"accountNumber":12345678901234567890}'],
  ])('%s in attributes: 400 naming attributes, nothing created', async (_label, attributes) => {
    const world = seedWorld(functions);
    const answer = await functions.call('transfer-to-queue', warmToQueue(world, { attributes }));
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.map((detail: { field: string }) => detail.field)).toContain('attributes');
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
  });

  test('a 401 says why in the log line (never the token)', async () => {
    const world = seedWorld(functions);
    const answer = await functions.call('transfer-to-queue', warmToQueue(world, { Token: 'not-a-token' }));
    expect(answer.status).toBe(401);
    expect(answer.log.reason).toMatch(/compact JWE/);
    expect(JSON.stringify(answer.log)).not.toContain('not-a-token');
  });

  test.each([
    ['an empty header', { headers: { 'Idempotency-Key': '' } }],
    ['a blank field', { idempotencyKey: '   ' }],
  ])('%s as Idempotency-Key is a malformed key: 400, nothing created', async (_label, how) => {
    const world = seedWorld(functions);
    const request = warmToQueue(world, 'idempotencyKey' in how ? { idempotencyKey: how.idempotencyKey } : {});
    const answer = await functions.call('transfer-to-queue', { ...request, headers: 'headers' in how ? how.headers : {} });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.map((detail: { field: string }) => detail.field)).toContain('idempotencyKey');
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
  });

  test('a token pasted with a trailing newline and spaces is the same token', async () => {
    const world = seedWorld(functions);
    const answer = await functions.call('transfer-to-queue', warmToQueue(world, { Token: `${world.token}\n  ` }));
    expect(answer.status).toBe(201);
  });

  test('Twilio unreachable: the 503 names the host and what failed', async () => {
    const world = seedWorld(functions);
    functions.standin.script('invite-create', { refuse: true }, { refuse: true }, { refuse: true }, { refuse: true });
    const answer = await functions.call('transfer-to-queue', warmToQueue(world));
    expect(answer.status).toBe(503);
    expect(answer.body.error.message).toContain('flex-api.twilio.com');
    expect(answer.body.error.message).toMatch(/refused the connection/);
  });
});

describe('under a flood of bad tokens from one source, a real agent from another still gets in', () => {
  const functions = inProcessFunctions({ settings: { TRANSFER_WORKFLOW_SID: WORKFLOW_SID } });

  test('50 in flight with distinct bad tokens from one client, and a real agent’s first login from a browser', async () => {
    const startMs = Date.now();
    functions.newInstance({ now: () => startMs });
    const world = seedWorld(functions);
    const badToken = () =>
      ['eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0', ...Array.from({ length: 4 }, () => Buffer.from(newSid('')).toString('base64url'))].join(
        '.',
      );
    const flooder = { 'User-Agent': 'curl/8.5.0' };
    const browser = { Origin: 'https://flex.twilio.com', 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0' };
    const flood = Array.from({ length: 50 }, () =>
      functions.call('transfer-to-queue', { ...warmToQueue(world, { Token: badToken() }), headers: flooder }),
    );
    const agents = Array.from({ length: 5 }, () => {
      const { token } = grantAgentToken(functions.standin, ['supervisor']);
      return functions.call('transfer-to-queue', { ...warmToQueue(world, { Token: token }), headers: browser });
    });
    const [floodAnswers, agentAnswers] = await Promise.all([Promise.all(flood), Promise.all(agents)]);
    expect(agentAnswers.map((answer) => answer.status)).toEqual([201, 201, 201, 201, 201]);
    const busy = floodAnswers.filter((answer) => answer.status === 503);
    expect(busy.length).toBeGreaterThan(40);
    expect(busy[0]?.body.error.message).toMatch(/busy/);
    expect(functions.standin.requestsTo('token-validate').length).toBeLessThanOrEqual(20);
  });
});

describe('TWILIO_REGION and TWILIO_EDGE apply to every call, token validation included', () => {
  const functions = inProcessFunctions({
    settings: { TRANSFER_WORKFLOW_SID: WORKFLOW_SID, TWILIO_REGION: 'ie1', TWILIO_EDGE: 'dublin', TRANSFER_COLD_CLOSE: 'immediate' },
  });

  test('a keyed cold transfer: every request went to *.dublin.ie1.twilio.com', async () => {
    const world = seedWorld(functions);
    const answer = await functions.call('transfer-to-queue', {
      ...warmToQueue(world, { transferType: 'cold' }),
      headers: { 'Idempotency-Key': 'regional' },
    });
    expect(answer.status).toBe(201);
    const hosts = new Set(functions.standin.requests.map((request) => request.host));
    expect([...hosts].sort()).toEqual(
      [
        'flex-api.dublin.ie1.twilio.com',
        'iam.dublin.ie1.twilio.com',
        'sync.dublin.ie1.twilio.com',
        'taskrouter.dublin.ie1.twilio.com',
      ].sort(),
    );
  });
});
