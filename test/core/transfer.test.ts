/**
 * The transfer contract, in-process (the real helper library talking to the
 * Twilio stand-in): what each function sends to Twilio, what it answers, how
 * Twilio's answers are reported, how the new task starts from the task being
 * transferred, and who may transfer which conversation.
 */
import { getExpectedTwilioSignature } from 'twilio';
import { newSid } from '../../dev/twilio-standin';
import { joinAsAgent, TEST_WORKFLOW_SID } from '../support/fixtures';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_WORKSPACE_SID } from '../support/functions-server';
import { transferSids } from '../support/harness';
import { type FunctionName, grantAgentToken, IN_PROCESS_DOMAIN, inProcessFunctions, type InProcessFunctions } from '../support/in-process';

/** The routes Twilio saw, in order. */
function routes(functions: InProcessFunctions): string[] {
  return functions.standin.requests.map((request) => request.route);
}

function inviteProperties(functions: InProcessFunctions): Record<string, unknown> | undefined {
  return functions.standin.requestsTo('invite-create')[0]?.routing?.properties;
}

/** Headers for a request signed as Studio's Run Function widget signs it (form fields). */
function signedBy(name: FunctionName, fields: Record<string, string>): Record<string, string> {
  return { 'X-Twilio-Signature': getExpectedTwilioSignature(TEST_AUTH_TOKEN, `https://${IN_PROCESS_DOMAIN}/${name}`, fields) };
}

function fieldsOf(body: { error: { details?: { field: string }[] } }): string[] {
  return (body.error.details ?? []).map((detail) => detail.field).sort();
}

/** What Flex writes on a conversation's task: the channel it belongs to (v3: a taskSid must be a task of the request's channel). */
function ofChannel(sids: { interactionSid: string; channelSid: string }): Record<string, string> {
  return { flexInteractionSid: sids.interactionSid, flexInteractionChannelSid: sids.channelSid };
}

/** The status Flex holds for a participant of the channel (Twilio does not list it). */
function statusOf(functions: InProcessFunctions, sids: { interactionSid: string; channelSid: string }, participantSid: string) {
  return functions.standin.participants(sids.interactionSid, sids.channelSid)?.find((participant) => participant.sid === participantSid)
    ?.status;
}

/** A worker accepts the transfer's task; its events reach the in-process /transfer-events. */
async function accept(functions: InProcessFunctions, taskSid: string, workerSid: string): Promise<void> {
  functions.standin.acceptReservation(functions.standin.reserve(taskSid, workerSid));
  await functions.standin.eventsSettled();
}

