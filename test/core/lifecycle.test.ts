/**
 * Contract v3, end to end in-process: agent transfers through the workflow,
 * cold transfers that close the transferring agent only when the new agent
 * accepts (TaskRouter's events delivered to /transfer-events), and cancels
 * that never leave the customer alone.
 */
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { newSid } from '../../dev/twilio-standin';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_WORKSPACE_SID } from '../support/functions-server';
import { grantAgentToken, type InProcessFunctions, inProcessFunctions } from '../support/in-process';
import { CALLBACK_URL, PLAIN_WORKFLOW_SID, seedWorld, transferForm, type World, WORKFLOW_SID } from '../support/world';

function statusOf(functions: InProcessFunctions, world: World, participantSid: string): string | undefined {
  return functions.standin.participants(world.interactionSid, world.channelSid)?.find((participant) => participant.sid === participantSid)
    ?.status;
}

function coldToColleague(world: World, extra: Record<string, string> = {}) {
  return transferForm(world, { workerSid: world.colleague, transferType: 'cold', ...extra });
}

describe('agent transfers through the workflow (TRANSFER_AGENT_ROUTING=workflow, the default)', () => {
  const functions = inProcessFunctions({ settings: { TRANSFER_WORKFLOW_SID: WORKFLOW_SID } });

  test('the invite names the workflow and carries the target as attributes, never worker_sid or queue_sid', async () => {
    const world = seedWorld(functions);
    const answer = await functions.call('transfer-to-agent', {
      form: { ...coldToColleague(world).form, transferType: 'warm', queueSid: world.queueSid },
    });
    expect(answer.status).toBe(201);
    const [invite] = functions.standin.requestsTo('invite-create');
    const properties = invite?.routing?.properties as Record<string, unknown>;
    expect(properties.workflow_sid).toBe(WORKFLOW_SID);
    expect(properties).not.toHaveProperty('worker_sid');
    expect(properties).not.toHaveProperty('queue_sid');
    expect(properties.attributes).toMatchObject({
      transferTargetType: 'worker',
      transferTargetSid: world.colleague,
      transferQueueSid: world.queueSid,
      workerSidsInConversation: [world.agentWorker],
      customerName: 'Carol',
    });
  });

  test('a decline moves the task on (it stays pending), it is not canceled: the customer is not orphaned', async () => {
    const world = seedWorld(functions);
    const answer = await functions.call('transfer-to-agent', { form: { ...coldToColleague(world).form, transferType: 'warm' } });
    const newTask = answer.body.taskSid as string;
    functions.standin.rejectReservation(functions.standin.reserve(newTask, world.colleague));
    await functions.standin.eventsSettled();
    expect(functions.standin.task(newTask)?.assignment_status).toBe('pending');
  });

  test('a workflow without a known-agent target: 500 misconfigured naming the workflow and the example, nothing created', async () => {
    const world = seedWorld(functions);
    const answer = await functions.call('transfer-to-agent', { form: { ...coldToColleague(world).form, workflowSid: PLAIN_WORKFLOW_SID } });
    expect(answer.status).toBe(500);
    expect(answer.body.error.code).toBe('misconfigured');
    expect(answer.body.error.message).toContain(PLAIN_WORKFLOW_SID);
    expect(answer.body.error.message).toContain('examples/taskrouter');
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
  });

  test('the workflow is read once per instance: a second transfer does not read it again', async () => {
    const world = seedWorld(functions);
    await functions.call('transfer-to-agent', { form: { ...coldToColleague(world).form, transferType: 'warm' } });
    await functions.call('transfer-to-queue', { form: { ...coldToColleague(world).form, transferType: 'warm', queueSid: world.queueSid } });
    await functions.call('transfer-to-agent', { form: { ...coldToColleague(world).form, transferType: 'warm' } });
    expect(functions.standin.requestsTo('workflow-fetch')).toHaveLength(1);
  });

  test('a transfer to an agent already with the customer: 409 already_participant, nothing created', async () => {
    const world = seedWorld(functions);
    const answer = await functions.call('transfer-to-agent', { form: { ...coldToColleague(world).form, workerSid: world.agentWorker } });
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe('already_participant');
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
  });

  test("transferring back to an agent whose participant's task TaskRouter no longer has works", async () => {
    const world = seedWorld(functions);
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    functions.standin.script('task-fetch', { status: 404, body: { code: 20404, message: 'not found', status: 404 } });
    const answer = await functions.call(
      'transfer-to-agent',
      transferForm(world, { Token: token, workerSid: world.agentWorker, taskSid: '' }),
    );
    expect(answer.status).toBe(201);
    expect(functions.standin.requestsTo('task-fetch')).toHaveLength(1);
  });

  test('transferring back to an agent who left (their task no longer assigned) works', async () => {
    const world = seedWorld(functions);
    functions.standin.setTaskStatus(world.taskSid, 'wrapping');
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const answer = await functions.call('transfer-to-agent', {
      form: { ...coldToColleague(world).form, Token: token, transferType: 'warm', workerSid: world.agentWorker },
    });
    expect(answer.status).toBe(201);
  });
});

