/**
 * The core contract through the real twilio-run server: what each function
 * sends to Twilio, what it answers, and how Twilio's answers are reported.
 */
import { agentToken, get, postForm, postJson, transferSids, useFunctions } from '../support/harness';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_WORKSPACE_SID } from '../support/functions-server';
import { newSid } from '../support/twilio-standin';

const DEFAULT_WORKFLOW = newSid('WW');
const DEFAULT_AGENT_QUEUE = newSid('WQ');

describe('with default workflow, agent queue and task channel set', () => {
  const harness = useFunctions({
    settings: {
      TRANSFER_WORKFLOW_SID: DEFAULT_WORKFLOW,
      TRANSFER_AGENT_QUEUE_SID: DEFAULT_AGENT_QUEUE,
      TRANSFER_TASK_CHANNEL: 'chat',
    },
  });

  test('transfer-to-agent invites the worker with routing built from settings and request', async () => {
    const { token, workerSid: callerWorker } = agentToken(harness.standin);
    const sids = transferSids();
    const taskSid = newSid('WT');
    const answer = await postJson(harness.url('/transfer-to-agent'), {
      Token: token,
      interactionSid: sids.interactionSid,
      channelSid: sids.channelSid,
      workerSid: sids.workerSid,
      taskSid,
      priority: '5',
      timeout: 120,
      attributes: { customerName: 'Ada', transferType: 'spoofed', transferredByWorkerSid: 'WKspoof' },
    });

    expect(answer.status).toBe(201);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    const [invite] = harness.standin.requestsTo('invite');
    expect(invite?.path).toBe(`/v1/Interactions/${sids.interactionSid}/Channels/${sids.channelSid}/Invites`);
    expect(invite?.headers.authorization).toBe('Basic ' + Buffer.from(`${TEST_ACCOUNT_SID}:${TEST_AUTH_TOKEN}`).toString('base64'));
    expect(invite?.routing).toEqual({
      properties: {
        workspace_sid: TEST_WORKSPACE_SID,
        workflow_sid: DEFAULT_WORKFLOW,
        queue_sid: DEFAULT_AGENT_QUEUE,
        worker_sid: sids.workerSid,
        task_channel_unique_name: 'chat',
        priority: 5,
        timeout: 120,
        attributes: {
          customerName: 'Ada',
          transferTargetType: 'worker',
          transferTargetSid: sids.workerSid,
          transferType: 'warm',
          transferredByWorkerSid: callerWorker,
          transferredFromTaskSid: taskSid,
        },
      },
    });
    expect(answer.json).toEqual({
      inviteSid: expect.stringMatching(/^KG[0-9a-f]{32}$/),
      interactionSid: sids.interactionSid,
      channelSid: sids.channelSid,
      taskSid: expect.stringMatching(/^WT[0-9a-f]{32}$/),
      target: { type: 'worker', sid: sids.workerSid },
      transferType: 'warm',
      participantClosed: false,
      warnings: [],
    });
  });

  test('transfer-to-queue targets the queue, request values override defaults, workspace never from the request', async () => {
    const { token } = agentToken(harness.standin);
    const sids = transferSids();
    const workflowSid = newSid('WW');
    const answer = await postForm(harness.url('/transfer-to-queue'), {
      Token: token,
      interactionSid: sids.interactionSid,
      channelSid: sids.channelSid,
      queueSid: sids.queueSid,
      workflowSid,
      taskChannel: 'voice',
      attributes: JSON.stringify({ reason: 'billing' }),
      workspaceSid: newSid('WS'),
      workspace_sid: newSid('WS'),
    });

    expect(answer.status).toBe(201);
    const properties = harness.standin.requestsTo('invite')[0]?.routing?.properties;
    expect(properties).toEqual({
      workspace_sid: TEST_WORKSPACE_SID,
      workflow_sid: workflowSid,
      queue_sid: sids.queueSid,
      task_channel_unique_name: 'voice',
      attributes: expect.objectContaining({ reason: 'billing', transferTargetType: 'queue', transferTargetSid: sids.queueSid }),
    });
    expect(properties).not.toHaveProperty('worker_sid');
    expect(answer.json.target).toEqual({ type: 'queue', sid: sids.queueSid });
  });

  test('a request that carries no body is refused with 405 and nothing reaches Twilio', async () => {
    const { token } = agentToken(harness.standin);
    const sids = transferSids();
    const query = new URLSearchParams({ Token: token, ...sids }).toString();
    const answer = await get(harness.url(`/transfer-to-queue?${query}`));
    expect(answer.status).toBe(405);
    expect(answer.json.error.code).toBe('method_not_allowed');
    expect(harness.standin.requests).toHaveLength(0);
  });

  test('every invalid field is reported at once with 400 and nothing is sent to Twilio', async () => {
    const { token } = agentToken(harness.standin);
    const answer = await postJson(harness.url('/transfer-to-agent'), {
      Token: token,
      interactionSid: 'KD123',
      channelSid: newSid('UO'),
      priority: '5.5',
      timeout: '0',
      transferType: 'lukewarm',
    });
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe('invalid_request');
    const fields = (answer.json.error.details as { field: string }[]).map((detail) => detail.field).sort();
    expect(fields).toEqual(['interactionSid', 'priority', 'timeout', 'transferType', 'workerSid']);
    expect(harness.standin.requestsTo('invite')).toHaveLength(0);
  });

  test('attributes over 16384 bytes are refused with 413', async () => {
    const { token } = agentToken(harness.standin);
    const answer = await postJson(harness.url('/transfer-to-queue'), {
      Token: token,
      ...transferSids(),
      attributes: { note: 'é'.repeat(8200) },
    });
    expect(answer.status).toBe(413);
    expect(answer.json.error.code).toBe('payload_too_large');
    expect(answer.json.error.details[0].field).toBe('attributes');
    expect(harness.standin.requestsTo('invite')).toHaveLength(0);
  });

  test.each([
    { twilioStatus: 404, status: 404, code: 'not_found' },
    { twilioStatus: 409, status: 409, code: 'conflict' },
    { twilioStatus: 400, status: 422, code: 'upstream_rejected' },
    { twilioStatus: 401, status: 502, code: 'upstream_error' },
    { twilioStatus: 403, status: 502, code: 'upstream_error' },
    { twilioStatus: 500, status: 502, code: 'upstream_error' },
  ])('Twilio answering $twilioStatus to the invite gives $status $code', async ({ twilioStatus, status, code }) => {
    const { token } = agentToken(harness.standin);
    harness.standin.script('invite', {
      status: twilioStatus,
      body: {
        code: 20000 + twilioStatus,
        message: `Twilio says ${twilioStatus}`,
        more_info: 'https://www.twilio.com/docs/errors/x',
        status: twilioStatus,
      },
    });
    const answer = await postJson(harness.url('/transfer-to-queue'), { Token: token, ...transferSids() });
    expect(answer.status).toBe(status);
    expect(answer.json.error.code).toBe(code);
    expect(answer.json.error.twilioCode).toBe(20000 + twilioStatus);
    expect(answer.json.error.moreInfo).toBe('https://www.twilio.com/docs/errors/x');
    expect(harness.standin.requestsTo('invite')).toHaveLength(1);
  });

  test('an unknown interaction is a 404 from Twilio passed on as not_found', async () => {
    const { token } = agentToken(harness.standin);
    const sids = transferSids();
    harness.standin.forgetInteraction(sids.interactionSid);
    const answer = await postJson(harness.url('/transfer-to-agent'), { Token: token, ...sids });
    expect(answer.status).toBe(404);
    expect(answer.json.error.code).toBe('not_found');
    expect(answer.json.error.twilioCode).toBe(20404);
  });

  test('error answers carry no stack trace and no credential', async () => {
    const { token } = agentToken(harness.standin);
    harness.standin.script('invite', { status: 500 });
    const answer = await postJson(harness.url('/transfer-to-queue'), { Token: token, ...transferSids() });
    expect(answer.status).toBe(502);
    expect(answer.text).not.toMatch(/\bat .+:\d+:\d+/);
    expect(answer.text).not.toContain(token);
    expect(answer.text).not.toContain(TEST_AUTH_TOKEN);
  });
});