describe('with default workflow, agent queue and task channel set', () => {
  const DEFAULT_WORKFLOW = newSid('WW');
  const DEFAULT_AGENT_QUEUE = newSid('WQ');
  const SETTINGS = { TRANSFER_WORKFLOW_SID: DEFAULT_WORKFLOW, TRANSFER_AGENT_QUEUE_SID: DEFAULT_AGENT_QUEUE, TRANSFER_TASK_CHANNEL: 'sms' };
  const functions = inProcessFunctions({ settings: SETTINGS });
  /** The same, with v2's invite shape for agent transfers (worker_sid with queue_sid). */
  const direct = inProcessFunctions({ settings: { ...SETTINGS, TRANSFER_AGENT_ROUTING: 'direct' } });

  test("transfer-to-agent from the conversation's agent invites the worker with routing built from settings and request", async () => {
    const { token, workerSid: callerWorker } = grantAgentToken(functions.standin);
    const sids = transferSids(functions.standin);
    joinAsAgent(functions.standin, sids, callerWorker);
    const answer = await functions.call('transfer-to-agent', {
      json: {
        Token: token,
        interactionSid: sids.interactionSid,
        channelSid: sids.channelSid,
        workerSid: sids.workerSid,
        priority: '5',
        timeout: 120,
        attributes: {
          customerName: 'Ada',
          transferType: 'spoofed',
          transferredByWorkerSid: 'WKspoof',
          transferredFromTaskSid: 'WTspoof',
          transferRequestKey: 'spoof',
          transferQueueSid: 'WQspoof',
          workerSidsInConversation: ['WKspoof'],
        },
      },
    });

    expect(answer.status).toBe(201);
    expect(answer.headers['Content-Type']).toMatch(/^application\/json/);
    const [invite] = functions.standin.requestsTo('invite-create');
    expect(invite?.method).toBe('POST');
    expect(invite?.host).toBe('flex-api.twilio.com');
    expect(invite?.path).toBe(`/v1/Interactions/${sids.interactionSid}/Channels/${sids.channelSid}/Invites`);
    expect(invite?.headers.authorization).toBe('Basic ' + Buffer.from(`${TEST_ACCOUNT_SID}:${TEST_AUTH_TOKEN}`).toString('base64'));
    // v3 (TRANSFER_AGENT_ROUTING=workflow, the default): neither worker_sid nor queue_sid, not even the agent queue setting's;
    // the workflow reaches the worker by known-agent routing on transferTargetSid.
    expect(invite?.routing).toEqual({
      properties: {
        workspace_sid: TEST_WORKSPACE_SID,
        workflow_sid: DEFAULT_WORKFLOW,
        task_channel_unique_name: 'sms',
        priority: 5,
        timeout: 120,
        attributes: {
          customerName: 'Ada',
          transferTargetType: 'worker',
          transferTargetSid: sids.workerSid,
          transferType: 'warm',
          transferredByWorkerSid: callerWorker,
          workerSidsInConversation: [callerWorker],
        },
      },
    });
    expect(answer.body).toEqual({
      inviteSid: expect.stringMatching(/^KG[0-9a-f]{32}$/),
      interactionSid: sids.interactionSid,
      channelSid: sids.channelSid,
      taskSid: expect.stringMatching(/^WT[0-9a-f]{32}$/),
      target: { type: 'worker', sid: sids.workerSid },
      transferType: 'warm',
      participantClosed: false,
      participantCloses: null,
      warnings: [],
    });
    // The answer names the task Twilio created for the invite.
    expect(functions.standin.task(answer.body.taskSid)?.attributes).toBe(JSON.stringify(invite?.routing?.properties.attributes));
    expect(answer.headers['X-Request-Id']).toBe(answer.log.requestId);
  });

  test('transfer-to-queue targets the queue, request values override defaults, workspace never from the request', async () => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const sids = transferSids(functions.standin);
    const workflowSid = functions.standin.addWorkflow({ workspaceSid: TEST_WORKSPACE_SID });
    const answer = await functions.call('transfer-to-queue', {
      form: {
        Token: token,
        interactionSid: sids.interactionSid,
        channelSid: sids.channelSid,
        queueSid: sids.queueSid,
        workflowSid,
        taskChannel: 'voice',
        attributes: JSON.stringify({ reason: 'billing' }),
        workspaceSid: newSid('WS'),
        workspace_sid: newSid('WS'),
      },
    });

    expect(answer.status).toBe(201);
    expect(inviteProperties(functions)).toEqual({
      workspace_sid: TEST_WORKSPACE_SID,
      workflow_sid: workflowSid,
      queue_sid: sids.queueSid,
      task_channel_unique_name: 'voice',
      attributes: expect.objectContaining({ reason: 'billing', transferTargetType: 'queue', transferTargetSid: sids.queueSid }),
    });
    expect(answer.body.target).toEqual({ type: 'queue', sid: sids.queueSid });
  });

  test('an agent transfer naming its queue sends that queue with the worker', async () => {
    const { token } = grantAgentToken(direct.standin, ['supervisor']);
    const sids = transferSids(direct.standin);
    const answer = await direct.call('transfer-to-agent', { json: { Token: token, ...sids } });
    expect(answer.status).toBe(201);
    expect(inviteProperties(direct)).toMatchObject({ queue_sid: sids.queueSid, worker_sid: sids.workerSid });
  });

  test('a request that carries no body is refused with 405 and nothing reaches Twilio', async () => {
    const { token } = grantAgentToken(functions.standin);
    const answer = await functions.call('transfer-to-queue', { query: { Token: token, ...transferSids(functions.standin) } });
    expect(answer.status).toBe(405);
    expect(answer.body.error.code).toBe('method_not_allowed');
    expect(functions.standin.requests).toHaveLength(0);
  });

  test('every invalid field is reported at once with 400 and nothing is sent to Twilio but the token check', async () => {
    const { token } = grantAgentToken(functions.standin);
    const answer = await functions.call('transfer-to-agent', {
      json: {
        Token: token,
        interactionSid: 'KD123',
        channelSid: newSid('UO'),
        priority: '5.5',
        timeout: '0',
        transferType: 'lukewarm',
        taskChannel: 'two words',
        participantSid: newSid('WK'),
      },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_request');
    expect(fieldsOf(answer.body)).toEqual([
      'interactionSid',
      'participantSid',
      'priority',
      'taskChannel',
      'timeout',
      'transferType',
      'workerSid',
    ]);
    expect(routes(functions)).toEqual(['token-validate']);
  });

  test('attributes over 16384 bytes are refused with 413', async () => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const answer = await functions.call('transfer-to-queue', {
      json: { Token: token, ...transferSids(functions.standin), attributes: { note: 'é'.repeat(8200) } },
    });
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe('payload_too_large');
    expect(fieldsOf(answer.body)).toEqual(['attributes']);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
  });

  test('attributes that are not an object are a 400, not sent', async () => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const answer = await functions.call('transfer-to-queue', {
      form: { Token: token, ...transferSids(functions.standin), attributes: '[1,2]' },
    });
    expect(answer.status).toBe(400);
    expect(fieldsOf(answer.body)).toEqual(['attributes']);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
  });

  test.each([
    { twilioStatus: 404, status: 404, code: 'not_found' },
    { twilioStatus: 409, status: 409, code: 'conflict' },
    { twilioStatus: 400, status: 422, code: 'upstream_rejected' },
    { twilioStatus: 401, status: 502, code: 'upstream_error' },
    { twilioStatus: 403, status: 502, code: 'upstream_error' },
    { twilioStatus: 500, status: 502, code: 'upstream_error' },
  ])('Twilio answering $twilioStatus to the invite gives $status $code', async ({ twilioStatus, status, code }) => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    functions.standin.script('invite-create', {
      status: twilioStatus,
      body: {
        code: 20000 + twilioStatus,
        message: `Twilio says ${twilioStatus}`,
        more_info: 'https://www.twilio.com/docs/errors/x',
        status: twilioStatus,
      },
    });
    const answer = await functions.call('transfer-to-queue', { json: { Token: token, ...transferSids(functions.standin) } });
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(answer.body.error.twilioCode).toBe(20000 + twilioStatus);
    expect(answer.body.error.moreInfo).toBe('https://www.twilio.com/docs/errors/x');
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(1);
  });

  test('an unknown interaction is a 404 from Twilio passed on as not_found', async () => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const sids = transferSids(functions.standin);
    functions.standin.forgetInteraction(sids.interactionSid);
    const answer = await functions.call('transfer-to-agent', { json: { Token: token, ...sids } });
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('not_found');
    expect(answer.body.error.twilioCode).toBe(20404);
  });

  test('error answers carry no stack trace and no credential', async () => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    functions.standin.script('invite-create', { status: 500 });
    const answer = await functions.call('transfer-to-queue', { json: { Token: token, ...transferSids(functions.standin) } });
    expect(answer.status).toBe(502);
    const text = JSON.stringify(answer.body) + JSON.stringify(answer.headers);
    expect(text).not.toMatch(/\bat .+:\d+:\d+/);
    expect(text).not.toContain(token);
    expect(text).not.toContain(TEST_AUTH_TOKEN);
  });
});

