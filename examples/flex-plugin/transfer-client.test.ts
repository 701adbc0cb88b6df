/**
 * The Flex plugin client against the real functions under twilio-run, with the
 * Twilio stand-in behind them: every answer here is one the functions really
 * gave, turned into a typed result or error by the client.
 */
import type { ErrorCode as FunctionErrorCode } from '../../src/lib/http-errors';
import type { TransferResult as FunctionTransferResult } from '../../src/lib/transfer';
import { freePort } from '../../test/support/functions-server';
import { agentToken, transferSids, useFunctions } from '../../test/support/harness';
import { newSid } from '../../test/support/twilio-standin';
import {
  ForbiddenError,
  InvalidRequestError,
  isTransferError,
  NotFoundError,
  RateLimitedError,
  type ServerErrorCode,
  TransferClient,
  TransferError,
  TransferNetworkError,
  type TransferResult,
  TransferTimeoutError,
  UnauthenticatedError,
  UpstreamError,
  transferArgsFromTask,
} from './transfer-client';

/** Compile-time: the client's codes and result shape are exactly the functions' (a change on either side fails `tsc`). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const errorCodesInSync: Same<ServerErrorCode, FunctionErrorCode> = true;
const resultInSync: Same<TransferResult, FunctionTransferResult> = true;

/** A Flex Conversations task as Flex UI hands it to a plugin (only what the client reads). */
function conversationTask() {
  const sids = transferSids();
  return {
    sids,
    task: {
      sid: newSid('WR'),
      taskSid: newSid('WT'),
      attributes: {
        conversationSid: newSid('CH'),
        flexInteractionSid: sids.interactionSid,
        flexInteractionChannelSid: sids.channelSid,
        channelType: 'web',
      },
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<TransferError> {
  try {
    await promise;
  } catch (thrown) {
    if (thrown instanceof TransferError) return thrown;
    throw thrown;
  }
  throw new Error('expected the call to fail');
}

describe('transferArgsFromTask', () => {
  test('reads the interaction, channel and task of a conversation task', () => {
    const { sids, task } = conversationTask();
    expect(transferArgsFromTask(task)).toEqual({ interactionSid: sids.interactionSid, channelSid: sids.channelSid, taskSid: task.taskSid });
  });

  test('refuses a task that is not a Flex Conversations task', () => {
    expect(() => transferArgsFromTask({ taskSid: newSid('WT'), attributes: { call_sid: newSid('CA') } })).toThrow(/flexInteractionSid/);
    expect(() => transferArgsFromTask({ attributes: { flexInteractionSid: newSid('KD') } })).toThrow(/flexInteractionChannelSid/);
  });
});

describe('TransferClient against the functions', () => {
  const harness = useFunctions({ forkPerRequest: false });
  const clientFor = (token: string, timeoutMs?: number) =>
    new TransferClient({ baseUrl: harness.server.url + '/', token: () => token, ...(timeoutMs === undefined ? {} : { timeoutMs }) });

  test('client and functions agree on error codes and the result shape', () => {
    expect(errorCodesInSync && resultInSync).toBe(true);
  });

  test('the runtime preflight lets a browser send the Authorization header', async () => {
    const preflight = await fetch(harness.url('/transfer-to-queue'), {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://flex.twilio.com',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toEqual(expect.stringContaining('authorization'));
  });

  test('transferToAgent: warm transfer with the token as Bearer, task attributes recorded', async () => {
    const { token, workerSid: me } = agentToken(harness.standin);
    const { sids, task } = conversationTask();

    const result = await clientFor(token).transferToAgent({ ...transferArgsFromTask(task), workerSid: sids.workerSid });

    expect(result).toEqual({
      inviteSid: expect.stringMatching(/^KG/),
      interactionSid: sids.interactionSid,
      channelSid: sids.channelSid,
      taskSid: expect.stringMatching(/^WT/),
      target: { type: 'worker', sid: sids.workerSid },
      transferType: 'warm',
      participantClosed: false,
      warnings: [],
    });
    expect(harness.standin.requestsTo('token-validate')[0]?.json).toMatchObject({ token });
    const [invite] = harness.standin.requestsTo('invite');
    expect(invite?.routing?.properties).toMatchObject({
      worker_sid: sids.workerSid,
      attributes: {
        transferTargetType: 'worker',
        transferTargetSid: sids.workerSid,
        transferredByWorkerSid: me,
        transferredFromTaskSid: task.taskSid,
      },
    });
    expect(harness.standin.requestsTo('participant-update')).toHaveLength(0);
  });

  test('transferToQueue: optional fields are sent, undefined ones are not', async () => {
    const { token } = agentToken(harness.standin);
    const { sids, task } = conversationTask();

    const result = await clientFor(token).transferToQueue({
      ...transferArgsFromTask(task),
      queueSid: sids.queueSid,
      priority: 10,
      timeout: 300,
      taskChannel: 'chat',
      attributes: { reason: 'billing question' },
      workflowSid: undefined,
    });

    expect(result.target).toEqual({ type: 'queue', sid: sids.queueSid });
    const [invite] = harness.standin.requestsTo('invite');
    expect(invite?.routing?.properties).toMatchObject({
      queue_sid: sids.queueSid,
      priority: 10,
      timeout: 300,
      task_channel_unique_name: 'chat',
      attributes: { reason: 'billing question', transferTargetType: 'queue', transferTargetSid: sids.queueSid },
    });
    expect(invite?.routing?.properties).not.toHaveProperty('workflow_sid');
  });

  test('cold transfer: the function finds and closes the agent participant from the token', async () => {
    const { token, workerSid: me } = agentToken(harness.standin);
    const { sids, task } = conversationTask();
    const myParticipant = newSid('UT');
    harness.standin.setParticipants(sids.interactionSid, sids.channelSid, [
      { sid: newSid('UT'), type: 'customer' },
      { sid: myParticipant, routing_properties: { worker_sid: me } },
    ]);

    const result = await clientFor(token).transferToQueue({ ...transferArgsFromTask(task), queueSid: sids.queueSid, transferType: 'cold' });

    expect(result).toMatchObject({ transferType: 'cold', participantClosed: true, warnings: [] });
    const [update] = harness.standin.requestsTo('participant-update');
    expect(update?.path).toMatch(new RegExp(`/Participants/${myParticipant}$`));
    expect(update?.form.Status).toBe('closed');
  });

  test('400 becomes InvalidRequestError with every bad field in details', async () => {
    const { token } = agentToken(harness.standin);
    const { task } = conversationTask();

    const error = await rejection(
      clientFor(token).transferToAgent({ ...transferArgsFromTask(task), workerSid: 'WKnot-a-sid', priority: -1 }),
    );

    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_request', name: 'InvalidRequestError' });
    expect(error.details?.map((problem) => problem.field).sort()).toEqual(['priority', 'workerSid']);
    expect(harness.standin.requestsTo('invite')).toHaveLength(0);
  });

  test('401 becomes UnauthenticatedError', async () => {
    const { sids, task } = conversationTask();
    const error = await rejection(
      clientFor('eyJ.never.granted').transferToQueue({ ...transferArgsFromTask(task), queueSid: sids.queueSid }),
    );
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(error).toMatchObject({ status: 401, code: 'unauthenticated', details: undefined });
  });

  test('403 becomes ForbiddenError', async () => {
    const { token } = agentToken(harness.standin, ['guest']);
    const { sids, task } = conversationTask();
    const error = await rejection(clientFor(token).transferToQueue({ ...transferArgsFromTask(task), queueSid: sids.queueSid }));
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error.status).toBe(403);
  });

  test('404 becomes NotFoundError with Twilio code and link', async () => {
    const { token } = agentToken(harness.standin);
    const { sids, task } = conversationTask();
    harness.standin.forgetInteraction(sids.interactionSid);
    const error = await rejection(clientFor(token).transferToAgent({ ...transferArgsFromTask(task), workerSid: sids.workerSid }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({
      status: 404,
      code: 'not_found',
      twilioCode: 20404,
      moreInfo: 'https://www.twilio.com/docs/errors/20404',
    });
  });

  test('429 becomes RateLimitedError with retryAfterSeconds from Retry-After', async () => {
    const { token } = agentToken(harness.standin);
    const { sids, task } = conversationTask();
    // A Retry-After longer than the request's budget: the function cannot retry and passes the 429 on.
    harness.standin.script('invite', { status: 429, headers: { 'Retry-After': '30' } });
    const error = await rejection(clientFor(token).transferToQueue({ ...transferArgsFromTask(task), queueSid: sids.queueSid }));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ status: 429, code: 'rate_limited', retryAfterSeconds: 30, twilioCode: 20429 });
  });

  test('502 becomes UpstreamError, and the union narrows on code', async () => {
    const { token } = agentToken(harness.standin);
    const { sids, task } = conversationTask();
    harness.standin.script('invite', { status: 500 });
    let thrown: unknown;
    try {
      await clientFor(token).transferToQueue({ ...transferArgsFromTask(task), queueSid: sids.queueSid });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UpstreamError);
    if (!isTransferError(thrown)) throw new Error('expected a TransferError');
    switch (thrown.code) {
      case 'upstream_error':
        expect(thrown.status).toBe(502);
        expect(thrown.message).toMatch(/may or may not have happened/);
        break;
      default:
        throw new Error(`unexpected code ${thrown.code}`);
    }
    expect(harness.standin.requestsTo('invite')).toHaveLength(1); // a 500 on the invite is never retried
  });

  test('no answer within the client timeout becomes TransferTimeoutError', async () => {
    const { token } = agentToken(harness.standin);
    const { sids, task } = conversationTask();
    harness.standin.script('token-validate', { delayMs: 800 });
    const startedAt = Date.now();
    const error = await rejection(clientFor(token, 150).transferToQueue({ ...transferArgsFromTask(task), queueSid: sids.queueSid }));
    expect(error).toBeInstanceOf(TransferTimeoutError);
    expect(error).toMatchObject({ status: 0, code: 'client_timeout' });
    expect(Date.now() - startedAt).toBeLessThan(800);
  });

  test("the caller's own abort signal rejects with its reason, not a TransferError", async () => {
    const { token } = agentToken(harness.standin);
    const { sids, task } = conversationTask();
    harness.standin.script('token-validate', { delayMs: 800 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('panel closed')), 100);
    const call = clientFor(token).transferToQueue(
      { ...transferArgsFromTask(task), queueSid: sids.queueSid },
      { signal: controller.signal },
    );
    await expect(call).rejects.toThrow('panel closed');
  });
});

test('an unreachable service becomes TransferNetworkError', async () => {
  const port = await freePort();
  const client = new TransferClient({ baseUrl: `http://127.0.0.1:${port}`, token: 'eyJ.any.token' });
  const error = await rejection(client.transferToQueue({ interactionSid: newSid('KD'), channelSid: newSid('UO'), queueSid: newSid('WQ') }));
  expect(error).toBeInstanceOf(TransferNetworkError);
  expect(error).toMatchObject({ status: 0, code: 'network_error' });
  expect((error as Error & { cause?: unknown }).cause).toBeDefined(); // fetch's own error (another realm under jest)
});
