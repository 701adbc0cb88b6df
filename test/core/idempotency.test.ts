/**
 * "Exactly once: Idempotency-Key" (transfer-api.md): one invite per key,
 * whatever the caller repeats, with the claim kept in (the stand-in's) Sync.
 * In-process: the real helper library talks to the stand-in without sockets.
 */
import { newSid, type RecordedRequest } from '../../dev/twilio-standin';
import { TEST_WORKSPACE_SID } from '../support/functions-server';
import { transferSids } from '../support/harness';
import { type CallRequest, type CallResult, grantAgentToken, inProcessFunctions } from '../support/in-process';

const functions = inProcessFunctions();
const { standin } = functions;

interface Transfer {
  interactionSid: string;
  channelSid: string;
  queueSid: string;
}

/** A fresh conversation and queue, seeded at the stand-in. */
function newTransfer(): Transfer {
  const { interactionSid, channelSid, queueSid } = transferSids(standin);
  return { interactionSid, channelSid, queueSid };
}

/** A task of the transfer's channel (v3: a taskSid must belong to the request's channel), with `attributes`. */
function taskOf(transfer: Transfer, attributes: Record<string, unknown>, sid?: string): string {
  return standin.addTask({
    ...(sid === undefined ? {} : { sid }),
    workspaceSid: TEST_WORKSPACE_SID,
    attributes: { ...attributes, flexInteractionSid: transfer.interactionSid, flexInteractionChannelSid: transfer.channelSid },
  });
}

/** Seeds the transfer's channel with a customer and an agent participant; returns the agent's participant SID. */
function withAgentParticipant(transfer: Transfer): string {
  const participantSid = newSid('UT');
  standin.setParticipants(transfer.interactionSid, transfer.channelSid, [
    { sid: newSid('UT'), type: 'customer', routing_properties: null },
    { sid: participantSid, type: 'agent', routing_properties: { worker_sid: newSid('WK') } },
  ]);
  return participantSid;
}

/** For the suite it is called in: cold transfers close the transferring participant right after the invite (v2 behaviour). */
function closingImmediately(): void {
  beforeEach(() => {
    functions.settings.TRANSFER_COLD_CLOSE = 'immediate';
  });
  afterEach(() => {
    delete functions.settings.TRANSFER_COLD_CLOSE;
  });
}

function supervisor(): string {
  return grantAgentToken(standin, ['supervisor']).token;
}

/** A warm queue transfer with the key in the Idempotency-Key header. */
function keyedQueueTransfer(token: string, key: string, transfer: Transfer, extra: Record<string, string> = {}): Promise<CallResult> {
  return functions.call('transfer-to-queue', { form: { Token: token, ...transfer, ...extra }, headers: { 'Idempotency-Key': key } });
}

function routingOf(request: RecordedRequest | undefined): Record<string, unknown> {
  const properties = request?.routing?.properties;
  if (properties === undefined) throw new Error('no Routing in the recorded invite');
  return properties;
}

function attributesOf(request: RecordedRequest | undefined): Record<string, unknown> {
  return routingOf(request).attributes as Record<string, unknown>;
}

/** The unique name the first claim asked Sync for. */
function claimedDocumentName(): string {
  const name = standin.requestsTo('sync-create')[0]?.form.UniqueName;
  if (name === undefined) throw new Error('no Sync document was created');
  return name;
}

/** What Twilio would have created: invites actually answered 201 by the stand-in (scripted failures excluded). */
function invitesCreated(): RecordedRequest[] {
  return standin.requestsTo('invite-create').filter((request) => request.fault === undefined);
}

