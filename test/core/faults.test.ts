/**
 * Twilio's bad days, injected at the stand-in and observed in-process: the
 * answer, how long it took, and exactly which requests Twilio saw. Scenarios
 * that wait on the deadline run on Jest's fake clock, so "within 9 s" is
 * measured on that clock (deterministic, and without the wait).
 * Cold transfers here close at once (TRANSFER_COLD_CLOSE=immediate, v2's
 * behaviour), so the close is a Twilio call of the request itself and its
 * faults can be injected here; closing on acceptance, the default, is
 * test/core/lifecycle.test.ts's.
 */
import { getExpectedTwilioSignature } from 'twilio';
import { newSid, type Participant, type RecordedRequest } from '../../dev/twilio-standin';
import { TEST_AUTH_TOKEN, TEST_WORKSPACE_SID } from '../support/functions-server';
import { transferSids } from '../support/harness';
import { type CallResult, grantAgentToken, IN_PROCESS_DOMAIN, inProcessFunctions } from '../support/in-process';

/** Contract: every answer within 9 s of the request. */
const ANSWER_WITHIN_MS = 9000;

const functions = inProcessFunctions({ settings: { TRANSFER_COLD_CLOSE: 'immediate' } });

type Sids = ReturnType<typeof transferSids>;

/**
 * Runs `work` on Jest's fake clock, moving it on in small steps until the work
 * settles (or well past the contract's 9 s). Timeouts, backoff, the stand-in's
 * latency and its recorded `at` times all follow that clock.
 */
async function onFakeClock(work: () => Promise<CallResult>): Promise<CallResult & { elapsedMs: number }> {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
  try {
    const startedAt = Date.now();
    let settledAt: number | undefined;
    const pending = work().finally(() => {
      settledAt = Date.now();
    });
    while (settledAt === undefined && Date.now() - startedAt < 2 * ANSWER_WITHIN_MS) await jest.advanceTimersByTimeAsync(25);
    if (settledAt === undefined) throw new Error(`no answer within ${2 * ANSWER_WITHIN_MS} ms of fake time`);
    return { ...(await pending), elapsedMs: settledAt - startedAt };
  } finally {
    jest.useRealTimers();
  }
}

function supervisorToken(): string {
  return grantAgentToken(functions.standin, ['supervisor']).token;
}

function transfer(
  extra: Record<string, unknown> = {},
  token = supervisorToken(),
  sids: Sids = transferSids(functions.standin),
): Promise<CallResult> {
  return functions.call('transfer-to-queue', { json: { Token: token, ...sids, ...extra } });
}

/** A token shaped like a Flex token that the stand-in never granted. */
function ungrantedToken(): string {
  const segment = () => Buffer.from(newSid('')).toString('base64url');
  return ['eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0', segment(), segment(), segment(), segment()].join('.');
}