describe('every invite names a workflow', () => {
  const functions = inProcessFunctions({ settings: { TRANSFER_WORKFLOW_SID: undefined } });
  test('none known: 400 naming workflowSid and TRANSFER_WORKFLOW_SID, and Twilio is not called', async () => {
    const world = seedWorld(functions);
    const answer = await functions.call('transfer-to-queue', {
      form: { Token: world.token, interactionSid: world.interactionSid, channelSid: world.channelSid, queueSid: world.queueSid },
    });
    expect(answer.status).toBe(400);
    const problem = answer.body.error.details.find((detail: { field: string }) => detail.field === 'workflowSid');
    expect(problem.message).toContain('TRANSFER_WORKFLOW_SID');
    expect(functions.standin.requests.filter((request) => request.route !== 'token-validate')).toHaveLength(0);
  });

  test("the original task's workflow is used when nothing else names one", async () => {
    const world = seedWorld(functions);
    const answer = await functions.call('transfer-to-queue', {
      form: {
        Token: world.token,
        interactionSid: world.interactionSid,
        channelSid: world.channelSid,
        queueSid: world.queueSid,
        taskSid: world.taskSid,
      },
    });
    expect(answer.status).toBe(201);
    expect(functions.standin.requestsTo('invite-create')[0]?.routing?.properties.workflow_sid).toBe(WORKFLOW_SID);
  });

  test('an agent transfer whose workflow comes only from the original task: that workflow is checked (a second round), then named', async () => {
    const world = seedWorld(functions);
    const answer = await functions.call('transfer-to-agent', transferForm(world, { workerSid: world.colleague }));
    expect(answer.status).toBe(201);
    expect(functions.standin.requestsTo('workflow-fetch')[0]?.path).toContain(WORKFLOW_SID);
    expect(functions.standin.requestsTo('invite-create')[0]?.routing?.properties.workflow_sid).toBe(WORKFLOW_SID);
  });

  test("an agent transfer whose original task's workflow cannot reach a named agent: 500 misconfigured, nothing created", async () => {
    const world = seedWorld(functions);
    const task = functions.standin.addTask({
      workspaceSid: TEST_WORKSPACE_SID,
      workflowSid: PLAIN_WORKFLOW_SID,
      attributes: { flexInteractionChannelSid: world.channelSid },
    });
    const answer = await functions.call('transfer-to-agent', transferForm(world, { workerSid: world.colleague, taskSid: task }));
    expect(answer.status).toBe(500);
    expect(answer.body.error.message).toContain(PLAIN_WORKFLOW_SID);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
  });

  test('an agent transfer whose original task has no workflow either: 400 naming workflowSid, nothing created', async () => {
    const world = seedWorld(functions);
    const task = functions.standin.addTask({
      workspaceSid: TEST_WORKSPACE_SID,
      attributes: { flexInteractionChannelSid: world.channelSid },
    });
    const answer = await functions.call('transfer-to-agent', transferForm(world, { workerSid: world.colleague, taskSid: task }));
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.map((detail: { field: string }) => detail.field)).toEqual(['workflowSid']);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
  });
});