describe('without optional settings', () => {
  const functions = inProcessFunctions();
  /** The same, with v2's invite shape for agent transfers (a queue with the worker). */
  const direct = inProcessFunctions({ settings: { TRANSFER_AGENT_ROUTING: 'direct' } });

  test("absent options are omitted from routing rather than sent empty; the task channel falls back to 'chat'", async () => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const sids = transferSids(functions.standin);
    const answer = await functions.call('transfer-to-queue', {
      json: { Token: token, interactionSid: sids.interactionSid, channelSid: sids.channelSid, queueSid: sids.queueSid, priority: '' },
    });
    expect(answer.status).toBe(201);
    const properties = inviteProperties(functions);
    // v3: every invite names a workflow (TRANSFER_WORKFLOW_SID, which a deployment now sets).
    expect(Object.keys(properties ?? {}).sort()).toEqual([
      'attributes',
      'queue_sid',
      'task_channel_unique_name',
      'workflow_sid',
      'workspace_sid',
    ]);
    expect(properties?.workflow_sid).toBe(TEST_WORKFLOW_SID);
    expect(properties?.task_channel_unique_name).toBe('chat');
  });

  test('an agent transfer with no queue known is a 400 naming queueSid and its setting, before any Twilio call', async () => {
    const sids = transferSids(direct.standin);
    const fields = { interactionSid: sids.interactionSid, channelSid: sids.channelSid, workerSid: sids.workerSid };
    const answer = await direct.call('transfer-to-agent', { form: fields, headers: signedBy('transfer-to-agent', fields) });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_request');
    expect(fieldsOf(answer.body)).toEqual(['queueSid']);
    expect(answer.body.error.details[0].message).toContain('TRANSFER_AGENT_QUEUE_SID');
    expect(direct.standin.requests).toHaveLength(0);
  });

  test('timeout accepts TaskRouter’s two weeks (1209600 s) and refuses one second more', async () => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const accepted = await functions.call('transfer-to-queue', {
      form: { Token: token, ...transferSids(functions.standin), timeout: '1209600' },
    });
    expect(accepted.status).toBe(201);
    expect(inviteProperties(functions)?.timeout).toBe(1_209_600);

    const refused = await functions.call('transfer-to-queue', {
      form: { Token: token, ...transferSids(functions.standin), timeout: '1209601' },
    });
    expect(refused.status).toBe(400);
    expect(fieldsOf(refused.body)).toEqual(['timeout']);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(1);
  });
});

