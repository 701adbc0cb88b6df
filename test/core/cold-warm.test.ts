/**
 * Cold and warm transfers, in-process, with the order of Twilio calls recorded
 * at the stand-in: a participant is only ever closed after an invite that
 * Twilio accepted, and the participant closed is the transferring agent's.
 * These suites close at once (TRANSFER_COLD_CLOSE=immediate, v2's behaviour);
 * closing on acceptance, the default, is test/core/lifecycle.test.ts's.
 */
import { getExpectedTwilioSignature } from 'twilio';
import { newSid, type Participant } from '../../dev/twilio-standin';
import { TEST_AUTH_TOKEN, TEST_WORKSPACE_SID } from '../support/functions-server';
import { transferSids } from '../support/harness';
import { grantAgentToken, IN_PROCESS_DOMAIN, inProcessFunctions } from '../support/in-process';

const functions = inProcessFunctions({ settings: { TRANSFER_COLD_CLOSE: 'immediate' } });

/** The Twilio calls of the transfer itself, in order (the token check left out). */
function callOrder(): string[] {
  return functions.standin.requests.filter((request) => request.route !== 'token-validate').map((request) => request.route);
}

function closedParticipant(): string | undefined {
  const [close] = functions.standin.requestsTo('participant-update');
  return close?.path.split('/').at(-1);
}

const agent = (workerSid: string, taskSid?: string): Participant => ({
  sid: newSid('UT'),
  type: 'agent',
  routing_properties: { worker_sid: workerSid, ...(taskSid === undefined ? {} : { task_sid: taskSid }) },
});