describe('repeats with the same key and body', () => {
  test('a sequential repeat answers the first result, marked replayed, and creates nothing', async () => {
    const token = supervisor();
    const transfer = newTransfer();

    const first = await keyedQueueTransfer(token, 'click-1', transfer);
    const second = await keyedQueueTransfer(token, 'click-1', transfer);
    const third = await keyedQueueTransfer(token, 'click-1', transfer);

    expect(first.status).toBe(201);
    expect(first.headers['Idempotent-Replayed']).toBeUndefined();
    for (const repeat of [second, third]) {
      expect(repeat.status).toBe(201);
      expect(repeat.headers['Idempotent-Replayed']).toBe('true');
      expect(repeat.body).toEqual(first.body);
    }
    expect(first.body.inviteSid).toMatch(/^KG[0-9a-f]{32}$/);
    expect(standin.requestsTo('invite-create')).toHaveLength(1);
    expect(standin.requestsTo('task-update')).toHaveLength(0);
  });

  test('concurrent repeats while the first is inviting: one invite, the others 409 with Retry-After', async () => {
    const token = supervisor();
    const transfer = newTransfer();
    standin.latencyMs = 20;
    standin.script('invite-create', { delayMs: 600 });

    const results = await Promise.all(Array.from({ length: 5 }, () => keyedQueueTransfer(token, 'double-click', transfer)));

    const created = results.filter((result) => result.status === 201);
    const refused = results.filter((result) => result.status === 409);
    expect(created).toHaveLength(1);
    expect(created[0]?.headers['Idempotent-Replayed']).toBeUndefined();
    expect(refused).toHaveLength(4);
    for (const result of refused) {
      expect(result.body.error.code).toBe('conflict');
      expect(Number(result.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    }
    expect(standin.requestsTo('invite-create')).toHaveLength(1);

    // Once the first has answered, the same repeat is a replay.
    const later = await keyedQueueTransfer(token, 'double-click', transfer);
    expect(later).toMatchObject({ status: 201, body: { inviteSid: created[0]?.body.inviteSid } });
    expect(later.headers['Idempotent-Replayed']).toBe('true');
    expect(standin.requestsTo('invite-create')).toHaveLength(1);
  });

  test('concurrent repeats with network latency: exactly one invite, every other answer a 409 or the same invite', async () => {
    const token = supervisor();
    const transfer = newTransfer();
    standin.latencyMs = 40;

    const results = await Promise.all(Array.from({ length: 5 }, () => keyedQueueTransfer(token, 'retry-storm', transfer)));

    expect(standin.requestsTo('invite-create')).toHaveLength(1);
    const firsts = results.filter((result) => result.status === 201 && result.headers['Idempotent-Replayed'] === undefined);
    expect(firsts).toHaveLength(1);
    for (const result of results) {
      if (result.status === 201) expect(result.body.inviteSid).toBe(firsts[0]?.body.inviteSid);
      else
        expect({ status: result.status, retryAfter: result.headers['Retry-After'] !== undefined }).toEqual({
          status: 409,
          retryAfter: true,
        });
    }
  });

  test('the key as a header and as the idempotencyKey field (Studio) is the same key', async () => {
    const token = supervisor();
    const transfer = newTransfer();

    const byHeader = await keyedQueueTransfer(token, 'studio-FN123', transfer);
    const byField = await functions.call('transfer-to-queue', { form: { Token: token, ...transfer, idempotencyKey: 'studio-FN123' } });
    const byJsonField = await functions.call('transfer-to-queue', { json: { Token: token, ...transfer, idempotencyKey: 'studio-FN123' } });

    expect(byHeader.status).toBe(201);
    for (const repeat of [byField, byJsonField]) {
      expect(repeat.status).toBe(201);
      expect(repeat.headers['Idempotent-Replayed']).toBe('true');
      expect(repeat.body.inviteSid).toBe(byHeader.body.inviteSid);
    }
    expect(standin.requestsTo('invite-create')).toHaveLength(1);
  });

  test('a cold transfer replay (TRANSFER_COLD_CLOSE=on-accept, the default) is rebuilt from its invite: nobody closed, nothing recorded', async () => {
    const token = supervisor();
    const transfer = newTransfer();
    const cold = { transferType: 'cold', participantSid: withAgentParticipant(transfer) };

    const first = await keyedQueueTransfer(token, 'cold-on-accept', transfer, cold);
    const repeat = await keyedQueueTransfer(token, 'cold-on-accept', transfer, cold);

    expect(first).toMatchObject({
      status: 201,
      body: { transferType: 'cold', participantClosed: false, participantCloses: 'on-accept', warnings: [] },
    });
    expect(repeat.status).toBe(201);
    expect(repeat.headers['Idempotent-Replayed']).toBe('true');
    expect(repeat.body).toEqual(first.body);
    expect(standin.requestsTo('invite-create')).toHaveLength(1);
    expect(standin.requestsTo('invite-list')).toHaveLength(1); // the repeat found the invite by its transferRequestKey
    expect(standin.requestsTo('participant-update')).toHaveLength(0); // closed only when a reservation is accepted
    expect(standin.requestsTo('sync-update')).toHaveLength(0); // no result recorded: the invite tells it
  });

  describe('TRANSFER_COLD_CLOSE=immediate', () => {
    closingImmediately();

    test('a cold transfer replay answers the recorded result: the participant was closed, once', async () => {
      const token = supervisor();
      const transfer = newTransfer();
      const cold = { transferType: 'cold', participantSid: withAgentParticipant(transfer) };

      const first = await keyedQueueTransfer(token, 'cold-1', transfer, cold);
      const repeat = await keyedQueueTransfer(token, 'cold-1', transfer, cold);

      expect(first).toMatchObject({ status: 201, body: { transferType: 'cold', participantClosed: true, warnings: [] } });
      expect(repeat.status).toBe(201);
      expect(repeat.headers['Idempotent-Replayed']).toBe('true');
      expect(repeat.body).toEqual(first.body);
      expect(standin.requestsTo('invite-create')).toHaveLength(1);
      expect(standin.requestsTo('participant-update')).toHaveLength(1);
    });
  });
});

describe('a repeat while the first may still be running', () => {
  describe('TRANSFER_COLD_CLOSE=immediate', () => {
    closingImmediately();

    test('a cold transfer still closing its participant: the repeat gets 409, then the recorded result once it is done', async () => {
      const token = supervisor();
      const transfer = newTransfer();
      standin.script('participant-update', { delayMs: 1500 });
      const cold = { transferType: 'cold', participantSid: withAgentParticipant(transfer) };

      const first = keyedQueueTransfer(token, 'cold-slow', transfer, cold);
      await new Promise((resolveWait) => setTimeout(resolveWait, 600));
      const early = await keyedQueueTransfer(token, 'cold-slow', transfer, cold);
      const firstAnswer = await first;
      const later = await keyedQueueTransfer(token, 'cold-slow', transfer, cold);

      expect(early).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
      expect(early.headers['Retry-After']).toBe('1');
      expect(firstAnswer).toMatchObject({ status: 201, body: { participantClosed: true, warnings: [] } });
      expect(later.status).toBe(201);
      expect(later.headers['Idempotent-Replayed']).toBe('true');
      expect(later.body).toEqual(firstAnswer.body);
      expect(standin.requestsTo('invite-create')).toHaveLength(1);
    });
  });

  test('two repeats taking over an abandoned key at the same moment: exactly one of them transfers', async () => {
    const token = supervisor();
    const transfer = newTransfer();
    standin.script('invite-create', { status: 500 });
    expect((await keyedQueueTransfer(token, 'k-abandoned', transfer)).status).toBe(502);
    functions.advanceClock(15_000);
    standin.latencyMs = 30;

    const repeats = await Promise.all([
      keyedQueueTransfer(token, 'k-abandoned', transfer),
      keyedQueueTransfer(token, 'k-abandoned', transfer),
    ]);

    expect(repeats.map((repeat) => repeat.status).sort()).toEqual([201, 409]);
    expect(standin.requestsTo('invite-create')).toHaveLength(2);
    expect(standin.requestsTo('sync-update').filter((update) => update.headers['if-match'] !== undefined)).toHaveLength(2);
  });
});

describe('what does not make a repeat different', () => {
  test("the agent's token refreshed between the two tries: the same agent, the same request, a replay", async () => {
    const { token, workerSid } = grantAgentToken(standin, ['supervisor']);
    const refreshed = grantAgentToken(standin, ['supervisor']).token;
    standin.grantToken(refreshed, { worker_sid: workerSid, roles: ['supervisor'] });
    const transfer = newTransfer();

    const first = await keyedQueueTransfer(token, 'refresh-1', transfer);
    const repeat = await keyedQueueTransfer(refreshed, 'refresh-1', transfer);

    expect(first.status).toBe(201);
    expect(repeat).toMatchObject({ status: 201, body: { inviteSid: first.body.inviteSid } });
    expect(repeat.headers['Idempotent-Replayed']).toBe('true');
    expect(standin.requestsTo('invite-create')).toHaveLength(1);
  });

  test('the fields in another order, attributes with their keys in another order: a replay', async () => {
    const token = supervisor();
    const transfer = newTransfer();
    const headers = { 'Idempotency-Key': 'order-1' };

    const first = await functions.call('transfer-to-queue', {
      json: { Token: token, ...transfer, attributes: { a: 1, b: { x: 1, y: 2 } } },
      headers,
    });
    const repeat = await functions.call('transfer-to-queue', {
      json: { attributes: { b: { y: 2, x: 1 }, a: 1 }, ...transfer, Token: token },
      headers,
    });

    expect(repeat).toMatchObject({ status: 201, body: { inviteSid: first.body.inviteSid } });
    expect(repeat.headers['Idempotent-Replayed']).toBe('true');
  });
});

describe('the same key with another request', () => {
  test('another body -> 422 idempotency_key_reused, and no second invite', async () => {
    const token = supervisor();
    const transfer = newTransfer();

    const first = await keyedQueueTransfer(token, 'k-reused', transfer);
    const otherQueue = await keyedQueueTransfer(token, 'k-reused', { ...transfer, queueSid: newSid('WQ') });
    const otherPriority = await keyedQueueTransfer(token, 'k-reused', transfer, { priority: '5' });

    expect(first.status).toBe(201);
    for (const reused of [otherQueue, otherPriority]) {
      expect(reused).toMatchObject({ status: 422, body: { error: { code: 'idempotency_key_reused' } } });
      expect(reused.headers['Idempotent-Replayed']).toBeUndefined();
    }
    expect(standin.requestsTo('invite-create')).toHaveLength(1);
  });

  test("another caller's repeat of the same key and body does not get the first caller's answer", async () => {
    const transfer = newTransfer();

    const first = await keyedQueueTransfer(supervisor(), 'shared-key', transfer);
    const stranger = await keyedQueueTransfer(supervisor(), 'shared-key', transfer);

    expect(first.status).toBe(201);
    expect(stranger).toMatchObject({ status: 422, body: { error: { code: 'idempotency_key_reused' } } });
    expect(JSON.stringify(stranger.body)).not.toContain(first.body.inviteSid);
    expect(standin.requestsTo('invite-create')).toHaveLength(1);
  });
});

describe('key format', () => {
  test.each<[string, CallRequest['headers'], Record<string, string>]>([
    ['a 256-character header', { 'Idempotency-Key': 'k'.repeat(256) }, {}],
    ['a non-ASCII field', undefined, { idempotencyKey: 'clé-1' }],
    ['a header with a control character', { 'Idempotency-Key': 'tab\there' }, {}],
    ['a header and a field that differ', { 'Idempotency-Key': 'one' }, { idempotencyKey: 'two' }],
  ])('%s -> 400 naming idempotencyKey, nothing claimed or invited', async (_, headers, fields) => {
    const result = await functions.call('transfer-to-queue', { form: { Token: supervisor(), ...newTransfer(), ...fields }, headers });

    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe('invalid_request');
    expect(result.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'idempotencyKey' })]));
    expect(standin.requestsTo('sync-create')).toHaveLength(0);
    expect(standin.requestsTo('invite-create')).toHaveLength(0);
  });

  test('a 255-character printable key is accepted', async () => {
    const key = '~'.repeat(100) + ' '.repeat(55) + 'Z'.repeat(100);
    const first = await keyedQueueTransfer(supervisor(), key, newTransfer());
    expect(first.status).toBe(201);
    expect(standin.requestsTo('sync-create')).toHaveLength(1);
  });
});