describe('cold transfers close the transferring agent when the new agent accepts (TRANSFER_COLD_CLOSE=on-accept)', () => {
  const functions = inProcessFunctions({ settings: { TRANSFER_WORKFLOW_SID: WORKFLOW_SID } });

  test('the agent stays until acceptance; the accepted event closes them, once', async () => {
    const world = seedWorld(functions);
    const answer = await functions.call('transfer-to-agent', coldToColleague(world));
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ transferType: 'cold', participantClosed: false, participantCloses: 'on-accept', warnings: [] });
    expect(functions.standin.requestsTo('participant-update')).toHaveLength(0);
    expect(statusOf(functions, world, world.agentParticipant)).toBe('active');

    const newTask = answer.body.taskSid as string;
    functions.standin.acceptReservation(functions.standin.reserve(newTask, world.colleague));
    await functions.standin.eventsSettled();

    expect(statusOf(functions, world, world.agentParticipant)).toBe('closed');
    expect(statusOf(functions, world, world.customerParticipant)).toBe('active');
    const accepted = functions.standin.deliveredEvents.filter((event) => event.eventType === 'reservation.accepted');
    expect(accepted.map((event) => event.status)).toEqual([204]);
    expect(functions.logs.find((log) => log.function === 'transfer-events' && log.outcome === 'participant_closed')).toBeDefined();
  });

  test('a repeated accepted event (TaskRouter may deliver twice) changes nothing more and costs no Twilio call', async () => {
    const world = seedWorld(functions);
    const answer = await functions.call('transfer-to-agent', coldToColleague(world));
    functions.standin.acceptReservation(functions.standin.reserve(answer.body.taskSid, world.colleague));
    await functions.standin.eventsSettled();
    const accepted = acceptedEvent(functions);
    const again = await functions.call('transfer-events', { form: accepted.form, headers: { 'X-Twilio-Signature': sign(accepted.form) } });
    expect(again.status).toBe(204);
    expect(functions.standin.requestsTo('participant-update')).toHaveLength(1);
  });

  test('a repeat reaching another instance: Twilio\'s "already removed" counts as done (204)', async () => {
    const world = seedWorld(functions);
    const answer = await functions.call('transfer-to-agent', coldToColleague(world));
    functions.standin.acceptReservation(functions.standin.reserve(answer.body.taskSid, world.colleague));
    await functions.standin.eventsSettled();
    const accepted = acceptedEvent(functions);
    functions.newInstance();
    const again = await functions.call('transfer-events', { form: accepted.form, headers: { 'X-Twilio-Signature': sign(accepted.form) } });
    expect(again.status).toBe(204);
    expect(functions.standin.requestsTo('participant-update')).toHaveLength(2);
    expect(statusOf(functions, world, world.agentParticipant)).toBe('closed');
  });

  test.each([
    ['declined by every agent, then timed out', 'timeout'],
    ['canceled', 'cancel'],
  ])('a transfer %s closes nobody: the transferring agent is still with the customer', async (_label, how) => {
    const world = seedWorld(functions);
    const answer = await functions.call('transfer-to-agent', coldToColleague(world));
    const newTask = answer.body.taskSid as string;
    if (how === 'timeout') {
      functions.standin.rejectReservation(functions.standin.reserve(newTask, world.colleague));
      functions.standin.timeOutTask(newTask);
    } else {
      const canceled = await functions.call('cancel-transfer', {
        form: { Token: world.token, interactionSid: world.interactionSid, channelSid: world.channelSid, taskSid: newTask },
      });
      expect(canceled.status).toBe(200);
    }
    await functions.standin.eventsSettled();
    expect(statusOf(functions, world, world.agentParticipant)).toBe('active');
    expect(functions.standin.requestsTo('participant-update')).toHaveLength(0);
    expect(functions.logs.some((log) => log.function === 'transfer-events' && log.outcome === 'transfer_not_accepted')).toBe(true);
  });

  test('a close that fails answers 5xx (TaskRouter retries) and the log names the participant to close by hand', async () => {
    const world = seedWorld(functions);
    const answer = await functions.call('transfer-to-agent', coldToColleague(world));
    functions.standin.script('participant-update', { status: 500 });
    functions.standin.acceptReservation(functions.standin.reserve(answer.body.taskSid, world.colleague));
    await functions.standin.eventsSettled();
    const accepted = functions.standin.deliveredEvents.filter((event) => event.eventType === 'reservation.accepted');
    expect(accepted[0]?.status).toBeGreaterThanOrEqual(500);
    const failed = functions.logs.find((log) => log.function === 'transfer-events' && log.status >= 500);
    expect(failed?.reason).toContain(world.agentParticipant);
    expect(failed?.reason).toMatch(/by hand/);
    // TaskRouter's retry reached a healthy Twilio: the agent is closed after all.
    expect(accepted.at(-1)?.status).toBe(204);
    expect(statusOf(functions, world, world.agentParticipant)).toBe('closed');
  });

  test('the workspace callback is not this service: the agent is closed at once, with a warning naming TRANSFER_COLD_CLOSE', async () => {
    const world = seedWorld(functions, { callbackUrl: undefined });
    const answer = await functions.call('transfer-to-agent', coldToColleague(world));
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ participantClosed: true, participantCloses: null });
    expect(answer.body.warnings.join(' ')).toContain('TRANSFER_COLD_CLOSE');
    expect(statusOf(functions, world, world.agentParticipant)).toBe('closed');
  });

  test.each([
    ['an EventsFilter without reservation.accepted', { eventsFilter: 'task.created,task.canceled' }, 'EventsFilter'],
    [
      'the callback URL with a trailing slash (TaskRouter would sign that other URL)',
      { eventCallbackUrl: `${CALLBACK_URL}/` },
      'EventCallbackUrl',
    ],
  ])('%s: the agent is closed at once, with a warning', async (_label, change, named) => {
    const world = seedWorld(functions);
    functions.standin.changeWorkspace(TEST_WORKSPACE_SID, change);
    const answer = await functions.call('transfer-to-agent', coldToColleague(world));
    expect(answer.body).toMatchObject({ participantClosed: true, participantCloses: null });
    expect(answer.body.warnings.join(' ')).toContain(named);
    expect(statusOf(functions, world, world.agentParticipant)).toBe('closed');
  });

  test('the invite carries a sealed close instruction, and nothing from the request or the old task can replace it', async () => {
    const world = seedWorld(functions);
    const forged = {
      interactionSid: world.interactionSid,
      channelSid: world.channelSid,
      participantSid: world.customerParticipant,
      status: 'closed',
      seal: 'ab',
    };
    const answer = await functions.call(
      'transfer-to-agent',
      coldToColleague(world, { attributes: JSON.stringify({ transferClose: forged }) }),
    );
    expect(answer.status).toBe(201);
    const attributes = functions.standin.requestsTo('invite-create')[0]?.routing?.properties.attributes as {
      transferClose: { seal: string };
    };
    expect(attributes.transferClose).toMatchObject({ participantSid: world.agentParticipant, status: 'closed' });
    expect(attributes.transferClose.seal).toMatch(/^[0-9a-f]{64}$/);
  });
});

