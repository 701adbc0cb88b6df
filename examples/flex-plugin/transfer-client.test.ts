/**
 * The Flex plugin's client (flex-plugin/src/transfer-client.ts): its retry loop
 * against a scripted loopback server (asserting on what that server received),
 * then against the real functions under twilio-run with the Twilio stand-in
 * behind them. Its compile-time checks hold the client to the functions' own
 * types (`npm run typecheck`).
 */
import { assignedTaskOf } from '../../test/support/fixtures';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { PendingTransfer as FunctionPendingTransfer } from '../../src/core/list-transfers';
import type { TransferResult as FunctionTransferResult } from '../../src/core/transfer-result';
import type { ErrorCode as FunctionErrorCode } from '../../src/http/errors';
import { freePort, TEST_WORKSPACE_SID } from '../../test/support/functions-server';
import { transferSids, useFunctions } from '../../test/support/harness';
import { grantAgentToken } from '../../test/support/in-process';
import {
  type PendingTransfer,
  type ServerErrorCode,
  TransferClient,
  type TransferResult,
  type TransferClientOptions,
  TransferError,
  transferArgsFromTask,
} from '../../flex-plugin/src/transfer-client';

/** Compile-time: the client's server codes are exactly the functions' `ErrorCode` (a change on either side fails `tsc`). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const errorCodesInSync: Same<ServerErrorCode, FunctionErrorCode> = true;
/** Compile-time: the bodies the client declares are the ones the functions answer. */
const pendingTransferInSync: Same<PendingTransfer, FunctionPendingTransfer> = true;
const transferResultInSync: Same<Omit<TransferResult, 'replayed'>, FunctionTransferResult> = true;
/** The codes of the contract's error table (transfer-api.md): each must be one the client knows. */
type ContractErrorCode =
  | 'invalid_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'already_participant'
  | 'transferring_agent_gone'
  | 'payload_too_large'
  | 'idempotency_key_reused'
  | 'upstream_rejected'
  | 'rate_limited'
  | 'misconfigured'
  | 'upstream_error'
  | 'upstream_unavailable'
  | 'upstream_timeout';
const contractCodesKnown: [ContractErrorCode] extends [ServerErrorCode] ? true : false = true;