describe('cold and warm transfers', () => {
  test('warm (the default) only invites: the transferring agent stays', async () => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const sids = transferSids(functions.standin);
    const participant = agent(newSid('WK'));
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [participant]);
    const answer = await functions.call('transfer-to-agent', { json: { Token: token, ...sids, participantSid: participant.sid } });
    expect(answer.status).toBe(201);
    // v3: every transfer reads the participants (and an agent transfer checks its workflow once per instance) first.
    expect(callOrder().slice(0, 2).sort()).toEqual(['participant-list', 'workflow-fetch']);
    expect(callOrder().slice(2)).toEqual(['invite-create']);
    expect(answer.body).toMatchObject({ transferType: 'warm', participantClosed: false, warnings: [] });
    expect(functions.standin.requestsTo('invite-create')[0]?.routing?.properties.attributes).toMatchObject({ transferType: 'warm' });
  });

  test('cold with participantSid: invite, then close that participant', async () => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const sids = transferSids(functions.standin);
    const participantSid = newSid('UT');
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [{ sid: participantSid }]);
    const answer = await functions.call('transfer-to-queue', { json: { Token: token, ...sids, transferType: 'cold', participantSid } });

    expect(answer.status).toBe(201);
    expect(callOrder()).toEqual(['participant-list', 'invite-create', 'participant-update']);
    const [close] = functions.standin.requestsTo('participant-update');
    expect(close?.method).toBe('POST');
    expect(close?.path).toBe(`/v1/Interactions/${sids.interactionSid}/Channels/${sids.channelSid}/Participants/${participantSid}`);
    expect(close?.form).toEqual({ Status: 'closed' });
    expect(answer.body).toMatchObject({ transferType: 'cold', participantClosed: true, warnings: [] });
    expect(functions.standin.requestsTo('invite-create')[0]?.routing?.properties.attributes).toMatchObject({ transferType: 'cold' });
  });

  test('cold with participantStatus=wrapup puts the agent in wrap-up instead', async () => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const sids = transferSids(functions.standin);
    const participantSid = newSid('UT');
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [{ sid: participantSid }]);
    const answer = await functions.call('transfer-to-agent', {
      form: { Token: token, ...sids, transferType: 'cold', participantSid, participantStatus: 'wrapup' },
    });
    expect(answer.status).toBe(201);
    expect(functions.standin.requestsTo('participant-update')[0]?.form).toEqual({ Status: 'wrapup' });
  });

  test("cold from a Flex agent without participantSid: find the agent's participant (across pages), invite, close it", async () => {
    const { token, workerSid } = grantAgentToken(functions.standin, ['agent']);
    const sids = transferSids(functions.standin);
    const customers: Participant[] = Array.from({ length: 5 }, () => ({ sid: newSid('UT'), type: 'customer', routing_properties: null }));
    const mine = agent(workerSid);
    functions.standin.participantPageSize = 2;
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [...customers, agent(newSid('WK')), mine]);
    const answer = await functions.call('transfer-to-queue', { json: { Token: token, ...sids, transferType: 'cold' } });

    expect(answer.status).toBe(201);
    expect(callOrder()).toEqual([
      'participant-list',
      'participant-list',
      'participant-list',
      'participant-list',
      'invite-create',
      'participant-update',
    ]);
    expect(closedParticipant()).toBe(mine.sid);
    expect(answer.body.participantClosed).toBe(true);
  });

  test('cold from a supervisor who is not in the channel, without participantSid: 400 before any invite', async () => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const sids = transferSids(functions.standin);
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [agent(newSid('WK'))]);
    const answer = await functions.call('transfer-to-queue', { json: { Token: token, ...sids, transferType: 'cold' } });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.map((detail: { field: string }) => detail.field)).toEqual(['participantSid']);
    expect(callOrder()).toEqual(['participant-list']);
  });

  test('cold from Studio (no worker identity) without participantSid or taskSid: 400 and nothing sent to Twilio', async () => {
    const sids = transferSids(functions.standin);
    const fields = { interactionSid: sids.interactionSid, channelSid: sids.channelSid, queueSid: sids.queueSid, transferType: 'cold' };
    const signature = getExpectedTwilioSignature(TEST_AUTH_TOKEN, `https://${IN_PROCESS_DOMAIN}/transfer-to-queue`, fields);
    const answer = await functions.call('transfer-to-queue', { form: fields, headers: { 'X-Twilio-Signature': signature } });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.map((detail: { field: string }) => detail.field)).toEqual(['participantSid']);
    expect(functions.standin.requests).toHaveLength(0);
  });

  test.each([
    { twilioStatus: 404, status: 404 },
    { twilioStatus: 400, status: 422 },
    { twilioStatus: 500, status: 502 },
  ])('a failed invite ($twilioStatus) leaves the participant untouched', async ({ twilioStatus, status }) => {
    const { token, workerSid } = grantAgentToken(functions.standin, ['agent']);
    const sids = transferSids(functions.standin);
    const mine = agent(workerSid);
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [mine]);
    functions.standin.script('invite-create', { status: twilioStatus });
    const answer = await functions.call('transfer-to-agent', {
      json: { Token: token, ...sids, transferType: 'cold', participantSid: mine.sid },
    });
    expect(answer.status).toBe(status);
    expect(callOrder().filter((route) => route !== 'workflow-fetch')).toEqual(['participant-list', 'invite-create']);
  });

  test('invite accepted but closing fails: still 201, participantClosed false and a warning, no second invite', async () => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const sids = transferSids(functions.standin);
    const participantSid = newSid('UT');
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [{ sid: participantSid }]);
    functions.standin.script('participant-update', { status: 500 });
    const answer = await functions.call('transfer-to-queue', { json: { Token: token, ...sids, transferType: 'cold', participantSid } });

    expect(answer.status).toBe(201);
    expect(answer.body.participantClosed).toBe(false);
    expect(answer.body.inviteSid).toMatch(/^KG/);
    expect(answer.body.warnings).toHaveLength(1);
    expect(answer.body.warnings[0]).toContain(participantSid);
    expect(answer.body.warnings[0]).toMatch(/do not retry/i);
    expect(callOrder()).toEqual(['participant-list', 'invite-create', 'participant-update']);
  });

  test('v3: closing a participant that is not an agent participant of the channel: 400 naming participantSid, nothing created', async () => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const answer = await functions.call('transfer-to-queue', {
      json: { Token: token, ...transferSids(functions.standin), transferType: 'cold', participantSid: newSid('UT') },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.map((detail: { field: string }) => detail.field)).toEqual(['participantSid']);
    expect(callOrder()).toEqual(['participant-list']);
  });

  test('Twilio no longer knows the participant when it is closed: 201 with a warning, the invite stands', async () => {
    const { token } = grantAgentToken(functions.standin, ['supervisor']);
    const sids = transferSids(functions.standin);
    const participantSid = newSid('UT');
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [{ sid: participantSid }]);
    functions.standin.script('participant-update', {
      status: 404,
      body: { code: 20404, message: 'The requested resource was not found', status: 404 },
    });
    const answer = await functions.call('transfer-to-queue', { json: { Token: token, ...sids, transferType: 'cold', participantSid } });
    expect(answer.status).toBe(201);
    expect(answer.body.participantClosed).toBe(false);
    expect(answer.body.warnings[0]).toContain('HTTP 404');
  });
});

