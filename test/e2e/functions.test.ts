/**
 * End to end: the real twilio-run server on the built output (dist/), its
 * Twilio calls redirected to the loopback stand-in (dev/redirect-twilio.cjs).
 * A handful of checks that the pieces fit together over real HTTP; the
 * behaviour itself is covered in-process (test/core).
 */
import { newSid } from '../../dev/twilio-standin';
import { TEST_WORKSPACE_SID } from '../support/functions-server';
import { get, type HttpResult, postForm, postJson, useFunctions } from '../support/harness';
import { grantAgentToken } from '../support/in-process';

const harness = useFunctions({
  forkPerRequest: false,
  settings: { TRANSFER_BASIC_AUTH_USER: 'studio', TRANSFER_BASIC_AUTH_PASSWORD: 'a-long-random-password' },
});

function expectRequestId(result: HttpResult): void {
  expect(result.headers.get('x-request-id')).toMatch(/\S{8,}/);
  expect(result.headers.get('content-type')).toMatch(/^application\/json/);
}

const newChannel = () => ({ interactionSid: newSid('KD'), channelSid: newSid('UO') });

test('a warm queue transfer with the original task: 201, and Twilio got the Routing the contract describes', async () => {
  const { token, workerSid } = grantAgentToken(harness.standin, ['supervisor']);
  const channel = newChannel();
  const queueSid = newSid('WQ');
  const workflowSid = newSid('WW');
  const taskSid = harness.standin.addTask({
    workspaceSid: TEST_WORKSPACE_SID,
    attributes: { name: 'Ann', conversations: { conversation_id: 'conv-1', segment: 'first' } },
    taskChannelUniqueName: 'sms',
    workflowSid,
  });

  const result = await postJson(
    harness.url('/transfer-to-queue'),
    { ...channel, queueSid, taskSid, priority: 7, attributes: { note: 'VIP' } },
    { Authorization: `Bearer ${token}` },
  );

  expect(result.status).toBe(201);
  expectRequestId(result);
  expect(result.json).toMatchObject({
    ...channel,
    target: { type: 'queue', sid: queueSid },
    transferType: 'warm',
    participantClosed: false,
  });
  const invites = harness.standin.requestsTo('invite-create');
  expect(invites).toHaveLength(1);
  expect(invites[0]?.path).toBe(`/v1/Interactions/${channel.interactionSid}/Channels/${channel.channelSid}/Invites`);
  expect(invites[0]?.routing?.properties).toEqual({
    workspace_sid: TEST_WORKSPACE_SID,
    workflow_sid: workflowSid,
    queue_sid: queueSid,
    task_channel_unique_name: 'sms',
    priority: 7,
    attributes: {
      name: 'Ann',
      note: 'VIP',
      conversations: { conversation_id: 'conv-1', segment: 'first' },
      transferTargetType: 'queue',
      transferTargetSid: queueSid,
      transferType: 'warm',
      transferredByWorkerSid: workerSid,
      transferredFromTaskSid: taskSid,
    },
  });
  expect(result.json.taskSid).toMatch(/^WT[0-9a-f]{32}$/);
});

test('a cold agent transfer: 201, the invite first, then the transferring participant closed', async () => {
  const { token, workerSid } = grantAgentToken(harness.standin, ['agent']);
  const channel = newChannel();
  const ownParticipant = newSid('UT');
  harness.standin.setParticipants(channel.interactionSid, channel.channelSid, [
    { sid: newSid('UT'), type: 'customer', routing_properties: null },
    { sid: ownParticipant, type: 'agent', routing_properties: { worker_sid: workerSid } },
  ]);
  const target = newSid('WK');

  const result = await postForm(harness.url('/transfer-to-agent'), {
    Token: token,
    ...channel,
    workerSid: target,
    queueSid: newSid('WQ'),
    transferType: 'cold',
  });

  expect(result.status).toBe(201);
  expectRequestId(result);
  expect(result.json).toMatchObject({
    target: { type: 'worker', sid: target },
    transferType: 'cold',
    participantClosed: true,
    warnings: [],
  });
  const routes = harness.standin.requests
    .map((request) => request.route)
    .filter((route) => route === 'invite-create' || route === 'participant-update');
  expect(routes).toEqual(['invite-create', 'participant-update']);
  const closed = harness.standin.requestsTo('participant-update')[0];
  expect(closed?.path).toContain(`/Participants/${ownParticipant}`);
  expect(closed?.form.Status).toBe('closed');
});

test('a GET (no body) -> 405, and nothing is sent to Twilio', async () => {
  const { token } = grantAgentToken(harness.standin, ['supervisor']);
  const query = new URLSearchParams({ Token: token, ...newChannel(), queueSid: newSid('WQ') });

  const result = await get(harness.url(`/transfer-to-queue?${query.toString()}`));

  expect(result.status).toBe(405);
  expectRequestId(result);
  expect(result.json.error.code).toBe('method_not_allowed');
  expect(harness.standin.requests).toEqual([]);
});