describe('what is invalid is refused before any claim', () => {
  test('a malformed key and a bad field are reported together, and nothing but the token check reaches Twilio', async () => {
    const result = await functions.call('transfer-to-queue', {
      form: { Token: supervisor(), ...newTransfer(), interactionSid: 'KDnope' },
      headers: { 'Idempotency-Key': 'é'.repeat(3) },
    });

    expect(result.status).toBe(400);
    expect(result.body.error.details.map((problem: { field: string }) => problem.field)).toEqual(['interactionSid', 'idempotencyKey']);
    expect(standin.requests.filter((request) => request.route !== 'token-validate')).toEqual([]);
  });

  test('a keyed cold transfer with nothing to close (no participantSid, no taskSid, no agent caller) -> 400 before the claim', async () => {
    functions.settings.TRANSFER_BASIC_AUTH_USER = 'studio';
    functions.settings.TRANSFER_BASIC_AUTH_PASSWORD = 'a-long-random-password';
    try {
      const result = await functions.call('transfer-to-queue', {
        form: { ...newTransfer(), transferType: 'cold', idempotencyKey: 'cold-nothing' },
        headers: { Authorization: 'Basic ' + Buffer.from('studio:a-long-random-password').toString('base64') },
      });

      expect(result).toMatchObject({ status: 400, body: { error: { details: [expect.objectContaining({ field: 'participantSid' })] } } });
      expect(standin.requests).toEqual([]);
    } finally {
      delete functions.settings.TRANSFER_BASIC_AUTH_USER;
      delete functions.settings.TRANSFER_BASIC_AUTH_PASSWORD;
    }
  });
});