describe('faults at the invite', () => {
  test('429 once: retried, transferred, two invite attempts', async () => {
    functions.standin.script('invite-create', { status: 429 });
    const answer = await transfer();
    expect(answer.status).toBe(201);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(2);
  });

  test('429 always: 429 rate_limited with Retry-After, within the deadline, at most 4 attempts spaced by Retry-After', async () => {
    const token = supervisorToken();
    functions.standin.script('invite-create', ...Array.from({ length: 10 }, () => ({ status: 429, headers: { 'Retry-After': '1' } })));
    const answer = await onFakeClock(() => transfer({}, token));
    expect(answer.status).toBe(429);
    expect(answer.body.error.code).toBe('rate_limited');
    expect(Number(answer.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    expect(answer.elapsedMs).toBeLessThan(ANSWER_WITHIN_MS);
    const attempts = functions.standin.requestsTo('invite-create');
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.length).toBeLessThanOrEqual(4);
    for (let index = 1; index < attempts.length; index += 1) {
      expect((attempts[index]?.at ?? 0) - (attempts[index - 1]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    }
  });

  test('each call has its own retries: a 429 on the invite after a long participant lookup is still retried', async () => {
    const { token, workerSid } = grantAgentToken(functions.standin, ['agent']);
    const sids = transferSids(functions.standin);
    functions.standin.participantPageSize = 1;
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [
      ...Array.from({ length: 4 }, (): Participant => ({ sid: newSid('UT'), type: 'customer', routing_properties: null })),
      { sid: newSid('UT'), routing_properties: { worker_sid: workerSid } },
    ]);
    functions.standin.script('invite-create', { status: 429 });
    functions.standin.script('participant-update', { status: 429 });
    const answer = await functions.call('transfer-to-queue', { json: { Token: token, ...sids, transferType: 'cold' } });
    expect(answer.status).toBe(201);
    expect(answer.body.participantClosed).toBe(true);
    expect(functions.standin.requestsTo('participant-list')).toHaveLength(5);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(2);
    expect(functions.standin.requestsTo('participant-update')).toHaveLength(2);
  });

  test('503 once: retried, transferred, two invite attempts', async () => {
    functions.standin.script('invite-create', { status: 503 });
    const answer = await transfer();
    expect(answer.status).toBe(201);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(2);
  });

  test.each([500, 502, 504])('%i: never retried (Twilio may have acted), 502 saying so', async (twilioStatus) => {
    functions.standin.script('invite-create', { status: twilioStatus });
    const answer = await transfer();
    expect(answer.status).toBe(502);
    expect(answer.body.error.code).toBe('upstream_error');
    expect(answer.body.error.message).toMatch(/may have been created/);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(1);
  });

  test('connection reset after the request was sent: one attempt, 502 saying it may have happened', async () => {
    functions.standin.script('invite-create', { reset: true });
    const answer = await transfer();
    expect(answer.status).toBe(502);
    expect(answer.body.error.code).toBe('upstream_error');
    expect(answer.body.error.message).toMatch(/may have been created/);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(1);
  });

  test('Twilio hangs: 504 upstream_timeout within 9 s, one attempt', async () => {
    const token = supervisorToken();
    functions.standin.script('invite-create', { hang: true });
    const answer = await onFakeClock(() => transfer({}, token));
    expect(answer.status).toBe(504);
    expect(answer.body.error.code).toBe('upstream_timeout');
    expect(answer.body.error.message).toMatch(/may have been created/);
    expect(answer.elapsedMs).toBeLessThan(ANSWER_WITHIN_MS);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(1);
  });

  test('the close hangs after a good invite: 201 with a warning, within 9 s', async () => {
    const token = supervisorToken();
    const sids = transferSids(functions.standin);
    const participantSid = newSid('UT');
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [{ sid: participantSid }]);
    functions.standin.script('participant-update', { hang: true });
    const answer = await onFakeClock(() =>
      functions.call('transfer-to-queue', { json: { Token: token, ...sids, transferType: 'cold', participantSid } }),
    );
    expect(answer.status).toBe(201);
    expect(answer.body.participantClosed).toBe(false);
    expect(answer.body.warnings).toHaveLength(1);
    expect(answer.body.warnings[0]).toContain(participantSid);
    expect(answer.elapsedMs).toBeLessThan(ANSWER_WITHIN_MS);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(1);
    expect(functions.standin.requestsTo('participant-update')).toHaveLength(1);
  });

  test('one structured log line per request, counting every attempt Twilio saw, and no token', async () => {
    const token = supervisorToken();
    functions.standin.script('invite-create', { status: 429 });
    const answer = await functions.call('transfer-to-agent', { json: { Token: token, ...transferSids(functions.standin) } });
    expect(answer.status).toBe(201);
    expect(functions.logs).toHaveLength(1);
    expect(functions.logs[0]).toMatchObject({
      requestId: answer.headers['X-Request-Id'],
      function: 'transfer-to-agent',
      status: 201,
      outcome: 'transferred',
      callerKind: 'flex-token',
      upstreamAttempts: functions.standin.requests.length,
    });
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(2);
    expect(functions.logs[0]?.durationMs).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(functions.logs)).not.toContain(token);
  });
});

