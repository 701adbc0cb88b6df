/**
 * "Pending transfers" (transfer-api.md): /list-transfers shows a channel's
 * transfer invites, /cancel-transfer cancels one's task while nobody has
 * accepted it. In-process, against the stand-in's invites and tasks.
 */
import { newSid, type TaskAssignmentStatus } from '../../dev/twilio-standin';
import { joinAsAgent } from '../support/fixtures';
import { TEST_WORKSPACE_SID } from '../support/functions-server';
import { type CallResult, grantAgentToken, inProcessFunctions } from '../support/in-process';

const functions = inProcessFunctions();
const { standin } = functions;

interface Channel {
  interactionSid: string;
  channelSid: string;
}

/** A fresh interaction channel, seeded at the stand-in. */
/** A conversation as a transfer starts from: a customer and the agent talking to them (on an assigned task). */
const newChannel = (): Channel => {
  const channel = standin.addConversation();
  joinAsAgent(standin, channel, newSid('WK'));
  return channel;
};

/** A moment on whole seconds (Twilio dates have no milliseconds), recent enough for the tokens the stand-in grants. */
const BASE_MS = Math.floor((Date.now() - 30 * 60_000) / 1000) * 1000;
const MINUTE = 60_000;

function at(ms: number): void {
  standin.now = () => ms;
}

async function queueTransfer(token: string, channel: Channel, extra: Record<string, string> = {}): Promise<CallResult> {
  const result = await functions.call('transfer-to-queue', { form: { Token: token, ...channel, queueSid: standin.addQueue(), ...extra } });
  if (result.status !== 201) throw new Error(`seeding transfer failed: ${JSON.stringify(result.body)}`);
  return result;
}

function list(token: string, channel: Channel): Promise<CallResult> {
  return functions.call('list-transfers', { form: { Token: token, ...channel } });
}

function cancel(token: string, channel: Channel, taskSid: string, extra: Record<string, string> = {}): Promise<CallResult> {
  return functions.call('cancel-transfer', { form: { Token: token, ...channel, taskSid, ...extra } });
}