describe('the key is stored only as a hash', () => {
  test('the invite carries transferRequestKey = the hash named by the Sync document; the key never reaches Twilio', async () => {
    const key = 'plugin-action-5b2e-SECRETISH';
    const first = await keyedQueueTransfer(supervisor(), key, newTransfer());
    const second = await keyedQueueTransfer(supervisor(), 'plugin-action-other', newTransfer());

    expect([first.status, second.status]).toEqual([201, 201]);
    const [firstInvite, secondInvite] = standin.requestsTo('invite-create');
    const hash = attributesOf(firstInvite).transferRequestKey as string;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(attributesOf(secondInvite).transferRequestKey).toMatch(/^[0-9a-f]{64}$/);
    expect(attributesOf(secondInvite).transferRequestKey).not.toBe(hash);

    const uniqueName = claimedDocumentName();
    expect(uniqueName).toContain(hash);
    expect(uniqueName).not.toContain(key);
    expect(standin.syncDocument(uniqueName)).toBeDefined();
    for (const request of standin.requests) expect(JSON.stringify(request)).not.toContain(key);
  });

  test('an unkeyed transfer carries no transferRequestKey and touches no Sync document', async () => {
    const result = await functions.call('transfer-to-queue', { form: { Token: supervisor(), ...newTransfer() } });
    expect(result.status).toBe(201);
    expect(attributesOf(standin.requestsTo('invite-create')[0])).not.toHaveProperty('transferRequestKey');
    expect(standin.requests.filter((request) => request.route.startsWith('sync-'))).toEqual([]);
  });
});