describe('faults at the task fetch (taskSid given): nothing is created', () => {
  /** A task of the channel, as Flex writes it (v3: a taskSid must be a task of the request's channel). */
  function originalTask(sids: Sids): string {
    return functions.standin.addTask({
      workspaceSid: TEST_WORKSPACE_SID,
      attributes: { name: 'Ann', flexInteractionSid: sids.interactionSid, flexInteractionChannelSid: sids.channelSid },
    });
  }

  test.each([500, 502])('%i: 502, no invite, nothing closed', async (twilioStatus) => {
    const sids = transferSids(functions.standin);
    const participantSid = newSid('UT');
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [{ sid: participantSid }]);
    functions.standin.script('task-fetch', { status: twilioStatus });
    const answer = await functions.call('transfer-to-queue', {
      json: { Token: supervisorToken(), ...sids, taskSid: originalTask(sids), transferType: 'cold', participantSid },
    });
    expect(answer.status).toBe(502);
    expect(answer.body.error.code).toBe('upstream_error');
    expect(answer.body.error.message).toMatch(/Nothing was created/);
    expect(functions.standin.requestsTo('task-fetch')).toHaveLength(1);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
    expect(functions.standin.requestsTo('participant-update')).toHaveLength(0);
  });

  test('the fetch hangs: 504 within 9 s, no invite', async () => {
    const token = supervisorToken();
    const sids = transferSids(functions.standin);
    const taskSid = originalTask(sids);
    functions.standin.script('task-fetch', { hang: true });
    const answer = await onFakeClock(() => transfer({ taskSid }, token, sids));
    expect(answer.status).toBe(504);
    expect(answer.body.error.code).toBe('upstream_timeout');
    expect(answer.body.error.message).toMatch(/Nothing was created/);
    expect(answer.elapsedMs).toBeLessThan(ANSWER_WITHIN_MS);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
  });

  test.each([{ status: 503 }, { reset: true as const }])(
    'a read is safe to repeat: %o once, then the transfer goes through',
    async (fault) => {
      const sids = transferSids(functions.standin);
      const taskSid = originalTask(sids);
      functions.standin.script('task-fetch', fault);
      const answer = await transfer({ taskSid }, supervisorToken(), sids);
      expect(answer.status).toBe(201);
      expect(functions.standin.requestsTo('task-fetch')).toHaveLength(2);
      expect(functions.standin.requestsTo('invite-create')[0]?.routing?.properties.attributes).toMatchObject({ name: 'Ann' });
    },
  );
});

describe('the reads before the invite run concurrently', () => {
  /** Groups requests into sequential round trips: a request starts a new one when it arrived after the previous one was answered. */
  function roundTrips(requests: RecordedRequest[], latencyMs: number): string[][] {
    const trips: { startedAt: number; routes: string[] }[] = [];
    for (const request of [...requests].sort((a, b) => a.at - b.at)) {
      const current = trips.at(-1);
      if (current !== undefined && request.at < current.startedAt + latencyMs) current.routes.push(request.route);
      else trips.push({ startedAt: request.at, routes: [request.route] });
    }
    return trips.map((trip) => trip.routes.sort());
  }

  test('the task fetch and the participant list cost one round trip together: cold transfer = 4 round trips with the token check', async () => {
    const { token, workerSid } = grantAgentToken(functions.standin, ['agent']);
    const sids = transferSids(functions.standin);
    const taskSid = functions.standin.addTask({ workspaceSid: TEST_WORKSPACE_SID });
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [
      { sid: newSid('UT'), type: 'customer', routing_properties: null },
      { sid: newSid('UT'), routing_properties: { worker_sid: workerSid, task_sid: taskSid } },
    ]);
    const latencyMs = 100;
    functions.standin.latencyMs = latencyMs;
    const answer = await onFakeClock(() =>
      functions.call('transfer-to-queue', { json: { Token: token, ...sids, taskSid, transferType: 'cold' } }),
    );
    expect(answer.status).toBe(201);
    expect(answer.body.participantClosed).toBe(true);

    const fetchedAt = functions.standin.requestsTo('task-fetch')[0]?.at ?? NaN;
    const listedAt = functions.standin.requestsTo('participant-list')[0]?.at ?? NaN;
    // Each arrived before the other had been answered.
    expect(listedAt).toBeLessThan(fetchedAt + latencyMs);
    expect(fetchedAt).toBeLessThan(listedAt + latencyMs);
    expect(roundTrips(functions.standin.requests, latencyMs)).toEqual([
      ['token-validate'],
      ['participant-list', 'task-fetch'],
      ['invite-create'],
      ['participant-update'],
    ]);
  });

  test('a warm transfer by the conversation’s agent costs two round trips after the token check: the reads, then the invite', async () => {
    const { token, workerSid } = grantAgentToken(functions.standin, ['agent']);
    const sids = transferSids(functions.standin);
    const taskSid = functions.standin.addTask({
      workspaceSid: TEST_WORKSPACE_SID,
      attributes: { flexInteractionSid: sids.interactionSid, flexInteractionChannelSid: sids.channelSid },
    });
    functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [
      { sid: newSid('UT'), routing_properties: { worker_sid: workerSid } },
    ]);
    functions.standin.latencyMs = 100;
    const answer = await onFakeClock(() => functions.call('transfer-to-queue', { json: { Token: token, ...sids, taskSid } }));
    expect(answer.status).toBe(201);
    expect(roundTrips(functions.standin.requests, 100)).toEqual([
      ['token-validate'],
      ['participant-list', 'task-fetch'],
      ['invite-create'],
    ]);
  });

  describe('with the defaults (TRANSFER_AGENT_ROUTING=workflow, TRANSFER_COLD_CLOSE=on-accept)', () => {
    const defaults = inProcessFunctions();

    test('v3: a cold agent transfer reads the workflow and the workspace callback in the same round trip: 3 with the token check', async () => {
      const { token, workerSid } = grantAgentToken(defaults.standin, ['agent']);
      const sids = transferSids(defaults.standin);
      const taskSid = defaults.standin.addTask({ workspaceSid: TEST_WORKSPACE_SID });
      defaults.standin.setParticipants(sids.interactionSid, sids.channelSid, [
        { sid: newSid('UT'), type: 'customer', routing_properties: null },
        { sid: newSid('UT'), routing_properties: { worker_sid: workerSid, task_sid: taskSid } },
      ]);
      defaults.standin.latencyMs = 100;
      const answer = await onFakeClock(() =>
        defaults.call('transfer-to-agent', { json: { Token: token, ...sids, taskSid, transferType: 'cold' } }),
      );
      expect(answer.status).toBe(201);
      expect(answer.body).toMatchObject({ participantClosed: false, participantCloses: 'on-accept' });
      expect(roundTrips(defaults.standin.requests, 100)).toEqual([
        ['token-validate'],
        ['participant-list', 'task-fetch', 'workflow-fetch', 'workspace-fetch'],
        ['invite-create'],
      ]);
    });
  });
});