describe('without optional settings', () => {
  const harness = useFunctions();

  test('absent options are omitted from routing rather than sent empty', async () => {
    const { token } = agentToken(harness.standin);
    const sids = transferSids();
    const answer = await postJson(harness.url('/transfer-to-agent'), {
      Token: token,
      interactionSid: sids.interactionSid,
      channelSid: sids.channelSid,
      workerSid: sids.workerSid,
      priority: '',
    });
    expect(answer.status).toBe(201);
    expect(Object.keys(harness.standin.requestsTo('invite')[0]?.routing?.properties ?? {}).sort()).toEqual([
      'attributes',
      'worker_sid',
      'workspace_sid',
    ]);
  });
});

describe('with a workflow allow-list', () => {
  const allowed = newSid('WW');
  const harness = useFunctions({ settings: { TRANSFER_ALLOWED_WORKFLOW_SIDS: `${allowed}, ${newSid('WW')}` } });

  test('a workflow outside the list is forbidden; one inside it is used', async () => {
    const { token } = agentToken(harness.standin);
    const refused = await postJson(harness.url('/transfer-to-queue'), { Token: token, ...transferSids(), workflowSid: newSid('WW') });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('forbidden');
    expect(harness.standin.requestsTo('invite')).toHaveLength(0);

    const accepted = await postJson(harness.url('/transfer-to-queue'), { Token: token, ...transferSids(), workflowSid: allowed });
    expect(accepted.status).toBe(201);
    expect(harness.standin.requestsTo('invite')[0]?.routing?.properties.workflow_sid).toBe(allowed);
  });
});

describe('misconfigured', () => {
  const harness = useFunctions({ settings: { TWILIO_FLEX_WORKSPACE_SID: 'WS-not-a-sid' } });

  test('a malformed setting is a 500 naming the variable but never its value', async () => {
    const { token } = agentToken(harness.standin);
    const answer = await postJson(
      harness.url('/transfer-to-queue'),
      { Token: token, ...transferSids() },
      { origin: 'https://flex.twilio.com' },
    );
    expect(answer.status).toBe(500);
    expect(answer.json.error.code).toBe('misconfigured');
    expect(answer.json.error.message).toContain('TWILIO_FLEX_WORKSPACE_SID');
    expect(answer.text).not.toContain('WS-not-a-sid');
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://flex.twilio.com');
    expect(harness.standin.requests).toHaveLength(0);
  });
});