describe('a first attempt that failed before Twilio acted releases the key', () => {
  test('the invite answered 400: the document is deleted and a repeat creates the invite', async () => {
    const token = supervisor();
    const transfer = newTransfer();
    standin.script('invite-create', { status: 400 });

    const failed = await keyedQueueTransfer(token, 'k-400', transfer);
    expect(failed.status).toBe(422);
    expect(standin.syncDocument(claimedDocumentName())).toBeUndefined();

    const repeat = await keyedQueueTransfer(token, 'k-400', transfer);
    expect(repeat.status).toBe(201);
    expect(repeat.headers['Idempotent-Replayed']).toBeUndefined();
    expect(invitesCreated()).toHaveLength(1);
    expect(standin.syncDocument(claimedDocumentName())).toBeDefined();
  });

  test('the original task was unknown (404) though the claim succeeded: released, and a later repeat transfers', async () => {
    const token = supervisor();
    const transfer = newTransfer();
    const taskSid = newSid('WT');

    const failed = await keyedQueueTransfer(token, 'k-404', transfer, { taskSid });
    expect(failed).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(standin.requestsTo('sync-create')).toHaveLength(1);
    expect(standin.requestsTo('invite-create')).toHaveLength(0);
    expect(standin.syncDocument(claimedDocumentName())).toBeUndefined();

    taskOf(transfer, { name: 'Ann' }, taskSid);
    const repeat = await keyedQueueTransfer(token, 'k-404', transfer, { taskSid });
    expect(repeat.status).toBe(201);
    expect(repeat.headers['Idempotent-Replayed']).toBeUndefined();
    expect(standin.requestsTo('invite-create')).toHaveLength(1);
    expect(attributesOf(standin.requestsTo('invite-create')[0])).toMatchObject({ name: 'Ann', transferredFromTaskSid: taskSid });
  });
  test('a plain agent refused (403) on a channel not theirs: nothing invited, the key released', async () => {
    const { token, workerSid } = grantAgentToken(standin, ['agent']);
    const transfer = newTransfer();
    standin.setParticipants(transfer.interactionSid, transfer.channelSid, [
      { sid: newSid('UT'), type: 'agent', routing_properties: { worker_sid: newSid('WK') } },
    ]);

    const refused = await keyedQueueTransfer(token, 'k-403', transfer);
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(standin.requestsTo('invite-create')).toHaveLength(0);
    expect(standin.syncDocument(claimedDocumentName())).toBeUndefined();

    // Added to the conversation meanwhile: the same key now transfers.
    standin.setParticipants(transfer.interactionSid, transfer.channelSid, [
      { sid: newSid('UT'), type: 'agent', routing_properties: { worker_sid: workerSid } },
    ]);
    const repeat = await keyedQueueTransfer(token, 'k-403', transfer);
    expect(repeat.status).toBe(201);
    expect(repeat.headers['Idempotent-Replayed']).toBeUndefined();
    expect(standin.requestsTo('invite-create')).toHaveLength(1);
  });
});

