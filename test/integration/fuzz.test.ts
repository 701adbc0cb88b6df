/**
 * Property-based fuzzing of request bodies through twilio-run (one warm
 * function process, so any state a bad request could corrupt is shared):
 * client input never causes a 5xx, every answer is JSON and arrives within
 * the deadline, and a valid transfer still works afterwards.
 */
import fc from 'fast-check';
import { agentToken, postForm, postJson, transferSids, useFunctions } from '../support/harness';
import { newSid } from '../support/twilio-standin';

const FIELDS = [
  'interactionSid',
  'channelSid',
  'workerSid',
  'queueSid',
  'workflowSid',
  'taskChannel',
  'attributes',
  'priority',
  'timeout',
  'transferType',
  'participantSid',
  'participantStatus',
  'taskSid',
  'request',
  'Token',
  '__proto__',
  'constructor',
] as const;

/** Values that are plausible, borderline or hostile for any field. */
const fieldValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom('', ' ', '0', '-1', '5.5', '2147483648', '1e3', 'cold', 'warm', 'closed', 'wrapup', '{}', '[]', '{"a":1}', 'null'),
  fc.constantFrom('KD', 'UO', 'WK', 'WQ', 'WW', 'UT', 'WT').map((prefix) => newSid(prefix)),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ minLength: 16000, maxLength: 17000 }),
);

const body = fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 12 })), fieldValue, { maxKeys: 8 });

describe('fuzzed request bodies', () => {
  const harness = useFunctions({ forkPerRequest: false });

  test('never a 5xx for client input, always JSON, always within the deadline', async () => {
    const { token } = agentToken(harness.standin);
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), fc.boolean(), async (fields, authenticated, asForm) => {
        const payload = authenticated ? { ...fields, Token: token } : fields;
        const answer = asForm
          ? await postForm(
              harness.url('/transfer-to-agent'),
              Object.fromEntries(
                Object.entries(payload).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]),
              ),
            )
          : await postJson(harness.url('/transfer-to-queue'), payload);
        seen.add(answer.status);
        expect(answer.status).toBeLessThan(500);
        expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
        expect(answer.json).toEqual(expect.any(Object));
        expect(answer.elapsedMs).toBeLessThan(9000);
      }),
      { seed: 20261123, numRuns: 300 },
    );
    // The fuzzing reached past authentication into validation, not only the front door.
    expect(seen.has(400)).toBe(true);

    const sids = transferSids();
    const after = await postJson(harness.url('/transfer-to-agent'), { Token: token, ...sids });
    expect(after.status).toBe(201);
    expect(harness.standin.requestsTo('invite').at(-1)?.routing?.properties.worker_sid).toBe(sids.workerSid);
  }, 120_000);
});