describe('which participant a cold transfer closes (no participantSid given)', () => {
  test("the agent participant of the task being transferred comes first, even for a supervisor's transfer", async () => {
    const { token, workerSid: supervisorWorker } = grantAgentToken(functions.standin, ['supervisor']);
    const sids = transferSids(functions.standin);
    const taskSid = functions.standin.addTask({
      workspaceSid: TEST_WORKSPACE_SID,
      attributes: { flexInteractionChannelSid: sids.channelSid },
    });
    const ofTheTask = agent(newSid('WK'), taskSid);
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [agent(supervisorWorker), ofTheTask, agent(newSid('WK'))]);
    const answer = await functions.call('transfer-to-queue', { json: { Token: token, ...sids, transferType: 'cold', taskSid } });
    expect(answer.status).toBe(201);
    expect(closedParticipant()).toBe(ofTheTask.sid);
  });

  test('a plain agent with two participants in the channel closes the one of the task being transferred', async () => {
    const { token, workerSid } = grantAgentToken(functions.standin, ['agent']);
    const sids = transferSids(functions.standin);
    const taskSid = functions.standin.addTask({
      workspaceSid: TEST_WORKSPACE_SID,
      attributes: { flexInteractionChannelSid: sids.channelSid },
    });
    const earlier = agent(workerSid, newSid('WT'));
    const current = agent(workerSid, taskSid);
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [earlier, current]);
    const answer = await functions.call('transfer-to-queue', { json: { Token: token, ...sids, transferType: 'cold', taskSid } });
    expect(answer.status).toBe(201);
    expect(closedParticipant()).toBe(current.sid);
    // Both reads before the invite (in either order: they run concurrently), the close after it.
    expect(callOrder().slice(0, 2).sort()).toEqual(['participant-list', 'task-fetch']);
    expect(callOrder().slice(2)).toEqual(['invite-create', 'participant-update']);
  });

  test("without a participant of that task, the caller's own agent participant is closed", async () => {
    const { token, workerSid } = grantAgentToken(functions.standin, ['supervisor']);
    const sids = transferSids(functions.standin);
    const taskSid = functions.standin.addTask({
      workspaceSid: TEST_WORKSPACE_SID,
      attributes: { flexInteractionChannelSid: sids.channelSid },
    });
    const mine = agent(workerSid);
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [agent(newSid('WK')), mine]);
    const answer = await functions.call('transfer-to-queue', { json: { Token: token, ...sids, transferType: 'cold', taskSid } });
    expect(answer.status).toBe(201);
    expect(closedParticipant()).toBe(mine.sid);
  });

  test('a customer participant is never closed, even one naming the task and the caller: 400 before any invite', async () => {
    const { token, workerSid } = grantAgentToken(functions.standin, ['supervisor']);
    const sids = transferSids(functions.standin);
    const taskSid = functions.standin.addTask({
      workspaceSid: TEST_WORKSPACE_SID,
      attributes: { flexInteractionChannelSid: sids.channelSid },
    });
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [
      { sid: newSid('UT'), type: 'customer', routing_properties: { worker_sid: workerSid, task_sid: taskSid } },
    ]);
    const answer = await functions.call('transfer-to-queue', { json: { Token: token, ...sids, transferType: 'cold', taskSid } });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.map((detail: { field: string }) => detail.field)).toEqual(['participantSid']);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
    expect(functions.standin.requestsTo('participant-update')).toHaveLength(0);
  });

  test('a signed caller naming taskSid closes the agent participant of that task', async () => {
    const sids = transferSids(functions.standin);
    const taskSid = functions.standin.addTask({
      workspaceSid: TEST_WORKSPACE_SID,
      attributes: { flexInteractionChannelSid: sids.channelSid },
    });
    const ofTheTask = agent(newSid('WK'), taskSid);
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [agent(newSid('WK')), ofTheTask]);
    const fields = {
      interactionSid: sids.interactionSid,
      channelSid: sids.channelSid,
      queueSid: sids.queueSid,
      transferType: 'cold',
      taskSid,
    };
    const signature = getExpectedTwilioSignature(TEST_AUTH_TOKEN, `https://${IN_PROCESS_DOMAIN}/transfer-to-queue`, fields);
    const answer = await functions.call('transfer-to-queue', { form: fields, headers: { 'X-Twilio-Signature': signature } });
    expect(answer.status).toBe(201);
    expect(closedParticipant()).toBe(ofTheTask.sid);
  });
});
