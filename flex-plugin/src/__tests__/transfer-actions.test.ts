/**
 * The replaced TransferTask action and the wrap-up guard, with the real client, against the functions as the network
 * shows them (FakeFunctions): which function is called with which fields, what the agent is told, and what is refused.
 */
import { ERROR_CODES, errorNotificationId, NOTIFICATION_IDS, type NotificationContext } from '../notification-catalog';
import {
  BASE_URL,
  conversationTask,
  deferred,
  errorAnswer,
  FakeFunctions,
  sid,
  transferAnswer,
  voiceTask,
  waitUntil,
  type Answer,
} from '../test-support/fake-functions';
import { TransferActions, TransferRefused, type TransferTaskPayloadLike } from '../transfer-actions';
import { TransferClient, type TransferErrorCode } from '../transfer-client';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function setup(options: { nativeTransfers?: boolean; budgetMs?: number } = {}) {
  const functions = new FakeFunctions();
  const shown: Array<{ id: string; context?: NotificationContext }> = [];
  const logged: string[] = [];
  let token = 'eyJ.agent.token';
  let native = options.nativeTransfers ?? false;
  const client = new TransferClient({ baseUrl: BASE_URL, token: () => token, fetch: functions.fetch, budgetMs: options.budgetMs });
  const actions = new TransferActions({
    client,
    notify: (id, context) => shown.push({ id, context }),
    nativeTransfersEnabled: () => native,
    log: (message) => logged.push(message),
  });
  const original = jest.fn<Promise<string>, [TransferTaskPayloadLike]>(async () => 'done by Flex');
  return {
    functions,
    shown,
    logged,
    actions,
    original,
    setToken: (value: string) => {
      token = value;
    },
    setNative: (value: boolean) => {
      native = value;
    },
  };
}

describe('TransferTask of a conversation task', () => {
  test('a worker chosen in the directory, cold: one POST /transfer-to-agent with the task, channel and token', async () => {
    const { functions, shown, actions, original } = setup();
    functions.on('/transfer-to-agent', (form) => transferAnswer(form));
    const task = conversationTask();
    const workerSid = sid('WK');

    const outcome = await actions.transferTask({ task, targetSid: workerSid, options: { mode: 'COLD' } }, original);

    expect(original).not.toHaveBeenCalled();
    expect(functions.received).toEqual([
      {
        path: '/transfer-to-agent',
        form: {
          interactionSid: task.attributes.flexInteractionSid,
          channelSid: task.attributes.flexInteractionChannelSid,
          taskSid: task.taskSid,
          taskChannel: 'chat',
          workerSid,
          transferType: 'cold',
          Token: 'eyJ.agent.token',
          idempotencyKey: expect.stringMatching(UUID),
        },
      },
    ]);
    expect(outcome).toMatchObject({ target: { type: 'worker', sid: workerSid }, participantCloses: 'on-accept' });
    // Cold in on-accept mode: the agent is told they stay until the new agent accepts.
    expect(shown).toEqual([{ id: NOTIFICATION_IDS.awaitingAcceptance, context: undefined }]);
  });

  test('a queue chosen in the directory, warm: POST /transfer-to-queue, and a plain success notice', async () => {
    const { functions, shown, actions, original } = setup();
    functions.on('/transfer-to-queue', (form) => transferAnswer(form));
    const task = conversationTask();
    const queueSid = sid('WQ');

    await actions.transferTask({ task, targetSid: queueSid, options: { mode: 'WARM' } }, original);

    expect(functions.received.map(({ path, form }) => [path, form.queueSid, form.transferType])).toEqual([
      ['/transfer-to-queue', queueSid, 'warm'],
    ]);
    expect(shown.map((notice) => notice.id)).toEqual([NOTIFICATION_IDS.transferred]);
  });

  test('a cold transfer that closed the agent at once is a plain success', async () => {
    const { functions, shown, actions, original } = setup();
    functions.on('/transfer-to-queue', (form) => transferAnswer(form, { participantClosed: true, participantCloses: null }));
    await actions.transferTask({ task: conversationTask(), targetSid: sid('WQ'), options: { mode: 'COLD' } }, original);
    expect(shown.map((notice) => notice.id)).toEqual([NOTIFICATION_IDS.transferred]);
  });

  test("the functions' warnings reach the agent", async () => {
    const { functions, shown, actions, original } = setup();
    const warning = 'The transferring participant could not be closed: close it by hand.';
    functions.on('/transfer-to-queue', (form) => transferAnswer(form, { participantCloses: null, warnings: [warning] }));
    await actions.transferTask({ task: conversationTask(), targetSid: sid('WQ'), options: { mode: 'COLD' } }, original);
    expect(shown).toEqual([
      { id: NOTIFICATION_IDS.transferred, context: undefined },
      { id: NOTIFICATION_IDS.transferWarning, context: { message: warning } },
    ]);
  });

  test('each click is a new action with a fresh key; the token is read at each call', async () => {
    const { functions, actions, original, setToken } = setup();
    functions.on('/transfer-to-queue', (form) => transferAnswer(form));
    const task = conversationTask();
    await actions.transferTask({ task, targetSid: sid('WQ'), options: { mode: 'WARM' } }, original);
    setToken('eyJ.refreshed.token');
    await actions.transferTask({ task, targetSid: sid('WQ'), options: { mode: 'WARM' } }, original);

    const [first, second] = functions.received;
    expect(first?.form.idempotencyKey).not.toBe(second?.form.idempotencyKey);
    expect([first?.form.Token, second?.form.Token]).toEqual(['eyJ.agent.token', 'eyJ.refreshed.token']);
  });

  test('a 503 is retried with the same key until the functions answer', async () => {
    const { functions, shown, actions, original } = setup();
    const answers: Answer[] = [errorAnswer(503, 'upstream_unavailable', 'Twilio could not be reached.')];
    functions.on('/transfer-to-queue', (form) => answers.shift() ?? transferAnswer(form));
    await actions.transferTask({ task: conversationTask(), targetSid: sid('WQ'), options: { mode: 'WARM' } }, original);
    const keys = functions.received.map((request) => request.form.idempotencyKey);
    expect(keys).toHaveLength(2);
    expect(new Set(keys).size).toBe(1);
    expect(shown.map((notice) => notice.id)).toEqual([NOTIFICATION_IDS.transferred]);
  });
});