describe('with a workflow allow-list', () => {
  const allowed = newSid('WW');
  const functions = inProcessFunctions({ settings: { TRANSFER_ALLOWED_WORKFLOW_SIDS: `${allowed}, ${newSid('WW')}` } });

  test('a workflow outside the list is forbidden; one inside it is used', async () => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const refused = await functions.call('transfer-to-queue', {
      json: { Token: token, ...transferSids(functions.standin), workflowSid: newSid('WW') },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);

    const accepted = await functions.call('transfer-to-queue', {
      json: { Token: token, ...transferSids(functions.standin), workflowSid: allowed },
    });
    expect(accepted.status).toBe(201);
    expect(inviteProperties(functions)?.workflow_sid).toBe(allowed);
  });
});

describe('misconfigured', () => {
  const functions = inProcessFunctions({ settings: { TWILIO_FLEX_WORKSPACE_SID: 'WS-not-a-sid' } });

  test('a malformed setting is a 500 naming the variable but never its value', async () => {
    const { token } = grantAgentToken(functions.standin);
    const answer = await functions.call('transfer-to-queue', {
      json: { Token: token, ...transferSids(functions.standin) },
      headers: { Origin: 'https://flex.twilio.com' },
    });
    expect(answer.status).toBe(500);
    expect(answer.body.error.code).toBe('misconfigured');
    expect(answer.body.error.message).toContain('TWILIO_FLEX_WORKSPACE_SID');
    expect(JSON.stringify(answer.body)).not.toContain('WS-not-a-sid');
    expect(answer.headers['Access-Control-Allow-Origin']).toBe('https://flex.twilio.com');
    expect(functions.standin.requests).toHaveLength(0);
  });
});