const fakeSid = (prefix: string): string => prefix + randomBytes(16).toString('hex');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A Flex Conversations task as Flex UI hands it to a plugin (only what the client reads). */
function conversationTask() {
  const sids = transferSids();
  return {
    sids,
    task: {
      sid: fakeSid('WR'),
      taskSid: fakeSid('WT'),
      taskChannelUniqueName: 'chat',
      attributes: {
        conversationSid: fakeSid('CH'),
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

test('client and functions agree on error codes, and the client knows every code of the contract', () => {
  expect(errorCodesInSync && contractCodesKnown && pendingTransferInSync && transferResultInSync).toBe(true);
});

describe('transferArgsFromTask', () => {
  test('reads the interaction, channel, task and task channel of a conversation task', () => {
    const { sids, task } = conversationTask();
    expect(transferArgsFromTask(task)).toEqual({
      interactionSid: sids.interactionSid,
      channelSid: sids.channelSid,
      taskSid: task.taskSid,
      taskChannel: 'chat',
    });
  });

  test('leaves out a task SID or channel name that is not one', () => {
    const { sids, task } = conversationTask();
    expect(transferArgsFromTask({ ...task, taskSid: 'WRnot-a-task', taskChannelUniqueName: 'has spaces' })).toEqual({
      interactionSid: sids.interactionSid,
      channelSid: sids.channelSid,
    });
  });

  test('refuses a task that is not a Flex Conversations task', () => {
    expect(() => transferArgsFromTask({ taskSid: fakeSid('WT'), attributes: { call_sid: fakeSid('CA') } })).toThrow(/flexInteractionSid/);
    expect(() => transferArgsFromTask({ attributes: { flexInteractionSid: fakeSid('KD') } })).toThrow(/flexInteractionChannelSid/);
  });
});

// ---------------------------------------------------------------------------
// The retry loop, against a scripted server
// ---------------------------------------------------------------------------

type ScriptedAnswer =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  /** Close the connection without answering: a network error for the client. */
  | 'drop'
  /** Never answer. */
  | 'hang';

interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  form: Record<string, string>;
  at: number;
}

/** A loopback HTTP server that answers from a script, one entry per request, and records what it received. */
class ScriptedServer {
  readonly received: ReceivedRequest[] = [];
  private script: ScriptedAnswer[] = [];
  private readonly server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
      this.received.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, form, at: Date.now() });
      const answer = this.script.shift() ?? { status: 500, body: { error: { code: 'internal_error', message: 'script exhausted' } } };
      if (answer === 'drop') return void request.socket.destroy();
      if (answer === 'hang') return;
      response.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers });
      response.end(JSON.stringify(answer.body ?? {}));
    });
  });
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  answer(...answers: ScriptedAnswer[]): void {
    this.script = answers;
    this.received.length = 0;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

function transferBody(fields: { interactionSid: string; channelSid: string; queueSid: string }) {
  return {
    inviteSid: fakeSid('KG'),
    interactionSid: fields.interactionSid,
    channelSid: fields.channelSid,
    taskSid: fakeSid('WT'),
    target: { type: 'queue', sid: fields.queueSid },
    transferType: 'warm',
    participantClosed: false,
    participantCloses: null,
    warnings: [],
  };
}

const errorBody = (code: string, extra: object = {}) => ({ error: { code, message: `${code} for the test`, ...extra } });

/** Headers a browser sets itself or lets any page send without a preflight; anything else would make the request "non-simple". */
const HEADERS_WITHOUT_PREFLIGHT = new Set([
  'host',
  'connection',
  'content-length',
  'content-type',
  'accept',
  'accept-language',
  'accept-encoding',
  'user-agent',
  'sec-fetch-mode',
]);

describe('TransferClient retries, against a scripted server', () => {
  let server: ScriptedServer;
  beforeAll(async () => {
    server = await new ScriptedServer().start();
  });
  afterAll(() => server.stop());

  const request = () => ({ interactionSid: fakeSid('KD'), channelSid: fakeSid('UO'), queueSid: fakeSid('WQ') });
  const clientWith = (options: Partial<TransferClientOptions> = {}) =>
    new TransferClient({ baseUrl: server.url, token: 'eyJ.agent.token', ...options });
  const keysReceived = () => server.received.map((received) => received.form.idempotencyKey);

  test('a transfer is a simple request: form body, token and key as fields, no custom header', async () => {
    const fields = request();
    server.answer({ status: 201, body: transferBody(fields) });

    await clientWith().transferToQueue({ ...fields, priority: 10, attributes: { reason: 'billing' }, workflowSid: undefined });

    const [received] = server.received;
    expect(received?.method).toBe('POST');
    expect(received?.path).toBe('/transfer-to-queue');
    expect(received?.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded\b/);
    expect(Object.keys(received?.headers ?? {}).filter((name) => !HEADERS_WITHOUT_PREFLIGHT.has(name))).toEqual([]);
    expect(received?.form).toEqual({
      ...fields,
      priority: '10',
      attributes: '{"reason":"billing"}',
      Token: 'eyJ.agent.token',
      idempotencyKey: expect.stringMatching(UUID),
    });
  });

  test('bearer is opt-in: the token moves to an Authorization header', async () => {
    const fields = request();
    server.answer({ status: 201, body: transferBody(fields) });
    await clientWith({ sendTokenAs: 'bearer' }).transferToQueue(fields);
    expect(server.received[0]?.headers.authorization).toBe('Bearer eyJ.agent.token');
    expect(server.received[0]?.form).not.toHaveProperty('Token');
  });

  test('each action gets a fresh key', async () => {
    const fields = request();
    server.answer({ status: 201, body: transferBody(fields) }, { status: 201, body: transferBody(fields) });
    const client = clientWith();
    await client.transferToQueue(fields);
    await client.transferToQueue(fields);
    const [first, second] = keysReceived();
    expect(first).toMatch(UUID);
    expect(second).toMatch(UUID);
    expect(first).not.toBe(second);
  });

  test('a network error is retried with the same key', async () => {
    const fields = request();
    const body = transferBody(fields);
    server.answer('drop', { status: 201, body });

    const result = await clientWith().transferToQueue(fields);

    expect(result).toEqual({ ...body, replayed: false });
    expect(keysReceived()).toHaveLength(2);
    expect(new Set(keysReceived()).size).toBe(1);
  });

  test('409 with Retry-After (same key still in progress) waits that long, then retries with the same key', async () => {
    const fields = request();
    const body = transferBody(fields);
    server.answer(
      { status: 409, headers: { 'Retry-After': '1' }, body: errorBody('conflict') },
      { status: 201, headers: { 'Idempotent-Replayed': 'true' }, body },
    );

    const result = await clientWith().transferToQueue(fields);

    expect(result).toEqual({ ...body, replayed: true });
    const [first, second] = server.received;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(second?.form.idempotencyKey).toBe(first?.form.idempotencyKey);
  });

  test('503 and 504 are retried with the same key', async () => {
    const fields = request();
    server.answer(
      { status: 503, body: errorBody('upstream_unavailable') },
      { status: 504, body: errorBody('upstream_timeout') },
      { status: 201, body: transferBody(fields) },
    );
    await clientWith().transferToAgent({ ...fields, workerSid: fakeSid('WK') });
    expect(server.received.map((received) => received.path)).toEqual(Array(3).fill('/transfer-to-agent'));
    expect(new Set(keysReceived()).size).toBe(1);
  });

  test('the token is read again for every attempt', async () => {
    const fields = request();
    const tokens = ['eyJ.first', 'eyJ.refreshed'];
    server.answer({ status: 503, body: errorBody('upstream_unavailable') }, { status: 201, body: transferBody(fields) });
    await clientWith({ token: () => tokens.shift() ?? 'eyJ.none' }).transferToQueue(fields);
    expect(server.received.map((received) => received.form.Token)).toEqual(['eyJ.first', 'eyJ.refreshed']);
  });

  test('400 is not retried; details and X-Request-Id reach the error', async () => {
    server.answer({
      status: 400,
      headers: { 'X-Request-Id': 'req-400' },
      body: errorBody('invalid_request', { details: [{ field: 'queueSid', message: 'must be a WQ SID' }] }),
    });
    const error = await rejection(clientWith().transferToQueue(request()));
    expect(error).toMatchObject({
      name: 'TransferError',
      code: 'invalid_request',
      status: 400,
      details: [{ field: 'queueSid', message: 'must be a WQ SID' }],
      requestId: 'req-400',
      idempotencyKey: expect.stringMatching(UUID),
    });
    expect(server.received).toHaveLength(1);
  });

  test.each([
    [401, 'unauthenticated', {}],
    [403, 'forbidden', {}],
    [404, 'not_found', {}],
    [409, 'conflict', {}], // no Retry-After: a final conflict (Twilio's, or a transfer no longer pending)
    [422, 'idempotency_key_reused', {}],
    [429, 'rate_limited', { 'Retry-After': '1' }],
    [500, 'misconfigured', {}],
    [502, 'upstream_error', {}],
  ])('%i %s is not retried', async (status, code, headers) => {
    server.answer({ status, headers, body: errorBody(code) });
    const error = await rejection(clientWith().transferToQueue(request()));
    expect(error).toMatchObject({ code, status });
    if (status === 429) expect(error.retryAfterSeconds).toBe(1);
    expect(server.received).toHaveLength(1);
  });

  test('an answer outside the contract is unexpected_response', async () => {
    server.answer({ status: 200, body: { hello: 'world' } });
    const error = await rejection(clientWith().transferToQueue(request()));
    expect(error).toMatchObject({ code: 'unexpected_response', status: 200 });
  });

  test('when the budget runs out, the last failure is thrown with the key to try again', async () => {
    const fields = request();
    server.answer(...Array<ScriptedAnswer>(20).fill({ status: 503, body: errorBody('upstream_unavailable') }));
    const startedAt = Date.now();

    const error = await rejection(clientWith({ budgetMs: 1200 }).transferToQueue(fields));

    expect(Date.now() - startedAt).toBeLessThan(1200);
    expect(error).toMatchObject({ code: 'upstream_unavailable', status: 503 });
    expect(server.received.length).toBeGreaterThanOrEqual(3);
    expect(new Set(keysReceived())).toEqual(new Set([error.idempotencyKey]));

    // Trying again with that key repeats the action rather than starting a second one.
    server.answer({ status: 201, headers: { 'Idempotent-Replayed': 'true' }, body: transferBody(fields) });
    const retried = await clientWith().transferToQueue(fields, { idempotencyKey: error.idempotencyKey });
    expect(retried.replayed).toBe(true);
    expect(keysReceived()).toEqual([error.idempotencyKey]);
  });

  test('a server that never answers ends in timeout within the budget, each attempt with the same key', async () => {
    server.answer('hang', 'hang', 'hang', 'hang');
    const startedAt = Date.now();
    const error = await rejection(clientWith({ attemptTimeoutMs: 300, budgetMs: 1000 }).transferToQueue(request()));
    expect(error).toMatchObject({ code: 'timeout', status: 0 });
    expect(Date.now() - startedAt).toBeLessThan(1500);
    expect(server.received.length).toBeGreaterThanOrEqual(2);
    expect(new Set(keysReceived()).size).toBe(1);
  });

  test("the caller's abort rejects with its reason, not a TransferError", async () => {
    server.answer('hang');
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('panel closed')), 100);
    await expect(clientWith().transferToQueue(request(), { signal: controller.signal })).rejects.toThrow('panel closed');
  });

  test('listTransfers sends the channel and the token, no key, and returns the transfers', async () => {
    const channel = { interactionSid: fakeSid('KD'), channelSid: fakeSid('UO') };
    const pending = {
      inviteSid: fakeSid('KG'),
      taskSid: fakeSid('WT'),
      target: { type: 'worker', sid: fakeSid('WK') },
      transferType: 'warm',
      transferredByWorkerSid: fakeSid('WK'),
      createdAt: '2025-01-02T03:04:05Z',
      taskStatus: 'pending',
      participantCloses: null,
      cancelable: true,
    };
    server.answer({ status: 503, body: errorBody('upstream_unavailable') }, { status: 200, body: { transfers: [pending] } });

    await expect(clientWith().listTransfers(channel)).resolves.toEqual({ transfers: [pending] });
    expect(server.received.map((received) => [received.path, received.form])).toEqual([
      ['/list-transfers', { ...channel, Token: 'eyJ.agent.token' }],
      ['/list-transfers', { ...channel, Token: 'eyJ.agent.token' }],
    ]);
  });

  test('answers from before contract v3: no participantCloses reads null, a list item without cancelable is never cancelable', async () => {
    const fields = request();
    const v2Body: Record<string, unknown> = transferBody(fields);
    delete v2Body.participantCloses;
    server.answer({ status: 201, body: v2Body });
    await expect(clientWith().transferToQueue(fields)).resolves.toMatchObject({ participantCloses: null });

    const v2Item = {
      inviteSid: fakeSid('KG'),
      taskSid: fakeSid('WT'),
      target: { type: 'queue', sid: fields.queueSid },
      transferType: 'warm',
    };
    server.answer({ status: 200, body: { transfers: [v2Item, { taskSid: 'no inviteSid: not a transfer' }] } });
    await expect(clientWith().listTransfers(fields)).resolves.toEqual({
      transfers: [
        { ...v2Item, transferredByWorkerSid: null, createdAt: null, taskStatus: null, participantCloses: null, cancelable: null },
      ],
    });
  });

  test('cancelTransfer sends the task, reason and a key; a transfer no longer pending is a conflict', async () => {
    const cancel = { interactionSid: fakeSid('KD'), channelSid: fakeSid('UO'), taskSid: fakeSid('WT'), reason: 'wrong queue' };
    server.answer('drop', { status: 200, body: { taskSid: cancel.taskSid, canceled: true } });
    await expect(clientWith().cancelTransfer(cancel)).resolves.toEqual({ taskSid: cancel.taskSid, canceled: true });
    expect(server.received.map((received) => received.path)).toEqual(['/cancel-transfer', '/cancel-transfer']);
    expect(server.received[1]?.form).toEqual({
      ...cancel,
      Token: 'eyJ.agent.token',
      idempotencyKey: server.received[0]?.form.idempotencyKey,
    });

    server.answer({ status: 409, body: errorBody('conflict') });
    await expect(rejection(clientWith().cancelTransfer(cancel))).resolves.toMatchObject({ code: 'conflict', status: 409 });
    expect(server.received).toHaveLength(1);
  });
});