describe('what the plugin leaves to Flex', () => {
  test('a voice task goes to the original action untouched, and nothing is sent', async () => {
    const { functions, actions, original, shown } = setup();
    const payload = { task: voiceTask(), targetSid: sid('WK'), options: { mode: 'WARM' } };
    await expect(actions.transferTask(payload, original)).resolves.toBe('done by Flex');
    expect(original).toHaveBeenCalledWith(payload);
    expect(functions.received).toEqual([]);
    expect(shown).toEqual([]);
  });

  test('with native conversation transfers turned on, a conversation task goes to Flex too, saying why', async () => {
    const { functions, actions, original, logged } = setup({ nativeTransfers: true });
    const payload = { task: conversationTask(), targetSid: sid('WK'), options: { mode: 'WARM' } };
    await expect(actions.transferTask(payload, original)).resolves.toBe('done by Flex');
    expect(original).toHaveBeenCalledWith(payload);
    expect(functions.received).toEqual([]);
    expect(logged).toEqual([expect.stringMatching(/native conversation transfers are on/)]);
  });
});

describe('one transfer request per task at a time', () => {
  test('a double click sends one request; the second click is refused with a notice; afterwards a new one may go', async () => {
    const { functions, shown, actions, original } = setup();
    const held = deferred<Answer>();
    functions.on('/transfer-to-queue', () => held.promise);
    const task = conversationTask();
    const click = () => actions.transferTask({ task, targetSid: sid('WQ'), options: { mode: 'WARM' } }, original);

    const first = click();
    await expect(click()).rejects.toBeInstanceOf(TransferRefused);
    expect(functions.received).toHaveLength(1);
    expect(shown.map((notice) => notice.id)).toEqual([NOTIFICATION_IDS.alreadyInFlight]);

    held.resolve(transferAnswer(functions.received[0]?.form ?? {}));
    await first;
    functions.on('/transfer-to-queue', (form) => transferAnswer(form));
    await click();
    expect(functions.received).toHaveLength(2);
  });

  test('another task may transfer while one is in flight', async () => {
    const { functions, actions, original } = setup();
    const held = deferred<Answer>();
    functions.on('/transfer-to-queue', () => held.promise);
    const first = actions.transferTask({ task: conversationTask(), targetSid: sid('WQ'), options: { mode: 'WARM' } }, original);
    const second = actions.transferTask({ task: conversationTask(), targetSid: sid('WQ'), options: { mode: 'WARM' } }, original);
    await waitUntil(() => functions.received.length === 2);
    held.resolve(transferAnswer(functions.received[0]?.form ?? {}));
    await Promise.all([first, second]);
  });

  test('wrap-up and complete are aborted while the request is in flight, and allowed once it has its answer', async () => {
    const { functions, shown, actions, original } = setup();
    const held = deferred<Answer>();
    functions.on('/transfer-to-queue', () => held.promise);
    const task = conversationTask();
    const transfer = actions.transferTask({ task, targetSid: sid('WQ'), options: { mode: 'WARM' } }, original);

    const abortWrapup = jest.fn();
    actions.beforeWrapup({ task }, abortWrapup);
    const abortByReservation = jest.fn();
    actions.beforeWrapup({ sid: task.sid }, abortByReservation); // a payload may name the reservation only
    const abortOther = jest.fn();
    actions.beforeWrapup({ task: conversationTask() }, abortOther);

    expect(abortWrapup).toHaveBeenCalledTimes(1);
    expect(abortByReservation).toHaveBeenCalledTimes(1);
    expect(abortOther).not.toHaveBeenCalled();
    expect(shown.map((notice) => notice.id)).toEqual([NOTIFICATION_IDS.wrapupBlocked, NOTIFICATION_IDS.wrapupBlocked]);

    held.resolve(errorAnswer(403, 'forbidden', 'Not your conversation.'));
    await expect(transfer).rejects.toMatchObject({ code: 'forbidden' });
    const abortAfter = jest.fn();
    actions.beforeWrapup({ task }, abortAfter);
    expect(abortAfter).not.toHaveBeenCalled();
  });
});