describe('the task being transferred (taskSid): the new task starts from it', () => {
  const functions = inProcessFunctions();
  /** Nothing set but what a deployment must have, and v2's invite shape for agent transfers (the queue is direct routing's). */
  const direct = inProcessFunctions({ settings: { TRANSFER_AGENT_ROUTING: 'direct', TRANSFER_WORKFLOW_SID: undefined } });

  test("the new task carries the original's attributes, the request's over them, conversations merged one level", async () => {
    const { token, workerSid: callerWorker } = grantAgentToken(functions.standin, ['supervisor']);
    const sids = transferSids(functions.standin);
    const taskSid = functions.standin.addTask({
      workspaceSid: TEST_WORKSPACE_SID,
      attributes: {
        ...ofChannel(sids),
        customer: { name: 'Ann', tier: 'silver' },
        channelType: 'web',
        conversations: { conversation_id: 'CONV-1', initiated_by: 'customer' },
        transferType: 'spoofed by an earlier hop',
        transferTargetSid: 'WQspoof',
      },
    });
    const answer = await functions.call('transfer-to-queue', {
      json: {
        Token: token,
        interactionSid: sids.interactionSid,
        channelSid: sids.channelSid,
        queueSid: sids.queueSid,
        taskSid,
        attributes: {
          customer: { tier: 'gold' },
          priorityReason: 'vip',
          conversations: { conversation_attribute_1: 'billing', conversation_id: 'from-the-request' },
        },
      },
    });

    expect(answer.status).toBe(201);
    const [fetched] = functions.standin.requestsTo('task-fetch');
    expect(fetched?.method).toBe('GET');
    expect(fetched?.host).toBe('taskrouter.twilio.com');
    expect(fetched?.path).toBe(`/v1/Workspaces/${TEST_WORKSPACE_SID}/Tasks/${taskSid}`);
    expect(inviteProperties(functions)?.attributes).toEqual({
      ...ofChannel(sids),
      customer: { tier: 'gold' },
      channelType: 'web',
      priorityReason: 'vip',
      conversations: { conversation_id: 'CONV-1', initiated_by: 'customer', conversation_attribute_1: 'billing' },
      transferTargetType: 'queue',
      transferTargetSid: sids.queueSid,
      transferType: 'warm',
      transferredByWorkerSid: callerWorker,
      transferredFromTaskSid: taskSid,
      workerSidsInConversation: [],
    });
  });

  test.each([
    { original: {}, case: 'no conversations object' },
    { original: { conversations: { initiated_by: 'customer' } }, case: 'conversations without an id' },
  ])("conversations.conversation_id becomes the original task's SID when it has none ($case)", async ({ original }) => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const sids = transferSids(functions.standin);
    const taskSid = functions.standin.addTask({ workspaceSid: TEST_WORKSPACE_SID, attributes: { ...original, ...ofChannel(sids) } });
    const answer = await functions.call('transfer-to-queue', { json: { Token: token, ...sids, taskSid } });
    expect(answer.status).toBe(201);
    const attributes = inviteProperties(functions)?.attributes as { conversations: Record<string, unknown> };
    expect(attributes.conversations).toEqual({ ...(original as { conversations?: object }).conversations, conversation_id: taskSid });
  });

  test("with nothing in the request or settings, the original task's channel, workflow and queue are used", async () => {
    const { token } = grantAgentToken(direct.standin, ['supervisor']);
    const originalWorkflow = newSid('WW');
    const originalQueue = newSid('WQ');
    const sids = transferSids(direct.standin);
    const taskSid = direct.standin.addTask({
      workspaceSid: TEST_WORKSPACE_SID,
      taskChannelUniqueName: 'sms',
      workflowSid: originalWorkflow,
      taskQueueSid: originalQueue,
      attributes: ofChannel(sids),
    });
    const answer = await direct.call('transfer-to-agent', {
      json: { Token: token, interactionSid: sids.interactionSid, channelSid: sids.channelSid, workerSid: sids.workerSid, taskSid },
    });
    expect(answer.status).toBe(201);
    expect(inviteProperties(direct)).toMatchObject({
      workflow_sid: originalWorkflow,
      queue_sid: originalQueue,
      worker_sid: sids.workerSid,
      task_channel_unique_name: 'sms',
    });
  });

  test('a task that is not in the configured workspace is a 404 naming taskSid, and nothing is created', async () => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const elsewhere = functions.standin.addTask({ workspaceSid: newSid('WS'), attributes: { name: 'Ann' } });
    for (const taskSid of [elsewhere, newSid('WT')]) {
      functions.standin.requests.length = 0;
      const participantSid = newSid('UT');
      const sids = transferSids(functions.standin);
      functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [{ sid: participantSid }]);
      const answer = await functions.call('transfer-to-queue', {
        json: { Token: token, ...sids, taskSid, transferType: 'cold', participantSid },
      });
      expect(answer.status).toBe(404);
      expect(answer.body.error.code).toBe('not_found');
      expect(answer.body.error.details).toEqual([{ field: 'taskSid', message: expect.stringContaining(taskSid) }]);
      expect(functions.standin.requestsTo('task-fetch')[0]?.path).toBe(`/v1/Workspaces/${TEST_WORKSPACE_SID}/Tasks/${taskSid}`);
      expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
      expect(functions.standin.requestsTo('participant-update')).toHaveLength(0);
    }
  });

  test('an agent transfer whose original task has no queue, with none in request or settings: 400 naming queueSid, no invite', async () => {
    const { token } = grantAgentToken(direct.standin, ['supervisor']);
    const sids = transferSids(direct.standin);
    // Its workflow is known (v3: every invite names one), its queue is not.
    const taskSid = direct.standin.addTask({ workspaceSid: TEST_WORKSPACE_SID, workflowSid: newSid('WW'), attributes: ofChannel(sids) });
    const answer = await direct.call('transfer-to-agent', {
      json: { Token: token, interactionSid: sids.interactionSid, channelSid: sids.channelSid, workerSid: sids.workerSid, taskSid },
    });
    expect(answer.status).toBe(400);
    expect(fieldsOf(answer.body)).toEqual(['queueSid']);
    expect(direct.standin.requestsTo('invite-create')).toHaveLength(0);
  });
});