describe('an invite whose outcome is unknown keeps the key', () => {
  test('Twilio answered 500: a repeat finds the invite by transferRequestKey on a later page and creates nothing', async () => {
    const token = supervisor();
    const transfer = newTransfer();
    standin.invitePageSize = 2;
    standin.script('invite-create', { status: 500 });

    const failed = await keyedQueueTransfer(token, 'k-500', transfer);
    expect(failed).toMatchObject({ status: 502, body: { error: { code: 'upstream_error' } } });
    expect(standin.syncDocument(claimedDocumentName())).toBeDefined();

    // Twilio did create it despite the 500; other transfers of the channel come first in its list.
    const sent = routingOf(standin.requestsTo('invite-create')[0]);
    for (let other = 0; other < 4; other += 1) {
      standin.addInvite(transfer.interactionSid, transfer.channelSid, {
        ...sent,
        attributes: { ...(sent.attributes as object), transferRequestKey: 'f'.repeat(63) + String(other) },
      });
    }
    const created = standin.addInvite(transfer.interactionSid, transfer.channelSid, sent);

    const repeat = await keyedQueueTransfer(token, 'k-500', transfer);
    expect(repeat.status).toBe(201);
    expect(repeat.headers['Idempotent-Replayed']).toBe('true');
    expect(repeat.body).toMatchObject({
      inviteSid: created.sid,
      taskSid: created.routing.properties.sid,
      interactionSid: transfer.interactionSid,
      channelSid: transfer.channelSid,
      target: { type: 'queue', sid: transfer.queueSid },
      transferType: 'warm',
    });
    expect(standin.requestsTo('invite-create')).toHaveLength(1);
    expect(standin.requestsTo('invite-list')).toHaveLength(3);
  });

  test('Twilio answered 500 and no invite is listed: a repeat soon after is refused with 409, not a second invite', async () => {
    const token = supervisor();
    const transfer = newTransfer();
    standin.script('invite-create', { status: 500 });

    expect((await keyedQueueTransfer(token, 'k-500-none', transfer)).status).toBe(502);
    const repeat = await keyedQueueTransfer(token, 'k-500-none', transfer);

    expect(repeat).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect(repeat.headers['Retry-After']).toBeDefined();
    expect(standin.requestsTo('invite-create')).toHaveLength(1);
    expect(standin.syncDocument(claimedDocumentName())).toBeDefined();
  });

  test('the invite got no answer before the deadline: 504 in time, the key kept, and the repeat answers the invite', async () => {
    const token = supervisor();
    const transfer = newTransfer();
    standin.script('invite-create', { hang: true });

    const startedAt = Date.now();
    const timedOut = await keyedQueueTransfer(token, 'k-hang', transfer);
    expect(Date.now() - startedAt).toBeLessThan(9000);
    expect(timedOut).toMatchObject({ status: 504, body: { error: { code: 'upstream_timeout' } } });
    expect(standin.syncDocument(claimedDocumentName())).toBeDefined();
    expect(standin.requestsTo('sync-delete')).toHaveLength(0);

    const created = standin.addInvite(transfer.interactionSid, transfer.channelSid, routingOf(standin.requestsTo('invite-create')[0]));
    const repeat = await keyedQueueTransfer(token, 'k-hang', transfer);
    expect(repeat).toMatchObject({ status: 201, body: { inviteSid: created.sid } });
    expect(repeat.headers['Idempotent-Replayed']).toBe('true');
    expect(standin.requestsTo('invite-create')).toHaveLength(1);
  }, 20_000);
});

