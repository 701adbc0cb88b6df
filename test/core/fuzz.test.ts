/**
 * Property-based fuzzing of request bodies, in-process, through one function
 * instance (so any state a bad request could corrupt, such as the token
 * verifier's caches, is shared): client input never causes a 5xx, every
 * answer is JSON and comes within the deadline, and a valid transfer still
 * works afterwards.
 */
import fc from 'fast-check';
import { newSid } from '../../dev/twilio-standin';
import { TEST_WORKFLOW_SID } from '../support/fixtures';
import { transferSids } from '../support/harness';
import { grantAgentToken, inProcessFunctions } from '../support/in-process';

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
  'idempotencyKey',
  'request',
  'Token',
  '__proto__',
  'constructor',
  'prototype',
] as const;

/** Values that are plausible, borderline or hostile for any field. */
const fieldValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    '',
    ' ',
    '0',
    '-1',
    '5.5',
    '2147483648',
    '1209601',
    '1e3',
    'cold',
    'warm',
    'closed',
    'wrapup',
    '{}',
    '[]',
    '{"a":1}',
    'null',
  ),
  fc.constantFrom('KD', 'UO', 'WK', 'WQ', 'WW', 'UT', 'WT').map((prefix) => newSid(prefix)),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ minLength: 16000, maxLength: 17000 }),
);

const body = fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 12 })), fieldValue, { maxKeys: 8 });

// Fuzzed SIDs name conversations, queues and workers nobody seeded: this suite is about input handling, so the
// stand-in accepts any well-formed SID, as it did before it refused unknown ones.
const functions = inProcessFunctions({ refusesUnknown: false });

test('fuzzed request bodies: never a 5xx for client input, always JSON, always within the deadline', async () => {
  const agent = grantAgentToken(functions.standin, ['agent']);
  const supervisor = grantAgentToken(functions.standin, ['supervisor']);
  const seen = new Set<number>();
  await fc.assert(
    fc.asyncProperty(body, fc.constantFrom('none', 'agent', 'supervisor'), fc.boolean(), async (fields, caller, asForm) => {
      const token = caller === 'agent' ? agent.token : caller === 'supervisor' ? supervisor.token : undefined;
      const payload = token === undefined ? fields : { ...fields, Token: token };
      const answer = asForm
        ? await functions.call('transfer-to-agent', {
            form: Object.fromEntries(
              Object.entries(payload).map(([key, value]) => [key, typeof value === 'string' ? value : (JSON.stringify(value) ?? '')]),
            ),
          })
        : // What the runtime's JSON body parser would hand the function.
          await functions.call('transfer-to-queue', { json: JSON.parse(JSON.stringify(payload)) as unknown });
      seen.add(answer.status);
      expect(answer.status).toBeLessThan(500);
      expect(answer.headers['Content-Type']).toMatch(/^application\/json/);
      expect(answer.body).toEqual(expect.any(Object));
      expect(JSON.parse(JSON.stringify(answer.body))).toEqual(answer.body);
      expect(answer.log.durationMs).toBeLessThan(9000);
    }),
    { seed: 20261123, numRuns: 300 },
  );
  // The fuzzing reached past authentication into validation, not only the front door.
  expect(seen.has(400)).toBe(true);
  expect(seen.has(401)).toBe(true);

  const sids = transferSids();
  functions.standin.setParticipants(sids.interactionSid, sids.channelSid, [
    { sid: newSid('UT'), type: 'agent', routing_properties: { worker_sid: agent.workerSid } },
  ]);
  const after = await functions.call('transfer-to-agent', { json: { Token: agent.token, ...sids } });
  expect(after.status).toBe(201);
  // v3 default (TRANSFER_AGENT_ROUTING=workflow): the worker is reached through the workflow, named in the attributes.
  const properties = functions.standin.requestsTo('invite-create').at(-1)?.routing?.properties;
  expect(properties).not.toHaveProperty('worker_sid');
  expect(properties?.workflow_sid).toBe(TEST_WORKFLOW_SID);
  expect(properties?.attributes).toMatchObject({ transferTargetType: 'worker', transferTargetSid: sids.workerSid });
}, 120_000);