test('a body field named `request` -> 400, in JSON and in a form, and nothing is sent to Twilio', async () => {
  const { token } = grantAgentToken(harness.standin, ['supervisor']);
  const fields = { Token: token, ...newChannel(), queueSid: newSid('WQ') };

  const asJson = await postJson(harness.url('/transfer-to-queue'), { ...fields, request: 'forged' });
  const asForm = await postForm(harness.url('/transfer-to-queue'), { ...fields, request: 'forged' });

  for (const result of [asJson, asForm]) {
    expect(result.status).toBe(400);
    expectRequestId(result);
    expect(result.json.error).toMatchObject({ code: 'invalid_request', details: [expect.objectContaining({ field: 'request' })] });
  }
  expect(harness.standin.requests).toEqual([]);
});

test('list a pending transfer, then cancel it: 200 both, and its task is canceled', async () => {
  const { token } = grantAgentToken(harness.standin, ['supervisor']);
  const channel = newChannel();
  const auth = { Authorization: `Bearer ${token}` };
  const transfer = await postJson(harness.url('/transfer-to-queue'), { ...channel, queueSid: newSid('WQ') }, auth);
  expect(transfer.status).toBe(201);

  const listed = await postJson(harness.url('/list-transfers'), channel, auth);
  expect(listed.status).toBe(200);
  expectRequestId(listed);
  expect(listed.json.transfers).toEqual([
    expect.objectContaining({ inviteSid: transfer.json.inviteSid, taskSid: transfer.json.taskSid, target: transfer.json.target }),
  ]);

  const canceled = await postJson(harness.url('/cancel-transfer'), { ...channel, taskSid: listed.json.transfers[0].taskSid }, auth);
  expect(canceled.status).toBe(200);
  expectRequestId(canceled);
  expect(canceled.json).toEqual({ taskSid: transfer.json.taskSid, canceled: true });
  expect(harness.standin.task(transfer.json.taskSid)).toMatchObject({ assignment_status: 'canceled', reason: 'Transfer canceled' });
});

test('a repeat with the same Idempotency-Key answers the first invite, replayed, over HTTP', async () => {
  const { token } = grantAgentToken(harness.standin, ['supervisor']);
  const body = { ...newChannel(), queueSid: newSid('WQ') };
  const headers = { Authorization: `Bearer ${token}`, 'Idempotency-Key': 'e2e-click-1' };

  const first = await postJson(harness.url('/transfer-to-queue'), body, headers);
  const repeat = await postJson(harness.url('/transfer-to-queue'), body, headers);

  expect(first.status).toBe(201);
  expect(first.headers.get('idempotent-replayed')).toBeNull();
  expect(repeat.status).toBe(201);
  expectRequestId(repeat);
  expect(repeat.headers.get('idempotent-replayed')).toBe('true');
  expect(repeat.json.inviteSid).toBe(first.json.inviteSid);
  expect(harness.standin.requestsTo('invite-create')).toHaveLength(1);
  expect(first.headers.get('x-request-id')).not.toBe(repeat.headers.get('x-request-id'));
});

test('a task that is not in the workspace -> 404 naming taskSid, and no invite', async () => {
  const { token } = grantAgentToken(harness.standin, ['supervisor']);

  const result = await postForm(harness.url('/transfer-to-queue'), {
    Token: token,
    ...newChannel(),
    queueSid: newSid('WQ'),
    taskSid: newSid('WT'),
  });

  expect(result.status).toBe(404);
  expect(result.json.error).toMatchObject({ code: 'not_found', details: [expect.objectContaining({ field: 'taskSid' })] });
  expect(harness.standin.requestsTo('task-fetch')).toHaveLength(1);
  expect(harness.standin.requestsTo('invite-create')).toHaveLength(0);
});

test('a plain agent transferring a conversation that is not theirs -> 403, and nothing is created or closed', async () => {
  const { token } = grantAgentToken(harness.standin, ['agent']);
  const channel = newChannel();
  harness.standin.setParticipants(channel.interactionSid, channel.channelSid, [
    { sid: newSid('UT'), type: 'agent', routing_properties: { worker_sid: newSid('WK') } },
  ]);

  const result = await postForm(harness.url('/transfer-to-queue'), {
    Token: token,
    ...channel,
    queueSid: newSid('WQ'),
    transferType: 'cold',
  });

  expect(result.status).toBe(403);
  expect(result.json.error.code).toBe('forbidden');
  expect(harness.standin.requestsTo('invite-create')).toHaveLength(0);
  expect(harness.standin.requestsTo('participant-update')).toHaveLength(0);
});

test("with Basic enabled, a 401 challenges for Basic credentials (what Studio's HTTP widget waits for)", async () => {
  const result = await postForm(harness.url('/transfer-to-queue'), { ...newChannel(), queueSid: newSid('WQ') });

  expect(result.status).toBe(401);
  expect(result.headers.get('www-authenticate')).toMatch(/^Basic realm="[^"]+"/);
});