describe('refusals and errors', () => {
  test('a target that is neither a worker nor a queue is refused without a request', async () => {
    const { functions, shown, actions, original } = setup();
    await expect(
      actions.transferTask({ task: conversationTask(), targetSid: '+15551234567', options: { mode: 'COLD' } }, original),
    ).rejects.toBeInstanceOf(TransferRefused);
    expect(functions.received).toEqual([]);
    expect(shown.map((notice) => notice.id)).toEqual([NOTIFICATION_IDS.notATarget]);
  });

  const STATUS: Partial<Record<TransferErrorCode, number>> = {
    invalid_request: 400,
    unauthenticated: 401,
    forbidden: 403,
    not_found: 404,
    method_not_allowed: 405,
    conflict: 409,
    already_participant: 409,
    transferring_agent_gone: 409,
    payload_too_large: 413,
    unsupported_media_type: 415,
    idempotency_key_reused: 422,
    upstream_rejected: 422,
    rate_limited: 429,
    misconfigured: 500,
    internal_error: 500,
    upstream_error: 502,
    upstream_unavailable: 503,
    upstream_timeout: 504,
  };
  const serverCodes = ERROR_CODES.filter((code) => STATUS[code] !== undefined);

  test('every code the functions answer has a status in this table', () => {
    expect(serverCodes).toHaveLength(ERROR_CODES.length - 3); // the client's own three are not answered by the functions
  });

  test.each(serverCodes)("%s: its own notification, with the function's message and request id", async (code) => {
    const { functions, shown, actions, original } = setup({ budgetMs: 300 });
    const message = `What the function said about ${code}.`;
    functions.on('/transfer-to-agent', errorAnswer(STATUS[code] ?? 500, code, message));

    await expect(
      actions.transferTask({ task: conversationTask(), targetSid: sid('WK'), options: { mode: 'WARM' } }, original),
    ).rejects.toMatchObject({
      code,
    });

    expect(shown).toEqual([{ id: errorNotificationId(code), context: { message, requestId: `req-${code}` } }]);
  });

  test('400: the fields the function names are part of the message', async () => {
    const { functions, shown, actions, original } = setup();
    functions.on('/transfer-to-queue', {
      status: 400,
      body: {
        error: {
          code: 'invalid_request',
          message: 'The request is not valid.',
          details: [{ field: 'workflowSid', message: 'no workflow known' }],
        },
      },
    });
    await expect(actions.transferTask({ task: conversationTask(), targetSid: sid('WQ') }, original)).rejects.toMatchObject({
      code: 'invalid_request',
    });
    expect(shown[0]?.context?.message).toBe('The request is not valid. (workflowSid: no workflow known)');
  });

  test('no answer at all: network_error once the budget is spent', async () => {
    const { functions, shown, actions, original } = setup({ budgetMs: 300 });
    functions.on('/transfer-to-queue', () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(actions.transferTask({ task: conversationTask(), targetSid: sid('WQ') }, original)).rejects.toMatchObject({
      code: 'network_error',
    });
    expect(shown.map((notice) => notice.id)).toEqual([errorNotificationId('network_error')]);
  });
});