test('an unreachable service becomes network_error once the budget is spent', async () => {
  const port = await freePort();
  const client = new TransferClient({ baseUrl: `http://127.0.0.1:${port}`, token: 'eyJ.any.token', budgetMs: 600 });
  const error = await rejection(
    client.transferToQueue({ interactionSid: fakeSid('KD'), channelSid: fakeSid('UO'), queueSid: fakeSid('WQ') }),
  );
  expect(error).toMatchObject({ status: 0, code: 'network_error' });
  expect((error as Error & { cause?: unknown }).cause).toBeDefined(); // fetch's own error (another realm under jest)
});

// ---------------------------------------------------------------------------
// Against the real functions
// ---------------------------------------------------------------------------

describe('TransferClient against the functions', () => {
  const workflowSid = fakeSid('WW');
  const harness = useFunctions({ forkPerRequest: false, settings: { TRANSFER_WORKFLOW_SID: workflowSid } });
  const clientFor = (token: string, options: Partial<TransferClientOptions> = {}) =>
    new TransferClient({ baseUrl: harness.server.url + '/', token: () => token, ...options });

  /**
   * A signed-in agent working a conversation: their worker is an agent participant of the
   * channel (a plain agent may transfer only such a conversation), and the task Flex shows
   * them exists in TaskRouter with the channel in its attributes (the functions fetch it by taskSid).
   */
  function agentConversation(roles?: string[]) {
    const { token, workerSid } = grantAgentToken(harness.standin, roles);
    const sids = transferSids(harness.standin);
    const participantSid = fakeSid('UT');
    harness.standin.setParticipants(sids.interactionSid, sids.channelSid, [
      { sid: fakeSid('UT'), type: 'customer', routing_properties: null },
      {
        sid: participantSid,
        type: 'agent',
        routing_properties: { worker_sid: workerSid, task_sid: assignedTaskOf(harness.standin, sids) },
      },
    ]);
    const attributes = { flexInteractionSid: sids.interactionSid, flexInteractionChannelSid: sids.channelSid, channelType: 'web' };
    const taskSid = harness.standin.addTask({
      workspaceSid: TEST_WORKSPACE_SID,
      taskChannelUniqueName: 'chat',
      assignmentStatus: 'assigned',
      attributes,
    });
    const task = { sid: fakeSid('WR'), taskSid, taskChannelUniqueName: 'chat', attributes };
    return { token, workerSid, sids, participantSid, task };
  }

  test('transferToAgent: warm, the token as a form field, routed through the workflow to the named agent', async () => {
    const { token, workerSid: me, sids, task } = agentConversation();

    const result = await clientFor(token).transferToAgent({ ...transferArgsFromTask(task), workerSid: sids.workerSid });

    expect(result).toEqual({
      inviteSid: expect.stringMatching(/^KG/),
      interactionSid: sids.interactionSid,
      channelSid: sids.channelSid,
      taskSid: expect.stringMatching(/^WT/),
      target: { type: 'worker', sid: sids.workerSid },
      transferType: 'warm',
      participantClosed: false,
      participantCloses: null,
      warnings: [],
      replayed: false,
    });
    expect(harness.standin.requestsTo('token-validate')[0]?.json).toMatchObject({ token });
    const [invite] = harness.standin.requestsTo('invite-create');
    expect(invite?.routing?.properties).toMatchObject({
      workflow_sid: workflowSid,
      task_channel_unique_name: 'chat',
      attributes: {
        channelType: 'web',
        transferTargetType: 'worker',
        transferTargetSid: sids.workerSid,
        transferredByWorkerSid: me,
        transferredFromTaskSid: task.taskSid,
      },
    });
    expect(invite?.routing?.properties).not.toHaveProperty('worker_sid');
    expect(harness.standin.requestsTo('participant-update')).toHaveLength(0);
  });

  test('transferToQueue: optional fields are sent, undefined ones are not', async () => {
    const { token, sids, task } = agentConversation();

    const result = await clientFor(token).transferToQueue({
      ...transferArgsFromTask(task),
      queueSid: sids.queueSid,
      priority: 10,
      timeout: 300,
      attributes: { reason: 'billing question' },
      workflowSid: undefined,
    });

    expect(result.target).toEqual({ type: 'queue', sid: sids.queueSid });
    const [invite] = harness.standin.requestsTo('invite-create');
    expect(invite?.routing?.properties).toMatchObject({
      queue_sid: sids.queueSid,
      workflow_sid: workflowSid, // the service's TRANSFER_WORKFLOW_SID: the request named none
      priority: 10,
      timeout: 300,
      attributes: { reason: 'billing question', transferTargetType: 'queue', transferTargetSid: sids.queueSid },
    });
  });

  test('bearer, when opted into, is accepted too', async () => {
    const { token, sids, task } = agentConversation();
    const result = await clientFor(token, { sendTokenAs: 'bearer' }).transferToQueue({
      ...transferArgsFromTask(task),
      queueSid: sids.queueSid,
    });
    expect(result.inviteSid).toMatch(/^KG/);
    expect(harness.standin.requestsTo('token-validate')[0]?.json).toMatchObject({ token });
  });

  test('cold transfer: the function finds the agent participant from the token; without the event callback it closes at once, saying so', async () => {
    const { token, sids, task, participantSid } = agentConversation();

    const result = await clientFor(token).transferToQueue({ ...transferArgsFromTask(task), queueSid: sids.queueSid, transferType: 'cold' });

    // The test workspace's EventCallbackUrl is not this service's /transfer-events: no "on-accept", a warning instead.
    expect(result).toMatchObject({ transferType: 'cold', participantClosed: true, participantCloses: null });
    expect(result.warnings.join(' ')).toContain('TRANSFER_COLD_CLOSE');
    const [update] = harness.standin.requestsTo('participant-update');
    expect(update?.path).toMatch(new RegExp(`/Participants/${participantSid}$`));
    expect(update?.form.Status).toBe('closed');
  });

  test('listTransfers shows a transfer, cancelable; cancelTransfer cancels its task once, after which it is a conflict', async () => {
    const { token, workerSid: me, sids, task } = agentConversation();
    const client = clientFor(token);
    const channel = { interactionSid: sids.interactionSid, channelSid: sids.channelSid };
    const transfer = await client.transferToQueue({ ...transferArgsFromTask(task), queueSid: sids.queueSid });

    const { transfers } = await client.listTransfers(channel);

    expect(transfers).toHaveLength(1);
    const [pending] = transfers;
    expect(pending).toMatchObject({
      inviteSid: transfer.inviteSid,
      taskSid: expect.stringMatching(/^WT/),
      target: { type: 'queue', sid: sids.queueSid },
      transferType: 'warm',
      transferredByWorkerSid: me,
      taskStatus: 'pending',
      participantCloses: null,
      cancelable: true,
    });
    expect(Number.isNaN(Date.parse(pending?.createdAt ?? ''))).toBe(false);

    const pendingTaskSid = pending?.taskSid ?? '';
    await expect(client.cancelTransfer({ ...channel, taskSid: pendingTaskSid })).resolves.toEqual({
      taskSid: pendingTaskSid,
      canceled: true,
    });
    expect(harness.standin.task(pendingTaskSid)?.assignment_status).toBe('canceled');
    const again = await rejection(client.cancelTransfer({ ...channel, taskSid: pendingTaskSid }));
    expect(again).toMatchObject({ status: 409, code: 'conflict' });
  });

  test('400: every bad field in details, nothing sent to Twilio', async () => {
    const { token, task } = agentConversation();

    const error = await rejection(
      clientFor(token).transferToAgent({ ...transferArgsFromTask(task), workerSid: 'WKnot-a-sid', priority: -1 }),
    );

    expect(error).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(error.details?.map((problem) => problem.field).sort()).toEqual(['priority', 'workerSid']);
    expect(harness.standin.requestsTo('invite-create')).toHaveLength(0);
  });

  test('401 for a token the validator rejects', async () => {
    const { sids, task } = agentConversation();
    const error = await rejection(
      clientFor('eyJ.never.granted').transferToQueue({ ...transferArgsFromTask(task), queueSid: sids.queueSid }),
    );
    expect(error).toMatchObject({ status: 401, code: 'unauthenticated', details: undefined });
  });

  test('403 for a role that may not transfer', async () => {
    const { token, sids, task } = agentConversation(['guest']);
    const error = await rejection(clientFor(token).transferToQueue({ ...transferArgsFromTask(task), queueSid: sids.queueSid }));
    expect(error).toMatchObject({ status: 403, code: 'forbidden' });
  });

  test('409 already_participant: the named agent is already in the conversation, nothing created', async () => {
    const { token, workerSid: me, sids, task } = agentConversation();
    const colleagueTask = harness.standin.addTask({ workspaceSid: TEST_WORKSPACE_SID, assignmentStatus: 'assigned', attributes: {} });
    harness.standin.setParticipants(sids.interactionSid, sids.channelSid, [
      { sid: fakeSid('UT'), type: 'customer', routing_properties: null },
      { sid: fakeSid('UT'), type: 'agent', routing_properties: { worker_sid: me, task_sid: assignedTaskOf(harness.standin, sids) } },
      { sid: fakeSid('UT'), type: 'agent', routing_properties: { worker_sid: sids.workerSid, task_sid: colleagueTask } },
    ]);
    const error = await rejection(clientFor(token).transferToAgent({ ...transferArgsFromTask(task), workerSid: sids.workerSid }));
    expect(error).toMatchObject({ status: 409, code: 'already_participant' });
    expect(harness.standin.requestsTo('invite-create')).toHaveLength(0);
  });

  test('404 with Twilio code and link', async () => {
    const { token, sids, task } = agentConversation();
    harness.standin.forgetInteraction(sids.interactionSid);
    const error = await rejection(clientFor(token).transferToAgent({ ...transferArgsFromTask(task), workerSid: sids.workerSid }));
    expect(error).toMatchObject({
      status: 404,
      code: 'not_found',
      twilioCode: 20404,
      moreInfo: 'https://www.twilio.com/docs/errors/20404',
    });
  });

  test('429 is passed on with retryAfterSeconds and not retried by the client', async () => {
    const { token, sids, task } = agentConversation();
    // A Retry-After longer than the request's deadline: the function cannot retry and passes the 429 on.
    harness.standin.script('invite-create', { status: 429, headers: { 'Retry-After': '30' } });
    const error = await rejection(clientFor(token).transferToQueue({ ...transferArgsFromTask(task), queueSid: sids.queueSid }));
    expect(error).toMatchObject({ status: 429, code: 'rate_limited', retryAfterSeconds: 30, twilioCode: 20429 });
    expect(harness.standin.requestsTo('invite-create')).toHaveLength(1);
  });

  test('502 is not retried: one invite request reaches Twilio', async () => {
    const { token, sids, task } = agentConversation();
    harness.standin.script('invite-create', { status: 500 });
    const error = await rejection(clientFor(token).transferToQueue({ ...transferArgsFromTask(task), queueSid: sids.queueSid }));
    expect(error).toMatchObject({ status: 502, code: 'upstream_error' });
    expect(harness.standin.requestsTo('invite-create')).toHaveLength(1);
  });
});