describe('POST /list-transfers', () => {
  test("every page of the channel's transfer invites, newest first, with their fields; nothing else listed", async () => {
    const { token, workerSid: supervisorWorker } = grantAgentToken(standin, ['supervisor']);
    const channel = newChannel();
    const otherChannel = newChannel();
    standin.invitePageSize = 2;

    at(BASE_MS + 2 * MINUTE);
    const queued = await queueTransfer(token, channel);
    at(BASE_MS);
    const oldest = standin.addInvite(channel.interactionSid, channel.channelSid, {
      workspace_sid: TEST_WORKSPACE_SID,
      queue_sid: newSid('WQ'),
      attributes: { transferTargetType: 'queue', transferTargetSid: 'WQ' + '1'.repeat(32), transferType: 'cold' },
    });
    at(BASE_MS + 5 * MINUTE);
    const targetWorker = standin.addWorker();
    const toAgent = await functions.call('transfer-to-agent', {
      form: { Token: token, ...channel, workerSid: targetWorker, queueSid: standin.addQueue() },
    });
    expect(toAgent.status).toBe(201);
    at(BASE_MS + 4 * MINUTE);
    // Not a transfer: an invite made by something else (no transfer attributes).
    standin.addInvite(channel.interactionSid, channel.channelSid, {
      workspace_sid: TEST_WORKSPACE_SID,
      attributes: { from: 'a Studio flow', conversations: { conversation_id: 'x' } },
    });
    at(BASE_MS + 3 * MINUTE);
    await queueTransfer(token, otherChannel);

    const result = await list(token, channel);

    expect(result.status).toBe(200);
    expect(result.headers['Content-Type']).toBe('application/json');
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(result.body.transfers).toEqual([
      expect.objectContaining({
        inviteSid: toAgent.body.inviteSid,
        taskSid: toAgent.body.taskSid,
        target: { type: 'worker', sid: targetWorker },
        transferType: 'warm',
        transferredByWorkerSid: supervisorWorker,
        createdAt: iso(BASE_MS + 5 * MINUTE),
      }),
      expect.objectContaining({
        inviteSid: queued.body.inviteSid,
        taskSid: queued.body.taskSid,
        target: queued.body.target,
        transferType: 'warm',
        transferredByWorkerSid: supervisorWorker,
        createdAt: iso(BASE_MS + 2 * MINUTE),
      }),
      expect.objectContaining({
        inviteSid: oldest.sid,
        taskSid: oldest.routing.properties.sid,
        target: { type: 'queue', sid: 'WQ' + '1'.repeat(32) },
        transferType: 'cold',
        transferredByWorkerSid: null,
        createdAt: iso(BASE_MS),
      }),
    ]);
    for (const transfer of result.body.transfers) expect(transfer.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    // 4 invites on the channel, 2 a page: every page was read, and only this channel's.
    const reads = standin.requestsTo('invite-list');
    expect(reads).toHaveLength(2);
    expect(
      reads.every((read) => read.path.includes(`/Interactions/${channel.interactionSid}/Channels/${channel.channelSid}/Invites`)),
    ).toBe(true);
    expect(standin.requestsTo('invite-create')).toHaveLength(3);
  });

  test('a channel without invites lists none', async () => {
    const result = await list(grantAgentToken(standin, ['admin']).token, newChannel());
    expect(result).toMatchObject({ status: 200, body: { transfers: [] } });
  });

  test('bad input -> 400 listing every bad field, and nothing read from Flex', async () => {
    const { token } = grantAgentToken(standin, ['supervisor']);
    const result = await functions.call('list-transfers', { form: { Token: token, interactionSid: 'KD123', channelSid: '' } });

    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe('invalid_request');
    expect(result.body.error.details.map((detail: { field: string }) => detail.field).sort()).toEqual(['channelSid', 'interactionSid']);
    expect(standin.requests.filter((request) => request.host === 'flex-api.twilio.com')).toEqual([]);
  });

  test('without credentials -> 401 and nothing read', async () => {
    const result = await functions.call('list-transfers', { form: { ...newChannel() } });
    expect(result).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } } });
    expect(standin.requestsTo('invite-list')).toHaveLength(0);
  });

  test.each([
    ['Twilio answers 500', 502, 'upstream_error', { status: 500 }],
    ['Twilio is unreachable', 503, 'upstream_unavailable', { refuse: true as const }],
  ])('%s -> %i %s', async (_, status, code, fault) => {
    const { token } = grantAgentToken(standin, ['supervisor']);
    standin.script('invite-list', ...Array.from({ length: 10 }, () => fault));
    const result = await list(token, newChannel());
    expect(result).toMatchObject({ status, body: { error: { code } } });
    expect(JSON.stringify(result.body)).not.toContain('"transfers"');
  });

  test('an unknown interaction -> 404', async () => {
    const { token } = grantAgentToken(standin, ['supervisor']);
    const channel = newChannel();
    standin.forgetInteraction(channel.interactionSid);
    expect(await list(token, channel)).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });

  describe('ownership', () => {
    test("a plain agent who is not the channel's agent participant -> 403, and sees none of its transfers", async () => {
      const channel = newChannel();
      const transfer = await queueTransfer(grantAgentToken(standin, ['supervisor']).token, channel);
      joinAsAgent(standin, channel, newSid('WK'));
      const { token } = grantAgentToken(standin, ['agent']);

      const result = await list(token, channel);

      expect(result).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
      expect(JSON.stringify(result.body)).not.toContain(transfer.body.inviteSid);
    });

    test("the channel's own agent may list", async () => {
      const channel = newChannel();
      const transfer = await queueTransfer(grantAgentToken(standin, ['supervisor']).token, channel);
      const { token, workerSid } = grantAgentToken(standin, ['agent']);
      joinAsAgent(standin, channel, workerSid);

      const result = await list(token, channel);

      expect(result.status).toBe(200);
      expect(result.body.transfers.map((listed: { inviteSid: string }) => listed.inviteSid)).toEqual([transfer.body.inviteSid]);
    });

    test('a supervisor may list any channel they are not in (v3: the participants are read alongside, for `cancelable`)', async () => {
      const channel = newChannel();
      const transfer = await queueTransfer(grantAgentToken(standin, ['admin']).token, channel);
      const { token } = grantAgentToken(standin, ['supervisor']);
      standin.requests.length = 0;

      const result = await list(token, channel);

      expect(result.status).toBe(200);
      expect(result.body.transfers).toHaveLength(1);
      expect(result.body.transfers[0].inviteSid).toBe(transfer.body.inviteSid);
      expect(result.body.transfers[0].cancelable).toBe(true);
      expect(standin.requestsTo('participant-list')).toHaveLength(1);
    });
  });
});