function acceptedEvent(functions: InProcessFunctions) {
  const accepted = functions.standin.deliveredEvents.find((event) => event.eventType === 'reservation.accepted');
  if (accepted === undefined) throw new Error('no reservation.accepted event was delivered');
  return accepted;
}

function sign(form: Record<string, string>, authToken = TEST_AUTH_TOKEN): string {
  return getExpectedTwilioSignature(authToken, CALLBACK_URL, form);
}

describe('/transfer-events accepts only what TaskRouter sends', () => {
  const functions = inProcessFunctions({ settings: { TRANSFER_WORKFLOW_SID: WORKFLOW_SID } });

  async function acceptedEventOfColdTransfer(): Promise<{ world: World; form: Record<string, string> }> {
    const world = seedWorld(functions);
    const events: Record<string, string>[] = [];
    functions.standin.eventDelivery = async ({ form }) => {
      events.push(form);
      return { status: 204 };
    };
    const answer = await functions.call('transfer-to-agent', coldToColleague(world));
    functions.standin.acceptReservation(functions.standin.reserve(answer.body.taskSid, world.colleague));
    await functions.standin.eventsSettled();
    const form = events.find((event) => event.EventType === 'reservation.accepted');
    if (form === undefined) throw new Error('no reservation.accepted event was posted');
    functions.standin.requests.length = 0;
    return { world, form };
  }

  test.each([
    ['no signature', () => ({})],
    ['a signature made with another auth token', (form: Record<string, string>) => ({ 'X-Twilio-Signature': sign(form, 'Z'.repeat(32)) })],
  ])('%s: 401 and nothing closed', async (_label, headers) => {
    const { world, form } = await acceptedEventOfColdTransfer();
    const answer = await functions.call('transfer-events', { form, headers: headers(form) });
    expect(answer.status).toBe(401);
    expect(functions.standin.requestsTo('participant-update')).toHaveLength(0);
    expect(statusOf(functions, world, world.agentParticipant)).toBe('active');
  });

  test('a Flex token is not accepted here', async () => {
    const { world, form } = await acceptedEventOfColdTransfer();
    const answer = await functions.call('transfer-events', { form: { ...form, Token: world.token } });
    expect(answer.status).toBe(401);
    expect(functions.standin.requestsTo('token-validate')).toHaveLength(0);
  });

  test('a tampered seal (another participant named): 204, nothing closed, no Twilio call', async () => {
    const { world, form } = await acceptedEventOfColdTransfer();
    const attributes = JSON.parse(form.TaskAttributes ?? '{}');
    attributes.transferClose.participantSid = world.customerParticipant;
    const tampered = { ...form, TaskAttributes: JSON.stringify(attributes) };
    const answer = await functions.call('transfer-events', { form: tampered, headers: { 'X-Twilio-Signature': sign(tampered) } });
    expect(answer.status).toBe(204);
    expect(functions.standin.requests).toHaveLength(0);
    expect(statusOf(functions, world, world.customerParticipant)).toBe('active');
  });

  test('a valid seal copied into another task’s attributes: 204, nobody closed (the task is no invite of that channel)', async () => {
    const { world, form } = await acceptedEventOfColdTransfer();
    const otherTask = functions.standin.addTask({ workspaceSid: TEST_WORKSPACE_SID, attributes: {} });
    const copied = { ...form, TaskSid: otherTask, ResourceSid: otherTask };
    const answer = await functions.call('transfer-events', { form: copied, headers: { 'X-Twilio-Signature': sign(copied) } });
    expect(answer.status).toBe(204);
    expect(functions.standin.requestsTo('participant-update')).toHaveLength(0);
    expect(statusOf(functions, world, world.agentParticipant)).toBe('active');
    expect(answer.log.outcome).toBe('seal_not_of_task');
  });

  test('Twilio refusing the close (a 4xx other than "already removed"): 502, so TaskRouter delivers it again', async () => {
    const { world, form } = await acceptedEventOfColdTransfer();
    functions.standin.script('participant-update', { status: 400, body: { code: 20001, message: 'Invalid transition', status: 400 } });
    const answer = await functions.call('transfer-events', { form, headers: { 'X-Twilio-Signature': sign(form) } });
    expect(answer.status).toBe(502);
    expect(answer.log.reason).toContain(world.agentParticipant);
    expect(answer.log.reason).toMatch(/by hand/);
  });

  test('an event of another workspace or account: 204, nothing done, a log line', async () => {
    const { world, form } = await acceptedEventOfColdTransfer();
    for (const other of [{ WorkspaceSid: newSid('WS') }, { AccountSid: newSid('AC') }] as Record<string, string>[]) {
      const foreign = { ...form, ...other };
      const answer = await functions.call('transfer-events', { form: foreign, headers: { 'X-Twilio-Signature': sign(foreign) } });
      expect(answer.status).toBe(204);
      expect(answer.body).toBeUndefined();
      expect(answer.headers['Content-Type']).toBe('application/json');
    }
    expect(functions.standin.requests).toHaveLength(0);
    expect(functions.logs.filter((log) => log.outcome === 'other_workspace')).toHaveLength(2);
    expect(statusOf(functions, world, world.agentParticipant)).toBe('active');
  });

  test('any other event answers 204 at once, with no Twilio call', async () => {
    const form = {
      EventType: 'worker.activity.update',
      AccountSid: TEST_ACCOUNT_SID,
      WorkspaceSid: TEST_WORKSPACE_SID,
      WorkerSid: newSid('WK'),
    };
    const answer = await functions.call('transfer-events', { form, headers: { 'X-Twilio-Signature': sign(form) } });
    expect(answer.status).toBe(204);
    expect(functions.standin.requests).toHaveLength(0);
  });
});