describe('the task being transferred, with default settings', () => {
  const SETTING_WORKFLOW = newSid('WW');
  const SETTING_QUEUE = newSid('WQ');
  // Which queue goes with the worker is direct routing's question (v2's invite shape, kept behind TRANSFER_AGENT_ROUTING=direct).
  const functions = inProcessFunctions({
    settings: {
      TRANSFER_WORKFLOW_SID: SETTING_WORKFLOW,
      TRANSFER_AGENT_QUEUE_SID: SETTING_QUEUE,
      TRANSFER_TASK_CHANNEL: 'voice',
      TRANSFER_AGENT_ROUTING: 'direct',
    },
  });

  function originalTask(sids: { interactionSid: string; channelSid: string }): string {
    return functions.standin.addTask({
      workspaceSid: TEST_WORKSPACE_SID,
      taskChannelUniqueName: 'sms',
      workflowSid: newSid('WW'),
      taskQueueSid: newSid('WQ'),
      attributes: ofChannel(sids),
    });
  }

  test("settings beat the original task's workflow and queue; the original's channel beats TRANSFER_TASK_CHANNEL", async () => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const sids = transferSids(functions.standin);
    const answer = await functions.call('transfer-to-agent', {
      json: {
        Token: token,
        interactionSid: sids.interactionSid,
        channelSid: sids.channelSid,
        workerSid: sids.workerSid,
        taskSid: originalTask(sids),
      },
    });
    expect(answer.status).toBe(201);
    expect(inviteProperties(functions)).toMatchObject({
      workflow_sid: SETTING_WORKFLOW,
      queue_sid: SETTING_QUEUE,
      worker_sid: sids.workerSid,
      task_channel_unique_name: 'sms',
    });
  });

  test('the request beats settings and the original task', async () => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const sids = transferSids(functions.standin);
    const workflowSid = functions.standin.addWorkflow({ workspaceSid: TEST_WORKSPACE_SID });
    const answer = await functions.call('transfer-to-agent', {
      json: { Token: token, ...sids, workflowSid, taskChannel: 'whatsapp', taskSid: originalTask(sids) },
    });
    expect(answer.status).toBe(201);
    expect(inviteProperties(functions)).toMatchObject({
      workflow_sid: workflowSid,
      queue_sid: sids.queueSid,
      worker_sid: sids.workerSid,
      task_channel_unique_name: 'whatsapp',
    });
  });

  test('without taskSid, the settings apply (nothing is fetched)', async () => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const sids = transferSids(functions.standin);
    const answer = await functions.call('transfer-to-queue', { json: { Token: token, ...sids } });
    expect(answer.status).toBe(201);
    expect(inviteProperties(functions)).toMatchObject({ workflow_sid: SETTING_WORKFLOW, task_channel_unique_name: 'voice' });
    expect(functions.standin.requestsTo('task-fetch')).toHaveLength(0);
  });
});

