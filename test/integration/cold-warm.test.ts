/**
 * Cold and warm transfers through twilio-run, with the order of Twilio calls
 * recorded at the stand-in: a participant is only ever closed after an invite
 * that Twilio accepted.
 */
import { agentToken, postForm, postJson, transferSids, useFunctions } from '../support/harness';
import { TEST_AUTH_TOKEN } from '../support/functions-server';
import { newSid, type Participant } from '../support/twilio-standin';
import { getExpectedTwilioSignature } from 'twilio';

describe('cold and warm transfers', () => {
  const harness = useFunctions();

  function callOrder(): string[] {
    return harness.standin.requests.filter((request) => request.route !== 'token-validate').map((request) => request.route);
  }

  test('warm (the default) only invites: the transferring agent stays', async () => {
    const { token } = agentToken(harness.standin);
    const sids = transferSids();
    const answer = await postJson(harness.url('/transfer-to-agent'), { Token: token, ...sids, participantSid: newSid('UT') });
    expect(answer.status).toBe(201);
    expect(callOrder()).toEqual(['invite']);
    expect(answer.json).toMatchObject({ transferType: 'warm', participantClosed: false, warnings: [] });
    expect(harness.standin.requestsTo('invite')[0]?.routing?.properties.attributes).toMatchObject({ transferType: 'warm' });
  });

  test('cold with participantSid: invite, then close that participant', async () => {
    const { token } = agentToken(harness.standin);
    const sids = transferSids();
    const participantSid = newSid('UT');
    harness.standin.setParticipants(sids.interactionSid, sids.channelSid, [{ sid: participantSid }]);
    const answer = await postJson(harness.url('/transfer-to-queue'), { Token: token, ...sids, transferType: 'cold', participantSid });

    expect(answer.status).toBe(201);
    expect(callOrder()).toEqual(['invite', 'participant-update']);
    const [close] = harness.standin.requestsTo('participant-update');
    expect(close?.path).toBe(`/v1/Interactions/${sids.interactionSid}/Channels/${sids.channelSid}/Participants/${participantSid}`);
    expect(close?.form).toEqual({ Status: 'closed' });
    expect(answer.json).toMatchObject({ transferType: 'cold', participantClosed: true, warnings: [] });
    expect(harness.standin.requestsTo('invite')[0]?.routing?.properties.attributes).toMatchObject({ transferType: 'cold' });
  });

  test('cold with participantStatus=wrapup puts the agent in wrap-up instead', async () => {
    const { token } = agentToken(harness.standin);
    const sids = transferSids();
    const participantSid = newSid('UT');
    harness.standin.setParticipants(sids.interactionSid, sids.channelSid, [{ sid: participantSid }]);
    const answer = await postJson(harness.url('/transfer-to-agent'), {
      Token: token,
      ...sids,
      transferType: 'cold',
      participantSid,
      participantStatus: 'wrapup',
    });
    expect(answer.status).toBe(201);
    expect(harness.standin.requestsTo('participant-update')[0]?.form).toEqual({ Status: 'wrapup' });
  });

  test("cold from a Flex agent without participantSid finds the agent's participant across pages", async () => {
    const { token, workerSid } = agentToken(harness.standin);
    const sids = transferSids();
    const others: Participant[] = Array.from({ length: 5 }, () => ({ sid: newSid('UT'), type: 'customer', routing_properties: null }));
    const mine = newSid('UT');
    harness.standin.participantPageSize = 2;
    harness.standin.setParticipants(sids.interactionSid, sids.channelSid, [
      ...others,
      { sid: newSid('UT'), routing_properties: { worker_sid: newSid('WK') } },
      { sid: mine, routing_properties: { worker_sid: workerSid } },
    ]);
    const answer = await postJson(harness.url('/transfer-to-queue'), { Token: token, ...sids, transferType: 'cold' });

    expect(answer.status).toBe(201);
    expect(callOrder()).toEqual([
      'participant-list',
      'participant-list',
      'participant-list',
      'participant-list',
      'invite',
      'participant-update',
    ]);
    expect(harness.standin.requestsTo('participant-update')[0]?.path).toMatch(new RegExp(`/Participants/${mine}$`));
    expect(answer.json.participantClosed).toBe(true);
  });

  test('cold from a Flex agent who is not in the channel: 400 before any invite', async () => {
    const { token } = agentToken(harness.standin);
    const sids = transferSids();
    harness.standin.setParticipants(sids.interactionSid, sids.channelSid, [
      { sid: newSid('UT'), routing_properties: { worker_sid: newSid('WK') } },
    ]);
    const answer = await postJson(harness.url('/transfer-to-queue'), { Token: token, ...sids, transferType: 'cold' });
    expect(answer.status).toBe(400);
    expect(answer.json.error.details[0].field).toBe('participantSid');
    expect(callOrder()).toEqual(['participant-list']);
  });

  test('cold from Studio (no worker identity) without participantSid: 400 and nothing sent to Twilio', async () => {
    const sids = transferSids();
    const fields = { interactionSid: sids.interactionSid, channelSid: sids.channelSid, queueSid: sids.queueSid, transferType: 'cold' };
    const url = harness.url('/transfer-to-queue');
    const signature = getExpectedTwilioSignature(TEST_AUTH_TOKEN, url, fields);
    const answer = await postForm(url, fields, { 'x-twilio-signature': signature });
    expect(answer.status).toBe(400);
    expect(answer.json.error.details.map((detail: { field: string }) => detail.field)).toEqual(['participantSid']);
    expect(harness.standin.requests).toHaveLength(0);
  });

  test.each([
    { twilioStatus: 404, status: 404 },
    { twilioStatus: 400, status: 422 },
    { twilioStatus: 500, status: 502 },
  ])('a failed invite ($twilioStatus) leaves the participant untouched', async ({ twilioStatus, status }) => {
    const { token } = agentToken(harness.standin);
    const sids = transferSids();
    const participantSid = newSid('UT');
    harness.standin.setParticipants(sids.interactionSid, sids.channelSid, [{ sid: participantSid }]);
    harness.standin.script('invite', { status: twilioStatus });
    const answer = await postJson(harness.url('/transfer-to-agent'), { Token: token, ...sids, transferType: 'cold', participantSid });
    expect(answer.status).toBe(status);
    expect(callOrder()).toEqual(['invite']);
  });

  test('invite accepted but closing fails: still 201, participantClosed false and a warning, no second invite', async () => {
    const { token } = agentToken(harness.standin);
    const sids = transferSids();
    const participantSid = newSid('UT');
    harness.standin.setParticipants(sids.interactionSid, sids.channelSid, [{ sid: participantSid }]);
    harness.standin.script('participant-update', { status: 500 });
    const answer = await postJson(harness.url('/transfer-to-queue'), { Token: token, ...sids, transferType: 'cold', participantSid });

    expect(answer.status).toBe(201);
    expect(answer.json.participantClosed).toBe(false);
    expect(answer.json.inviteSid).toMatch(/^KG/);
    expect(answer.json.warnings).toHaveLength(1);
    expect(answer.json.warnings[0]).toContain(participantSid);
    expect(answer.json.warnings[0]).toMatch(/do not retry/i);
    expect(callOrder()).toEqual(['invite', 'participant-update']);
  });

  test('closing a participant Twilio does not know: 201 with a warning', async () => {
    const { token } = agentToken(harness.standin);
    const sids = transferSids();
    const answer = await postJson(harness.url('/transfer-to-queue'), {
      Token: token,
      ...sids,
      transferType: 'cold',
      participantSid: newSid('UT'),
    });
    expect(answer.status).toBe(201);
    expect(answer.json.participantClosed).toBe(false);
    expect(answer.json.warnings[0]).toContain('not_found');
  });
});

describe('connections (one warm function process, as a deployed instance between requests)', () => {
  const warmHarness = useFunctions({ forkPerRequest: false });

  test('the calls of one transfer share a connection; the next transfer opens its own', async () => {
    const { token } = agentToken(warmHarness.standin);
    for (let transfer = 0; transfer < 2; transfer += 1) {
      const sids = transferSids();
      const participantSid = newSid('UT');
      warmHarness.standin.setParticipants(sids.interactionSid, sids.channelSid, [{ sid: participantSid }]);
      const answer = await postJson(warmHarness.url('/transfer-to-queue'), { Token: token, ...sids, transferType: 'cold', participantSid });
      expect(answer.status).toBe(201);
    }
    const [firstInvite, secondInvite] = warmHarness.standin.requestsTo('invite');
    const [firstClose, secondClose] = warmHarness.standin.requestsTo('participant-update');
    expect(firstClose?.connection).toBe(firstInvite?.connection);
    expect(secondClose?.connection).toBe(secondInvite?.connection);
    expect(secondInvite?.connection).not.toBe(firstInvite?.connection);
  });
});
