/**
 * End to end: the real twilio-run server on the built output (dist/), its
 * Twilio calls redirected to the loopback stand-in (dev/redirect-twilio.cjs).
 * A handful of checks that the pieces fit together over real HTTP; the
 * behaviour itself is covered in-process (test/core).
 */
import { newSid } from '../../dev/twilio-standin';
import { assignedTaskOf, joinAsAgent, TEST_WORKFLOW_SID } from '../support/fixtures';
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

/** A fresh interaction channel, seeded at the stand-in, with a customer and the agent talking to them. */
const newChannel = () => {
  const channel = harness.standin.addConversation();
  joinAsAgent(harness.standin, channel, newSid('WK'));
  return channel;
};

test('a warm queue transfer with the original task: 201, and Twilio got the Routing the contract describes', async () => {
  const { token, workerSid } = grantAgentToken(harness.standin, ['supervisor']);
  const channel = harness.standin.addConversation(); // nobody in it yet: workerSidsInConversation stays empty
  const queueSid = harness.standin.addQueue();
  const workflowSid = newSid('WW');
  const taskSid = harness.standin.addTask({
    workspaceSid: TEST_WORKSPACE_SID,
    attributes: {
      name: 'Ann',
      conversations: { conversation_id: 'conv-1', segment: 'first' },
      flexInteractionSid: channel.interactionSid,
      flexInteractionChannelSid: channel.channelSid,
    },
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
    // TRANSFER_WORKFLOW_SID (set for these tests) comes before the original task's workflow.
    workflow_sid: TEST_WORKFLOW_SID,
    queue_sid: queueSid,
    task_channel_unique_name: 'sms',
    priority: 7,
    attributes: {
      name: 'Ann',
      note: 'VIP',
      conversations: { conversation_id: 'conv-1', segment: 'first' },
      flexInteractionSid: channel.interactionSid,
      flexInteractionChannelSid: channel.channelSid,
      transferTargetType: 'queue',
      transferTargetSid: queueSid,
      transferType: 'warm',
      transferredByWorkerSid: workerSid,
      transferredFromTaskSid: taskSid,
      workerSidsInConversation: [],
    },
  });
  expect(result.json.taskSid).toMatch(/^WT[0-9a-f]{32}$/);
});

test("a cold agent transfer closes the transferring agent only when the new agent accepts: TaskRouter's event over HTTP", async () => {
  harness.standin.changeWorkspace(TEST_WORKSPACE_SID, { eventCallbackUrl: harness.url('/transfer-events') });
  const { token, workerSid } = grantAgentToken(harness.standin, ['agent']);
  const channel = newChannel();
  const ownParticipant = newSid('UT');
  harness.standin.setParticipants(channel.interactionSid, channel.channelSid, [
    { sid: newSid('UT'), type: 'customer', routing_properties: null },
    { sid: ownParticipant, type: 'agent', routing_properties: { worker_sid: workerSid } },
  ]);
  const target = harness.standin.addWorker();

  const result = await postForm(harness.url('/transfer-to-agent'), { Token: token, ...channel, workerSid: target, transferType: 'cold' });

  expect(result.status).toBe(201);
  expectRequestId(result);
  expect(result.json).toMatchObject({
    target: { type: 'worker', sid: target },
    transferType: 'cold',
    participantClosed: false,
    participantCloses: 'on-accept',
    warnings: [],
  });
  expect(harness.standin.requestsTo('participant-update')).toHaveLength(0);

  harness.standin.acceptReservation(harness.standin.reserve(result.json.taskSid, target));
  await harness.standin.eventsSettled();

  const accepted = harness.standin.deliveredEvents.filter((event) => event.eventType === 'reservation.accepted');
  expect(accepted.map((event) => [event.url, event.status])).toEqual([[harness.url('/transfer-events'), 204]]);
  const closed = harness.standin.requestsTo('participant-update');
  expect(closed).toHaveLength(1);
  expect(closed[0]?.path).toContain(`/Participants/${ownParticipant}`);
  expect(closed[0]?.form.Status).toBe('closed');
  const listed = await postForm(harness.url('/list-transfers'), { Token: token, ...channel });
  expect(listed.json.transfers[0]).toMatchObject({ taskStatus: 'assigned', participantCloses: 'on-accept', cancelable: false });
});

test('a GET (no body) -> 405, and nothing is sent to Twilio', async () => {
  const { token } = grantAgentToken(harness.standin, ['supervisor']);
  const query = new URLSearchParams({ Token: token, ...newChannel(), queueSid: harness.standin.addQueue() });

  const result = await get(harness.url(`/transfer-to-queue?${query.toString()}`));

  expect(result.status).toBe(405);
  expectRequestId(result);
  expect(result.json.error.code).toBe('method_not_allowed');
  expect(harness.standin.requests).toEqual([]);
});

test('a body field named `request` -> 400, in JSON and in a form, and nothing is sent to Twilio', async () => {
  const { token } = grantAgentToken(harness.standin, ['supervisor']);
  const fields = { Token: token, ...newChannel(), queueSid: harness.standin.addQueue() };

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
  const transfer = await postJson(harness.url('/transfer-to-queue'), { ...channel, queueSid: harness.standin.addQueue() }, auth);
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
  const body = { ...newChannel(), queueSid: harness.standin.addQueue() };
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
    queueSid: harness.standin.addQueue(),
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
    {
      sid: newSid('UT'),
      type: 'agent',
      routing_properties: { worker_sid: newSid('WK'), task_sid: assignedTaskOf(harness.standin, channel) },
    },
  ]);

  const result = await postForm(harness.url('/transfer-to-queue'), {
    Token: token,
    ...channel,
    queueSid: harness.standin.addQueue(),
    transferType: 'cold',
  });

  expect(result.status).toBe(403);
  expect(result.json.error.code).toBe('forbidden');
  expect(harness.standin.requestsTo('invite-create')).toHaveLength(0);
  expect(harness.standin.requestsTo('participant-update')).toHaveLength(0);
});

test("with Basic enabled, a 401 challenges for Basic credentials (what Studio's HTTP widget waits for)", async () => {
  const result = await postForm(harness.url('/transfer-to-queue'), { ...newChannel(), queueSid: harness.standin.addQueue() });

  expect(result.status).toBe(401);
  expect(result.headers.get('www-authenticate')).toMatch(/^Basic realm="[^"]+"/);
});