describe('cancel only while the transferring agent is there', () => {
  const functions = inProcessFunctions({ settings: { TRANSFER_WORKFLOW_SID: WORKFLOW_SID } });

  const cancel = (world: World, taskSid: string) =>
    functions.call('cancel-transfer', {
      form: { Token: world.token, interactionSid: world.interactionSid, channelSid: world.channelSid, taskSid },
    });
  const list = (world: World) =>
    functions.call('list-transfers', { form: { Token: world.token, interactionSid: world.interactionSid, channelSid: world.channelSid } });

  test('a cold transfer closed at once (the callback is not set): 409 transferring_agent_gone, nothing canceled', async () => {
    const world = seedWorld(functions, { callbackUrl: undefined });
    const answer = await functions.call('transfer-to-agent', coldToColleague(world));
    const listed = await list(world);
    expect(listed.body.transfers[0]).toMatchObject({ taskStatus: 'pending', participantCloses: null, cancelable: false });
    // A supervisor may act on any conversation: the refusal is about the customer, not about who asks.
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const refused = await functions.call('cancel-transfer', {
      form: { Token: token, interactionSid: world.interactionSid, channelSid: world.channelSid, taskSid: answer.body.taskSid },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('transferring_agent_gone');
    expect(functions.standin.task(answer.body.taskSid)?.assignment_status).toBe('pending');
  });

  test('a cold transfer waiting for acceptance can be canceled; the list tells the truth before and after', async () => {
    const world = seedWorld(functions);
    const answer = await functions.call('transfer-to-agent', coldToColleague(world));
    expect((await list(world)).body.transfers[0]).toMatchObject({
      taskStatus: 'pending',
      participantCloses: 'on-accept',
      cancelable: true,
    });
    const canceled = await cancel(world, answer.body.taskSid);
    expect(canceled.status).toBe(200);
    expect((await list(world)).body.transfers[0]).toMatchObject({ taskStatus: 'canceled', cancelable: false });
    expect(statusOf(functions, world, world.agentParticipant)).toBe('active');
  });

  test('a transfer whose task TaskRouter no longer has: no taskStatus, not cancelable', async () => {
    const world = seedWorld(functions);
    await functions.call('transfer-to-agent', coldToColleague(world));
    functions.standin.script('task-fetch', { status: 404, body: { code: 20404, message: 'not found', status: 404 } });
    expect((await list(world)).body.transfers[0]).toMatchObject({ taskStatus: null, cancelable: false });
  });

  test('a warm transfer after its agent left the conversation (their task wrapping): not cancelable, 409, nothing canceled', async () => {
    const world = seedWorld(functions);
    const answer = await functions.call('transfer-to-queue', transferForm(world, { queueSid: world.queueSid }));
    functions.standin.setTaskStatus(world.taskSid, 'wrapping');
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const asSupervisor = { Token: token, interactionSid: world.interactionSid, channelSid: world.channelSid };
    const listed = await functions.call('list-transfers', { form: asSupervisor });
    expect(listed.body.transfers[0]).toMatchObject({ taskStatus: 'pending', cancelable: false });
    const refused = await functions.call('cancel-transfer', { form: { ...asSupervisor, taskSid: answer.body.taskSid } });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('transferring_agent_gone');
    expect(functions.standin.task(answer.body.taskSid)?.assignment_status).toBe('pending');
  });

  test('after acceptance the list says so and the transfer can no longer be canceled', async () => {
    const world = seedWorld(functions);
    const answer = await functions.call('transfer-to-agent', coldToColleague(world));
    functions.standin.acceptReservation(functions.standin.reserve(answer.body.taskSid, world.colleague));
    await functions.standin.eventsSettled();
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const listed = await functions.call('list-transfers', {
      form: { Token: token, interactionSid: world.interactionSid, channelSid: world.channelSid },
    });
    expect(listed.body.transfers[0]).toMatchObject({ taskStatus: 'assigned', cancelable: false });
    const refused = await functions.call('cancel-transfer', {
      form: { Token: token, interactionSid: world.interactionSid, channelSid: world.channelSid, taskSid: answer.body.taskSid },
    });
    expect(refused.status).toBe(409);
  });
});

describe('a participantSid must be an agent participant of the channel, for every caller', () => {
  const functions = inProcessFunctions({ settings: { TRANSFER_WORKFLOW_SID: WORKFLOW_SID, TRANSFER_COLD_CLOSE: 'immediate' } });

  test.each([
    ["the customer's participant", (world: World) => world.customerParticipant],
    ['an unknown participant', () => newSid('UT')],
  ])('a supervisor naming %s: 400 naming participantSid, nothing created or closed', async (_label, pick) => {
    const world = seedWorld(functions);
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const answer = await functions.call('transfer-to-queue', {
      form: { ...coldToColleague(world).form, Token: token, queueSid: world.queueSid, participantSid: pick(world) },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.map((detail: { field: string }) => detail.field)).toContain('participantSid');
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
    expect(functions.standin.requestsTo('participant-update')).toHaveLength(0);
  });
});