describe("who may transfer which conversation (the contract's ownership rule)", () => {
  const functions = inProcessFunctions();

  test('a plain agent who is not an agent participant of the channel: 403, nothing created or closed', async () => {
    const { token, workerSid } = grantAgentToken(functions.standin, ['agent']);
    const sids = transferSids(functions.standin);
    const othersParticipant = newSid('UT');
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [
      { sid: newSid('UT'), type: 'customer', routing_properties: { worker_sid: workerSid } },
      { sid: othersParticipant, type: 'agent', routing_properties: { worker_sid: newSid('WK') } },
    ]);
    for (const transferType of ['warm', 'cold']) {
      const answer = await functions.call('transfer-to-queue', {
        json: { Token: token, ...sids, transferType, ...(transferType === 'cold' ? { participantSid: othersParticipant } : {}) },
      });
      expect(answer.status).toBe(403);
      expect(answer.body.error.code).toBe('forbidden');
      expect(answer.body.error.message).toMatch(/not an agent participant/);
    }
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
    expect(functions.standin.requestsTo('participant-update')).toHaveLength(0);
  });

  test("a plain agent of the channel closing someone else's participant: 403, nothing created or closed", async () => {
    const { token, workerSid } = grantAgentToken(functions.standin, ['agent']);
    const sids = transferSids(functions.standin);
    const othersParticipant = newSid('UT');
    joinAsAgent(functions.standin, sids, workerSid, [
      { sid: othersParticipant, type: 'agent', routing_properties: { worker_sid: newSid('WK') } },
    ]);
    const answer = await functions.call('transfer-to-queue', {
      json: { Token: token, ...sids, transferType: 'cold', participantSid: othersParticipant },
    });
    expect(answer.status).toBe(403);
    expect(answer.body.error.message).toMatch(/only your own participant/);
    // v3: only the reads before the invite (the participants, and the workspace's callback for a cold transfer closing on acceptance).
    expect(routes(functions)[0]).toBe('token-validate');
    expect(routes(functions).slice(1).sort()).toEqual(['participant-list', 'workspace-fetch']);
  });

  test('a plain agent of the channel transfers it and may close their own participant', async () => {
    const { token, workerSid } = grantAgentToken(functions.standin, ['agent']);
    const sids = transferSids(functions.standin);
    const mine = joinAsAgent(functions.standin, sids, workerSid);
    const answer = await functions.call('transfer-to-queue', {
      json: { Token: token, ...sids, transferType: 'cold', participantSid: mine },
    });
    expect(answer.status).toBe(201);
    // v3 (TRANSFER_COLD_CLOSE=on-accept, the default): their participant is closed when the new agent accepts, not before.
    expect(answer.body).toMatchObject({ participantClosed: false, participantCloses: 'on-accept' });
    expect(inviteProperties(functions)?.attributes).toMatchObject({ transferClose: { participantSid: mine } });
    expect(routes(functions)[0]).toBe('token-validate');
    expect(routes(functions).slice(1, 3).sort()).toEqual(['participant-list', 'workspace-fetch']);
    expect(routes(functions).slice(3)).toEqual(['invite-create']);
    expect(statusOf(functions, sids, mine)).toBe('active');
    await accept(functions, answer.body.taskSid, sids.workerSid);
    expect(statusOf(functions, sids, mine)).toBe('closed');
  });

  test.each([[['supervisor']], [['admin']], [['agent', 'supervisor']]])(
    'roles %j are not restricted: any channel, any participant',
    async (roles) => {
      const { token } = grantAgentToken(functions.standin, roles);
      const sids = transferSids(functions.standin);
      const othersParticipant = newSid('UT');
      functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [
        { sid: othersParticipant, type: 'agent', routing_properties: { worker_sid: newSid('WK') } },
      ]);
      const answer = await functions.call('transfer-to-agent', {
        json: { Token: token, ...sids, transferType: 'cold', participantSid: othersParticipant },
      });
      expect(answer.status).toBe(201);
      // v3 (TRANSFER_COLD_CLOSE=on-accept, the default): that participant is closed when the new agent accepts.
      expect(answer.body).toMatchObject({ participantClosed: false, participantCloses: 'on-accept' });
      expect(functions.standin.requestsTo('participant-update')).toHaveLength(0);
      await accept(functions, answer.body.taskSid, sids.workerSid);
      expect(functions.standin.requestsTo('participant-update')[0]?.path).toMatch(new RegExp(`/Participants/${othersParticipant}$`));
      expect(statusOf(functions, sids, othersParticipant)).toBe('closed');
    },
  );

  test('signed (Studio) and Basic callers are not restricted', async () => {
    functions.settings.TRANSFER_BASIC_AUTH_USER = 'studio';
    functions.settings.TRANSFER_BASIC_AUTH_PASSWORD = 'a long enough password';
    try {
      const sids = transferSids(functions.standin);
      const participantSid = newSid('UT');
      functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [
        { sid: participantSid, type: 'agent', routing_properties: { worker_sid: newSid('WK') } },
      ]);
      const fields = {
        interactionSid: sids.interactionSid,
        channelSid: sids.channelSid,
        queueSid: sids.queueSid,
        transferType: 'cold',
        participantSid,
      };
      const signed = await functions.call('transfer-to-queue', { form: fields, headers: signedBy('transfer-to-queue', fields) });
      expect(signed.status).toBe(201);
      // v3 (TRANSFER_COLD_CLOSE=on-accept, the default): the participant named is closed when the new agent accepts.
      expect(signed.body).toMatchObject({ participantClosed: false, participantCloses: 'on-accept' });
      expect(inviteProperties(functions)?.attributes).toMatchObject({ transferClose: { participantSid } });

      const basic = await functions.call('transfer-to-agent', {
        json: transferSids(functions.standin),
        headers: { Authorization: 'Basic ' + Buffer.from('studio:a long enough password').toString('base64') },
      });
      expect(basic.status).toBe(201);
      // No token check; v3: each transfer reads first (the participants, with the workspace's callback for the cold one and the
      // workflow for the agent transfer), then invites.
      const seen = routes(functions);
      expect(seen).toHaveLength(6);
      expect(seen.slice(0, 2).sort()).toEqual(['participant-list', 'workspace-fetch']);
      expect(seen[2]).toBe('invite-create');
      expect(seen.slice(3, 5).sort()).toEqual(['participant-list', 'workflow-fetch']);
      expect(seen[5]).toBe('invite-create');
    } finally {
      delete functions.settings.TRANSFER_BASIC_AUTH_USER;
      delete functions.settings.TRANSFER_BASIC_AUTH_PASSWORD;
    }
  });
});