describe('POST /cancel-transfer', () => {
  /** A supervisor's warm queue transfer on a fresh channel; returns the channel and the invite's task. */
  async function pendingTransfer(): Promise<{ token: string; channel: Channel; taskSid: string }> {
    const { token } = grantAgentToken(standin, ['supervisor']);
    const channel = newChannel();
    const transfer = await queueTransfer(token, channel);
    const taskSid = transfer.body.taskSid as string;
    expect(taskSid).toMatch(/^WT[0-9a-f]{32}$/);
    return { token, channel, taskSid };
  }

  test('a pending transfer: 200, the task canceled with the default Reason and If-Match = the ETag read', async () => {
    const { token, channel, taskSid } = await pendingTransfer();
    const etag = standin.taskETag(taskSid);

    const result = await cancel(token, channel, taskSid);

    expect(result).toMatchObject({ status: 200, body: { taskSid, canceled: true } });
    expect(standin.task(taskSid)).toMatchObject({ assignment_status: 'canceled', reason: 'Transfer canceled' });
    const updates = standin.requestsTo('task-update');
    expect(updates).toHaveLength(1);
    expect(updates[0]?.form).toMatchObject({ AssignmentStatus: 'canceled', Reason: 'Transfer canceled' });
    expect(updates[0]?.headers['if-match']).toBe(etag);
    expect(updates[0]?.path).toBe(`/v1/Workspaces/${TEST_WORKSPACE_SID}/Tasks/${taskSid}`);
  });

  test('a reserved transfer with a reason: 200, canceled with that Reason and the ETag of the reserved task', async () => {
    const { token, channel, taskSid } = await pendingTransfer();
    const pendingEtag = standin.taskETag(taskSid);
    standin.setTaskStatus(taskSid, 'reserved');
    const reservedEtag = standin.taskETag(taskSid);
    expect(reservedEtag).not.toBe(pendingEtag);

    const result = await cancel(token, channel, taskSid, { reason: 'Customer changed their mind' });

    expect(result).toMatchObject({ status: 200, body: { taskSid, canceled: true } });
    expect(standin.task(taskSid)).toMatchObject({ assignment_status: 'canceled', reason: 'Customer changed their mind' });
    expect(standin.requestsTo('task-update')[0]?.headers['if-match']).toBe(reservedEtag);
  });

  test.each<TaskAssignmentStatus>(['assigned', 'wrapping', 'completed', 'canceled'])(
    'a transfer whose task is %s -> 409 conflict, and nothing changed',
    async (status) => {
      const { token, channel, taskSid } = await pendingTransfer();
      standin.setTaskStatus(taskSid, status);
      const before = standin.task(taskSid);

      const result = await cancel(token, channel, taskSid);

      expect(result).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
      expect(standin.requestsTo('task-update')).toHaveLength(0);
      expect(standin.task(taskSid)).toEqual(before);
    },
  );

  describe('with an Idempotency-Key (the example client sends one per click)', () => {
    test('a repeat after the cancel went through answers the first result, replayed, and cancels nothing more', async () => {
      const { token, channel, taskSid } = await pendingTransfer();

      const first = await cancel(token, channel, taskSid, { idempotencyKey: 'cancel-click-1' });
      const repeat = await cancel(token, channel, taskSid, { idempotencyKey: 'cancel-click-1' });

      expect(first).toMatchObject({ status: 200, body: { taskSid, canceled: true } });
      expect(first.headers['Idempotent-Replayed']).toBeUndefined();
      expect(repeat).toMatchObject({ status: 200, body: { taskSid, canceled: true } });
      expect(repeat.headers['Idempotent-Replayed']).toBe('true');
      expect(standin.requestsTo('task-update')).toHaveLength(1);
    });

    test('without a key, a repeat of a cancel that went through is a 409 (the task is canceled)', async () => {
      const { token, channel, taskSid } = await pendingTransfer();
      await cancel(token, channel, taskSid);

      const repeat = await cancel(token, channel, taskSid);

      expect(repeat).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
      expect(repeat.body.error.message).toContain('canceled');
    });

    test('a cancel whose result could not be recorded: the repeat finds the task canceled with its reason and answers 200', async () => {
      const { token, channel, taskSid } = await pendingTransfer();
      standin.script('sync-update', { status: 500 });

      const first = await cancel(token, channel, taskSid, { idempotencyKey: 'cancel-unrecorded', reason: 'Customer left' });
      const repeat = await cancel(token, channel, taskSid, { idempotencyKey: 'cancel-unrecorded', reason: 'Customer left' });

      expect(first).toMatchObject({ status: 200, body: { taskSid, canceled: true } });
      expect(repeat).toMatchObject({ status: 200, body: { taskSid, canceled: true } });
      expect(repeat.headers['Idempotent-Replayed']).toBe('true');
      expect(standin.requestsTo('task-update')).toHaveLength(1);
    });

    test('the same key for another transfer -> 422 idempotency_key_reused, and that transfer stays pending', async () => {
      const first = await pendingTransfer();
      const second = await pendingTransfer();
      await cancel(first.token, first.channel, first.taskSid, { idempotencyKey: 'cancel-click-2' });

      const reused = await cancel(first.token, second.channel, second.taskSid, { idempotencyKey: 'cancel-click-2' });

      expect(reused).toMatchObject({ status: 422, body: { error: { code: 'idempotency_key_reused' } } });
      expect(standin.task(second.taskSid)).toMatchObject({ assignment_status: 'pending' });
    });

    test('a cancel refused because the transfer was accepted releases the key: a repeat is judged afresh', async () => {
      const { token, channel, taskSid } = await pendingTransfer();
      standin.setTaskStatus(taskSid, 'assigned');
      const refused = await cancel(token, channel, taskSid, { idempotencyKey: 'cancel-click-3' });
      standin.setTaskStatus(taskSid, 'reserved');

      const repeat = await cancel(token, channel, taskSid, { idempotencyKey: 'cancel-click-3' });

      expect(refused.status).toBe(409);
      expect(repeat).toMatchObject({ status: 200, body: { taskSid, canceled: true } });
      expect(repeat.headers['Idempotent-Replayed']).toBeUndefined();
    });
  });

  describe('not a transfer of this channel -> 404, and nothing changed', () => {
    test("another channel's transfer", async () => {
      const { token, taskSid } = await pendingTransfer();
      const channel = newChannel();
      await queueTransfer(token, channel); // this channel has transfers of its own

      const result = await cancel(token, channel, taskSid);

      expect(result).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
      expect(standin.task(taskSid)?.assignment_status).toBe('pending');
      expect(standin.requestsTo('task-update')).toHaveLength(0);
    });

    test('an invite of this channel that is not a transfer (no transfer attributes on its task)', async () => {
      const { token } = grantAgentToken(standin, ['supervisor']);
      const channel = newChannel();
      const invite = standin.addInvite(channel.interactionSid, channel.channelSid, {
        workspace_sid: TEST_WORKSPACE_SID,
        attributes: { from: 'a Studio flow' },
      });
      const taskSid = invite.routing.properties.sid as string;

      const result = await cancel(token, channel, taskSid);

      expect(result).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
      expect(standin.task(taskSid)?.assignment_status).toBe('pending');
      expect(standin.requestsTo('task-update')).toHaveLength(0);
    });

    test('a task whose attributes claim a transfer but that no invite of this channel made', async () => {
      const { token, channel } = await pendingTransfer();
      const taskSid = standin.addTask({
        workspaceSid: TEST_WORKSPACE_SID,
        attributes: { transferTargetType: 'queue', transferTargetSid: newSid('WQ'), transferType: 'warm' },
      });

      const result = await cancel(token, channel, taskSid);

      expect(result).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
      expect(standin.task(taskSid)?.assignment_status).toBe('pending');
      expect(standin.requestsTo('task-update')).toHaveLength(0);
    });

    test('an unknown task', async () => {
      const { token, channel } = await pendingTransfer();
      const result = await cancel(token, channel, newSid('WT'));
      expect(result).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
      expect(standin.requestsTo('task-update')).toHaveLength(0);
    });
  });

  test('the race: an agent accepts between the read and the cancel -> 409, never 500, and the task stays accepted', async () => {
    const { token, channel, taskSid } = await pendingTransfer();
    standin.script('task-update', { delayMs: 300 });

    const canceling = cancel(token, channel, taskSid);
    while (standin.requestsTo('task-update').length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    standin.setTaskStatus(taskSid, 'assigned'); // accepted while the cancel was on its way
    const result = await canceling;

    expect(result).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect(standin.task(taskSid)?.assignment_status).toBe('assigned');
    expect(standin.requestsTo('task-update')).toHaveLength(1);
  });

  test('bad input -> 400 listing every bad field, and nothing sent to TaskRouter', async () => {
    const { token } = grantAgentToken(standin, ['supervisor']);
    const result = await functions.call('cancel-transfer', {
      form: { Token: token, interactionSid: newSid('KD'), channelSid: 'UOnope', taskSid: 'WT1', reason: 'r'.repeat(256) },
    });

    expect(result.status).toBe(400);
    expect(result.body.error.details.map((detail: { field: string }) => detail.field).sort()).toEqual(['channelSid', 'reason', 'taskSid']);
    expect(standin.requests.filter((request) => request.host !== 'iam.twilio.com')).toEqual([]);
  });

  test('a missing taskSid -> 400 naming it', async () => {
    const { token } = grantAgentToken(standin, ['supervisor']);
    const result = await functions.call('cancel-transfer', { form: { Token: token, ...newChannel() } });
    expect(result.status).toBe(400);
    expect(result.body.error.details).toEqual([expect.objectContaining({ field: 'taskSid' })]);
  });

  test.each([
    ['the task read fails (500)', 502, 'upstream_error', 'task-fetch' as const, { status: 500 }],
    ['TaskRouter is unreachable', 503, 'upstream_unavailable', 'task-fetch' as const, { refuse: true as const }],
    ['the invite list fails (500)', 502, 'upstream_error', 'invite-list' as const, { status: 500 }],
  ])('%s -> %i %s, and the task is not canceled', async (_, status, code, route, fault) => {
    const { token, channel, taskSid } = await pendingTransfer();
    standin.script(route, ...Array.from({ length: 10 }, () => fault));

    const result = await cancel(token, channel, taskSid);

    expect(result).toMatchObject({ status, body: { error: { code } } });
    expect(standin.task(taskSid)?.assignment_status).toBe('pending');
    expect(standin.requestsTo('task-update')).toHaveLength(0);
  });

  test('the cancel itself fails (500) -> 502 that says the transfer may have been canceled', async () => {
    const { token, channel, taskSid } = await pendingTransfer();
    standin.script('task-update', { status: 500 });

    const result = await cancel(token, channel, taskSid);

    expect(result).toMatchObject({ status: 502, body: { error: { code: 'upstream_error' } } });
    expect(result.body.error.message).toMatch(/may have been canceled/);
    expect(standin.requestsTo('task-update')).toHaveLength(1);
  });

  describe('ownership', () => {
    test("a plain agent who is not the channel's agent participant -> 403, and the task stays pending", async () => {
      const { channel, taskSid } = await pendingTransfer();
      joinAsAgent(standin, channel, newSid('WK'));
      const { token } = grantAgentToken(standin, ['agent']);

      const result = await cancel(token, channel, taskSid);

      expect(result).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
      expect(standin.task(taskSid)?.assignment_status).toBe('pending');
      expect(standin.requestsTo('task-update')).toHaveLength(0);
    });

    test("the channel's own agent may cancel", async () => {
      const { channel, taskSid } = await pendingTransfer();
      const { token, workerSid } = grantAgentToken(standin, ['agent']);
      joinAsAgent(standin, channel, workerSid);

      const result = await cancel(token, channel, taskSid);

      expect(result).toMatchObject({ status: 200, body: { taskSid, canceled: true } });
      expect(standin.task(taskSid)?.assignment_status).toBe('canceled');
    });

    test('a supervisor who is not a participant may cancel', async () => {
      const { channel, taskSid } = await pendingTransfer();
      joinAsAgent(standin, channel, newSid('WK'));
      const { token } = grantAgentToken(standin, ['supervisor']);

      const result = await cancel(token, channel, taskSid);

      expect(result).toMatchObject({ status: 200, body: { taskSid, canceled: true } });
      expect(standin.task(taskSid)?.assignment_status).toBe('canceled');
    });
  });
});