describe('faults at the token validator', () => {
  test('slow token validator: 503 within the deadline, nothing invited', async () => {
    const token = supervisorToken();
    functions.standin.script('token-validate', { hang: true });
    const answer = await onFakeClock(() => transfer({}, token));
    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe('upstream_unavailable');
    expect(answer.elapsedMs).toBeLessThan(ANSWER_WITHIN_MS);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
  });

  test.each([{ reset: true as const }, { status: 502, body: '<html>Bad gateway</html>' }, { status: 429 }])(
    'token validator broken on every attempt (%o): 503, never 401',
    async (fault) => {
      const token = supervisorToken();
      functions.standin.script('token-validate', fault, fault, fault, fault);
      const answer = await onFakeClock(() => transfer({}, token));
      expect(answer.status).toBe(503);
      expect(answer.body.error.code).toBe('upstream_unavailable');
      expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
    },
  );

  test('a validation whose connection dropped is retried (it changes nothing)', async () => {
    functions.standin.script('token-validate', { reset: true });
    const answer = await transfer();
    expect(answer.status).toBe(201);
    expect(functions.standin.requestsTo('token-validate')).toHaveLength(2);
  });

  test("the validation service refusing the function's own credentials is a 502, never the caller's 401", async () => {
    functions.standin.invalidTokenAnswer = { status: 401, body: { code: 20003, message: 'Authenticate', status: 401 } };
    const answer = await transfer({}, ungrantedToken());
    expect(answer.status).toBe(502);
    expect(answer.body.error.code).toBe('upstream_error');
    expect(answer.body.error.message).toMatch(/ACCOUNT_SID and AUTH_TOKEN/);
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
  });
});

describe('Twilio unreachable (every connection refused)', () => {
  test('a signed Studio request retries refused connections, then answers 503: nothing was created', async () => {
    functions.standin.script('invite-create', ...Array.from({ length: 10 }, () => ({ refuse: true as const })));
    const sids = transferSids(functions.standin);
    const fields = { interactionSid: sids.interactionSid, channelSid: sids.channelSid, queueSid: sids.queueSid };
    const signature = getExpectedTwilioSignature(TEST_AUTH_TOKEN, `https://${IN_PROCESS_DOMAIN}/transfer-to-queue`, fields);
    const answer = await onFakeClock(() =>
      functions.call('transfer-to-queue', { form: fields, headers: { 'X-Twilio-Signature': signature } }),
    );
    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe('upstream_unavailable');
    expect(answer.body.error.message).toMatch(/Nothing was created/);
    expect(answer.elapsedMs).toBeLessThan(ANSWER_WITHIN_MS);
    const attempts = functions.standin.requestsTo('invite-create').length;
    expect(attempts).toBeGreaterThan(1);
    expect(attempts).toBeLessThanOrEqual(4);
    // Every attempt Twilio saw: v3 reads the channel's participants (once) before the invite attempts.
    expect(functions.standin.requestsTo('participant-list')).toHaveLength(1);
    expect(answer.log.upstreamAttempts).toBe(attempts + 1);
  });

  test('a Flex token cannot be validated: 503, never 401', async () => {
    functions.standin.script('token-validate', ...Array.from({ length: 10 }, () => ({ refuse: true as const })));
    const answer = await onFakeClock(() => transfer({}, ungrantedToken()));
    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe('upstream_unavailable');
    expect(functions.standin.requestsTo('invite-create')).toHaveLength(0);
  });
});