describe('TRANSFER_UNRESTRICTED_ROLES names the unrestricted roles', () => {
  const functions = inProcessFunctions({
    settings: { TRANSFER_ALLOWED_ROLES: 'agent,supervisor,lead', TRANSFER_UNRESTRICTED_ROLES: 'lead' },
  });

  test.each([
    { roles: ['agent', 'lead'], status: 201 },
    { roles: ['supervisor'], status: 403 },
  ])('roles $roles on a channel that is not theirs: $status', async ({ roles, status }) => {
    const { token } = grantAgentToken(functions.standin, roles);
    const sids = transferSids(functions.standin);
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [
      { sid: newSid('UT'), type: 'agent', routing_properties: { worker_sid: newSid('WK') } },
    ]);
    const answer = await functions.call('transfer-to-queue', { json: { Token: token, ...sids } });
    expect(answer.status).toBe(status);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(status === 201 ? 1 : 0);
  });
});

describe('TRANSFER_REQUIRE_PARTICIPANT=false', () => {
  const functions = inProcessFunctions({ settings: { TRANSFER_REQUIRE_PARTICIPANT: 'false' } });

  test('a plain agent may transfer a channel they are not part of; v3: the participants are still read, but not checked', async () => {
    const { token } = grantAgentToken(functions.standin, ['agent']);
    const sids = transferSids(functions.standin);
    const othersParticipant = newSid('UT');
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [
      { sid: othersParticipant, type: 'agent', routing_properties: { worker_sid: newSid('WK') } },
    ]);
    const warm = await functions.call('transfer-to-queue', { json: { Token: token, ...sids } });
    expect(warm.status).toBe(201);
    const cold = await functions.call('transfer-to-queue', {
      json: { Token: token, ...sids, transferType: 'cold', participantSid: othersParticipant },
    });
    expect(cold.status).toBe(201);
    // v3 (TRANSFER_COLD_CLOSE=on-accept, the default): the participant is closed when the new agent accepts.
    expect(cold.body).toMatchObject({ participantClosed: false, participantCloses: 'on-accept' });
    const seen = routes(functions);
    expect(seen.slice(0, 3)).toEqual(['token-validate', 'participant-list', 'invite-create']);
    expect(seen.slice(3, 5).sort()).toEqual(['participant-list', 'workspace-fetch']);
    expect(seen.slice(5)).toEqual(['invite-create']);
    await accept(functions, cold.body.taskSid, sids.workerSid);
    expect(statusOf(functions, sids, othersParticipant)).toBe('closed');
  });
});

describe('the log line', () => {
  const functions = inProcessFunctions();

  test('a failure after authentication still says who called, and never what they sent', async () => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const { interactionSid, channelSid, queueSid } = transferSids(functions.standin);

    const result = await functions.call('transfer-to-queue', {
      form: { Token: token, interactionSid, channelSid, queueSid, taskSid: newSid('WT') },
    });

    expect(result.status).toBe(404);
    // The token check, then (v3) the task fetch and the participant list together.
    expect(result.log).toMatchObject({ status: 404, outcome: 'not_found', callerKind: 'flex-token', upstreamAttempts: 3 });
    expect(result.log.requestId).toBe(result.headers['X-Request-Id']);
    expect(JSON.stringify(result.log)).not.toContain(token);
  });
});