describe('Sync', () => {
  test('unreachable -> 503 upstream_unavailable, and no invite made blindly', async () => {
    standin.script('sync-create', ...Array.from({ length: 10 }, () => ({ refuse: true as const })));
    const result = await keyedQueueTransfer(supervisor(), 'k-nosync', newTransfer());

    expect(result).toMatchObject({ status: 503, body: { error: { code: 'upstream_unavailable' } } });
    expect(standin.requestsTo('sync-create').length).toBeGreaterThan(1);
    expect(standin.requestsTo('invite-create')).toHaveLength(0);
  });

  test('failing (500) -> 503, and no invite', async () => {
    standin.script('sync-create', { status: 500 });
    const result = await keyedQueueTransfer(supervisor(), 'k-sync500', newTransfer());

    expect(result).toMatchObject({ status: 503, body: { error: { code: 'upstream_unavailable' } } });
    expect(standin.requestsTo('invite-create')).toHaveLength(0);
  });

  test('throttling (429) once is retried, and the transfer is made', async () => {
    standin.script('sync-create', { status: 429 });
    const result = await keyedQueueTransfer(supervisor(), 'k-429', newTransfer());

    expect(result.status).toBe(201);
    expect(standin.requestsTo('sync-create')).toHaveLength(2);
    expect(standin.requestsTo('invite-create')).toHaveLength(1);
    expect(standin.syncDocument(claimedDocumentName())).toBeDefined();
  });

  test('the document lives in TRANSFER_SYNC_SERVICE_SID when set', async () => {
    const serviceSid = 'IS' + 'c3'.repeat(16);
    functions.settings.TRANSFER_SYNC_SERVICE_SID = serviceSid;
    try {
      const result = await keyedQueueTransfer(supervisor(), 'k-service', newTransfer());
      expect(result.status).toBe(201);
      expect(standin.requestsTo('sync-create')[0]?.path).toContain(`/Services/${serviceSid}/Documents`);
      expect(standin.syncDocument(claimedDocumentName(), serviceSid)).toBeDefined();
    } finally {
      delete functions.settings.TRANSFER_SYNC_SERVICE_SID;
    }
  });
});

