/**
 * Twilio's bad days, injected at the stand-in and observed through twilio-run:
 * the answer, how long it took, and exactly how many invites were attempted.
 */
import { agentToken, postForm, postJson, transferSids, useFunctions } from '../support/harness';
import { TEST_AUTH_TOKEN } from '../support/functions-server';
import { newSid } from '../support/twilio-standin';
import { getExpectedTwilioSignature } from 'twilio';

/** Contract: every answer within 9 s of the request. */
const ANSWER_WITHIN_MS = 9000;

interface LogLine {
  function: string;
  status: number;
  outcome: string;
  upstreamAttempts: number;
  durationMs: number;
}

function readLogLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{"requestId"'))
    .map((line) => JSON.parse(line) as LogLine);
}

describe('faults at Twilio', () => {
  const harness = useFunctions();

  async function transfer(extra: Record<string, unknown> = {}) {
    const { token } = agentToken(harness.standin);
    return postJson(harness.url('/transfer-to-queue'), { Token: token, ...transferSids(), ...extra });
  }

  const logLines = (): LogLine[] => readLogLines(harness.server.output());

  test('429 once: retried, transferred, two invite attempts', async () => {
    harness.standin.script('invite', { status: 429 });
    const answer = await transfer();
    expect(answer.status).toBe(201);
    expect(harness.standin.requestsTo('invite')).toHaveLength(2);
  });

  test('429 always: 429 rate_limited with Retry-After, within the deadline, bounded attempts', async () => {
    harness.standin.script('invite', ...Array.from({ length: 10 }, () => ({ status: 429, headers: { 'Retry-After': '1' } })));
    const answer = await transfer();
    expect(answer.status).toBe(429);
    expect(answer.json.error.code).toBe('rate_limited');
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(answer.elapsedMs).toBeLessThan(ANSWER_WITHIN_MS);
    const attempts = harness.standin.requestsTo('invite');
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.length).toBeLessThanOrEqual(4);
    for (let index = 1; index < attempts.length; index += 1) {
      // Retry-After: 1 is honoured between attempts.
      expect((attempts[index]?.at ?? 0) - (attempts[index - 1]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    }
  });

  test('each call has its own retries: a 429 on the invite after a long participant lookup is still retried', async () => {
    const { token, workerSid } = agentToken(harness.standin);
    const sids = transferSids();
    harness.standin.participantPageSize = 1;
    harness.standin.setParticipants(sids.interactionSid, sids.channelSid, [
      ...Array.from({ length: 4 }, () => ({ sid: newSid('UT'), routing_properties: null })),
      { sid: newSid('UT'), routing_properties: { worker_sid: workerSid } },
    ]);
    harness.standin.script('invite', { status: 429 });
    harness.standin.script('participant-update', { status: 429 });
    const answer = await postJson(harness.url('/transfer-to-queue'), { Token: token, ...sids, transferType: 'cold' });
    expect(answer.status).toBe(201);
    expect(answer.json.participantClosed).toBe(true);
    expect(harness.standin.requestsTo('participant-list')).toHaveLength(5);
    expect(harness.standin.requestsTo('invite')).toHaveLength(2);
    expect(harness.standin.requestsTo('participant-update')).toHaveLength(2);
  });

  test('503 once: retried, transferred, two invite attempts', async () => {
    harness.standin.script('invite', { status: 503 });
    const answer = await transfer();
    expect(answer.status).toBe(201);
    expect(harness.standin.requestsTo('invite')).toHaveLength(2);
  });

  test.each([500, 502, 504])('%i: never retried (Twilio may have acted), 502 saying so', async (twilioStatus) => {
    harness.standin.script('invite', { status: twilioStatus });
    const answer = await transfer();
    expect(answer.status).toBe(502);
    expect(answer.json.error.code).toBe('upstream_error');
    expect(answer.json.error.message).toMatch(/may or may not have happened/);
    expect(harness.standin.requestsTo('invite')).toHaveLength(1);
  });

  test('connection reset after the request was sent: one attempt, 502 saying it may have happened', async () => {
    harness.standin.script('invite', { reset: true });
    const answer = await transfer();
    expect(answer.status).toBe(502);
    expect(answer.json.error.message).toMatch(/may or may not have happened/);
    expect(harness.standin.requestsTo('invite')).toHaveLength(1);
  });

  test('Twilio hangs: 504 upstream_timeout within 9 s, one attempt', async () => {
    harness.standin.script('invite', { hang: true });
    const answer = await transfer();
    expect(answer.status).toBe(504);
    expect(answer.json.error.code).toBe('upstream_timeout');
    expect(answer.json.error.message).toMatch(/may or may not have happened/);
    expect(answer.elapsedMs).toBeLessThan(ANSWER_WITHIN_MS);
    expect(harness.standin.requestsTo('invite')).toHaveLength(1);
  });

  test('the close hangs after a good invite: 201 with a warning, within 9 s', async () => {
    const { token } = agentToken(harness.standin);
    const sids = transferSids();
    const participantSid = newSid('UT');
    harness.standin.setParticipants(sids.interactionSid, sids.channelSid, [{ sid: participantSid }]);
    harness.standin.script('participant-update', { hang: true });
    const answer = await postJson(harness.url('/transfer-to-queue'), { Token: token, ...sids, transferType: 'cold', participantSid });
    expect(answer.status).toBe(201);
    expect(answer.json.participantClosed).toBe(false);
    expect(answer.json.warnings).toHaveLength(1);
    expect(answer.elapsedMs).toBeLessThan(ANSWER_WITHIN_MS);
    expect(harness.standin.requestsTo('invite')).toHaveLength(1);
  });

  test('slow token validator: 503 well inside the deadline, nothing invited', async () => {
    harness.standin.script('token-validate', { hang: true });
    const answer = await transfer();
    expect(answer.status).toBe(503);
    expect(answer.json.error.code).toBe('upstream_unavailable');
    expect(answer.elapsedMs).toBeLessThan(5000);
    expect(harness.standin.requestsTo('invite')).toHaveLength(0);
  });

  test.each([{ reset: true as const }, { status: 502, body: '<html>Bad gateway</html>' }, { status: 429 }])(
    'token validator broken (%o): 503, never 401',
    async (fault) => {
      harness.standin.script('token-validate', fault);
      const answer = await transfer();
      expect(answer.status).toBe(503);
      expect(harness.standin.requestsTo('invite')).toHaveLength(0);
    },
  );

  test("the validation service refusing the function's own credentials is a 502, never the caller's 401", async () => {
    harness.standin.invalidTokenAnswer = { status: 401, body: { code: 20003, message: 'Authenticate', status: 401 } };
    const answer = await postJson(harness.url('/transfer-to-queue'), { Token: 'eyJ.not.granted', ...transferSids() });
    expect(answer.status).toBe(502);
    expect(answer.json.error.code).toBe('upstream_error');
    expect(answer.json.error.message).toMatch(/ACCOUNT_SID and AUTH_TOKEN/);
    expect(harness.standin.requestsTo('invite')).toHaveLength(0);
  });

  test('one structured log line per request, with attempts and duration, and no token', async () => {
    const { token } = agentToken(harness.standin);
    harness.standin.script('invite', { status: 429 });
    const answer = await postJson(harness.url('/transfer-to-agent'), { Token: token, ...transferSids() });
    expect(answer.status).toBe(201);
    const line = logLines().at(-1);
    expect(line).toMatchObject({ function: 'transfer-to-agent', status: 201, outcome: 'transferred', upstreamAttempts: 2 });
    expect(line?.durationMs).toBeGreaterThan(0);
    expect(harness.server.output()).not.toContain(token);
  });
});

describe('Twilio unreachable (nothing listening)', () => {
  const harness = useFunctions();

  test('a signed Studio request retries refused connections, then answers 503 with nothing created', async () => {
    // The server under test sends *.twilio.com traffic to the stand-in; stopping it makes every connection refused.
    await harness.standin.stop();
    const sids = transferSids();
    const fields = { interactionSid: sids.interactionSid, channelSid: sids.channelSid, queueSid: sids.queueSid };
    const url = harness.url('/transfer-to-queue');
    const answer = await postForm(url, fields, { 'x-twilio-signature': getExpectedTwilioSignature(TEST_AUTH_TOKEN, url, fields) });
    expect(answer.status).toBe(503);
    expect(answer.json.error.code).toBe('upstream_unavailable');
    expect(answer.json.error.message).toMatch(/No invite was created|did not act|could not be reached/);
    expect(answer.elapsedMs).toBeLessThan(ANSWER_WITHIN_MS);
    const line = readLogLines(harness.server.output()).at(-1);
    expect(line?.upstreamAttempts).toBeGreaterThan(1);
  });

  test('a Flex token cannot be validated: 503, never 401', async () => {
    const answer = await postJson(harness.url('/transfer-to-queue'), { Token: 'eyJ.some.token', ...transferSids() });
    expect(answer.status).toBe(503);
    expect(answer.json.error.code).toBe('upstream_unavailable');
  });
});

describe('token validation on a kept-alive connection (one warm process, no token cache)', () => {
  const harness = useFunctions({ forkPerRequest: false, settings: { TRANSFER_TOKEN_CACHE_SECONDS: '0' } });

  test('a connection the service dropped meanwhile is retried once on a new one', async () => {
    const { token } = agentToken(harness.standin);
    expect((await postJson(harness.url('/transfer-to-queue'), { Token: token, ...transferSids() })).status).toBe(201);
    harness.standin.script('token-validate', { reset: true });
    const answer = await postJson(harness.url('/transfer-to-queue'), { Token: token, ...transferSids() });
    expect(answer.status).toBe(201);
    const validations = harness.standin.requestsTo('token-validate');
    expect(validations).toHaveLength(3);
    expect(validations[1]?.connection).toBe(validations[0]?.connection);
    expect(validations[2]?.connection).not.toBe(validations[1]?.connection);
  });
});