describe('TTL', () => {
  test('the document is created with Ttl = 86400 by default', async () => {
    expect((await keyedQueueTransfer(supervisor(), 'k-ttl', newTransfer())).status).toBe(201);
    expect(standin.requestsTo('sync-create')[0]?.form.Ttl).toBe('86400');
  });

  test('TRANSFER_IDEMPOTENCY_TTL_SECONDS sets it', async () => {
    functions.settings.TRANSFER_IDEMPOTENCY_TTL_SECONDS = '600';
    try {
      expect((await keyedQueueTransfer(supervisor(), 'k-ttl-600', newTransfer())).status).toBe(201);
      expect(standin.requestsTo('sync-create')[0]?.form.Ttl).toBe('600');
    } finally {
      delete functions.settings.TRANSFER_IDEMPOTENCY_TTL_SECONDS;
    }
  });

  test('a key past its TTL starts a new transfer', async () => {
    const token = supervisor();
    const transfer = newTransfer();
    const first = await keyedQueueTransfer(token, 'k-expiring', transfer);

    const later = Date.now() + (86_400 + 60) * 1000;
    standin.now = () => later;
    const afterExpiry = await keyedQueueTransfer(token, 'k-expiring', transfer);

    expect(first.status).toBe(201);
    expect(afterExpiry.status).toBe(201);
    expect(afterExpiry.headers['Idempotent-Replayed']).toBeUndefined();
    expect(afterExpiry.body.inviteSid).not.toBe(first.body.inviteSid);
    expect(standin.requestsTo('invite-create')).toHaveLength(2);
  });

  test('a key still within its TTL is replayed even a day later', async () => {
    const token = supervisor();
    const transfer = newTransfer();
    const first = await keyedQueueTransfer(token, 'k-day', transfer);

    const later = Date.now() + (86_400 - 60) * 1000;
    standin.now = () => later;
    const repeat = await keyedQueueTransfer(token, 'k-day', transfer);

    expect(repeat).toMatchObject({ status: 201, body: { inviteSid: first.body.inviteSid } });
    expect(repeat.headers['Idempotent-Replayed']).toBe('true');
    expect(standin.requestsTo('invite-create')).toHaveLength(1);
  });
});

describe('cost', () => {
  /** Sequential phases: requests arriving together (within half the latency) belong to one round trip. */
  function phasesOf(requests: RecordedRequest[], latencyMs: number): string[][] {
    const phases: { at: number; routes: string[] }[] = [];
    for (const request of [...requests].sort((a, b) => a.at - b.at)) {
      const last = phases.at(-1);
      if (last !== undefined && request.at - last.at < latencyMs / 2) last.routes.push(request.route);
      else phases.push({ at: request.at, routes: [request.route] });
    }
    return phases.map((phase) => phase.routes.sort());
  }

  test('a keyed warm transfer with taskSid takes as many sequential round trips as an unkeyed one', async () => {
    const latencyMs = 200;
    const { token } = grantAgentToken(standin, ['supervisor']);
    const unkeyedTransfer = newTransfer();
    const keyedTransfer = newTransfer();
    const unkeyedTask = taskOf(unkeyedTransfer, { name: 'Ann' });
    const keyedTask = taskOf(keyedTransfer, { name: 'Ann' });
    standin.latencyMs = latencyMs;

    const unkeyed = await functions.call('transfer-to-queue', { form: { Token: token, ...unkeyedTransfer, taskSid: unkeyedTask } });
    const unkeyedPhases = phasesOf(standin.requests.splice(0), latencyMs);
    functions.newInstance(); // the token is validated again, as in the first call
    const keyed = await keyedQueueTransfer(token, 'k-cost', keyedTransfer, { taskSid: keyedTask });
    const keyedPhases = phasesOf(standin.requests.splice(0), latencyMs);

    expect([unkeyed.status, keyed.status]).toEqual([201, 201]);
    // v3: every transfer reads the channel's participants, in the same round as the task (and the key's claim).
    expect(unkeyedPhases).toEqual([['token-validate'], ['participant-list', 'task-fetch'], ['invite-create']]);
    expect(keyedPhases).toEqual([['token-validate'], ['participant-list', 'sync-create', 'task-fetch'], ['invite-create']]);
  });
});
