import { parseTransferRequest, type TargetType } from '../../src/core/transfer-request';
import { refusalOf, settingsWith, sid } from '../support/fixtures';

const INTERACTION = sid('KD', 1);
const CHANNEL = sid('UO', 2);
const WORKER = sid('WK', 3);
const QUEUE = sid('WQ', 4);
const WORKFLOW = sid('WW', 5);
const PARTICIPANT = sid('UT', 6);
const TASK = sid('WT', 7);

const MAX_ATTRIBUTES_BYTES = 16384;

// With a default queue and workflow, transfers need neither: those rules have their own tests below.
const defaultSettings = settingsWith({ TRANSFER_AGENT_QUEUE_SID: sid('WQ', 9), TRANSFER_WORKFLOW_SID: sid('WW', 8) });

function agentParams(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { interactionSid: INTERACTION, channelSid: CHANNEL, workerSid: WORKER, ...extra };
}

function queueParams(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { interactionSid: INTERACTION, channelSid: CHANNEL, queueSid: QUEUE, ...extra };
}

function paramsFor(target: TargetType, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return target === 'worker' ? agentParams(extra) : queueParams(extra);
}

/** An attributes object whose JSON serialization is exactly `bytes` bytes long (ASCII only). */
function attributesOfSize(bytes: number): Record<string, string> {
  const overhead = JSON.stringify({ a: '' }).length;
  return { a: 'x'.repeat(bytes - overhead) };
}

describe('parseTransferRequest: required fields', () => {
  test('a minimal agent transfer is accepted with the contract defaults', () => {
    const transfer = parseTransferRequest(agentParams(), 'worker', defaultSettings);
    expect(transfer).toMatchObject({
      interactionSid: INTERACTION,
      channelSid: CHANNEL,
      targetType: 'worker',
      targetSid: WORKER,
      transferType: 'warm',
      participantStatus: 'closed',
      attributes: {},
    });
    expect(transfer.priority).toBeUndefined();
    expect(transfer.timeout).toBeUndefined();
    expect(transfer.queueSid).toBeUndefined();
    expect(transfer.workflowSid).toBeUndefined();
    expect(transfer.taskChannel).toBeUndefined();
    expect(transfer.participantSid).toBeUndefined();
    expect(transfer.taskSid).toBeUndefined();
  });

  test('a minimal queue transfer targets the queue', () => {
    const transfer = parseTransferRequest(queueParams(), 'queue', defaultSettings);
    expect(transfer.targetType).toBe('queue');
    expect(transfer.targetSid).toBe(QUEUE);
    expect(transfer.transferType).toBe('warm');
  });

  test.each([
    ['worker', 'interactionSid'],
    ['worker', 'channelSid'],
    ['worker', 'workerSid'],
    ['queue', 'interactionSid'],
    ['queue', 'channelSid'],
    ['queue', 'queueSid'],
  ] as const)('%s transfer without %s -> 400 naming it', (target, field) => {
    const params = Object.fromEntries(Object.entries(paramsFor(target)).filter(([key]) => key !== field));
    const refusal = refusalOf(() => parseTransferRequest(params, target, defaultSettings));
    expect(refusal.status).toBe(400);
    expect(refusal.code).toBe('invalid_request');
    expect(refusal.fields).toEqual([field]);
  });

  test('an agent transfer does not need a queueSid', () => {
    expect(() => parseTransferRequest(agentParams(), 'worker', defaultSettings)).not.toThrow();
  });

  test('a queue transfer does not need a workerSid', () => {
    expect(() => parseTransferRequest(queueParams(), 'queue', defaultSettings)).not.toThrow();
  });

  test('an agent transfer may name the queue the task goes through', () => {
    const transfer = parseTransferRequest(agentParams({ queueSid: QUEUE }), 'worker', defaultSettings);
    expect(transfer.targetSid).toBe(WORKER);
    expect(transfer.queueSid).toBe(QUEUE);
  });

  test('with nothing at all, every required field is reported at once', () => {
    expect(refusalOf(() => parseTransferRequest({}, 'worker', defaultSettings)).fields.sort()).toEqual([
      'channelSid',
      'interactionSid',
      'workerSid',
    ]);
    expect(refusalOf(() => parseTransferRequest({}, 'queue', defaultSettings)).fields.sort()).toEqual([
      'channelSid',
      'interactionSid',
      'queueSid',
    ]);
  });
});

describe('parseTransferRequest: SID formats', () => {
  // field, prefix, which endpoint it belongs to
  const sidFields = [
    ['interactionSid', 'KD', 'worker'],
    ['channelSid', 'UO', 'worker'],
    ['workerSid', 'WK', 'worker'],
    ['queueSid', 'WQ', 'queue'],
    ['queueSid', 'WQ', 'worker'],
    ['workflowSid', 'WW', 'worker'],
    ['participantSid', 'UT', 'worker'],
    ['taskSid', 'WT', 'worker'],
  ] as const;

  const malformed = (prefix: string): [string, unknown][] => [
    ['wrong prefix', 'ZZ' + 'a'.repeat(32)],
    ['lower-case prefix', prefix.toLowerCase() + 'a'.repeat(32)],
    ['31 hex digits', prefix + 'a'.repeat(31)],
    ['33 hex digits', prefix + 'a'.repeat(33)],
    ['a non-hex digit', prefix + 'g' + 'a'.repeat(31)],
    ['a trailing newline', prefix + 'a'.repeat(32) + '\n'],
    ['surrounding spaces', ' ' + prefix + 'a'.repeat(32) + ' '],
    ['a number', 12345],
    ['an object', { sid: prefix + 'a'.repeat(32) }],
  ];

  describe.each(sidFields)('%s (%s…, %s transfer)', (field, prefix, target) => {
    test.each(malformed(prefix))('%s -> 400 naming the field', (_label, value) => {
      const refusal = refusalOf(() => parseTransferRequest(paramsFor(target, { [field]: value }), target, defaultSettings));
      expect(refusal.status).toBe(400);
      expect(refusal.code).toBe('invalid_request');
      expect(refusal.fields).toEqual([field]);
    });

    test('upper- and lower-case hex digits are accepted', () => {
      for (const hex of ['abcdef0123456789abcdef0123456789', 'ABCDEF0123456789ABCDEF0123456789']) {
        const transfer = parseTransferRequest(paramsFor(target, { [field]: prefix + hex }), target, defaultSettings);
        expect(Object.values(transfer)).toContain(prefix + hex);
      }
    });
  });

  test('a well-formed optional SID is carried through', () => {
    const transfer = parseTransferRequest(
      agentParams({ workflowSid: WORKFLOW, participantSid: PARTICIPANT, taskSid: TASK }),
      'worker',
      defaultSettings,
    );
    expect(transfer.workflowSid).toBe(WORKFLOW);
    expect(transfer.participantSid).toBe(PARTICIPANT);
    expect(transfer.taskSid).toBe(TASK);
  });
});

describe('parseTransferRequest: priority and timeout', () => {
  test.each([
    [5, 5],
    ['5', 5],
    [0, 0],
    ['0', 0],
    [2147483647, 2147483647],
    ['2147483647', 2147483647],
  ])('priority %p is accepted as %p', (given, expected) => {
    expect(parseTransferRequest(agentParams({ priority: given }), 'worker', defaultSettings).priority).toBe(expected);
  });

  test.each([['5.5'], ['-1'], ['abc'], [5.5], [-1], [2147483648], ['2147483648'], ['1e3'], ['0x10'], [true], [[5]], [{}]])(
    'priority %p -> 400 naming priority',
    (given) => {
      const refusal = refusalOf(() => parseTransferRequest(agentParams({ priority: given }), 'worker', defaultSettings));
      expect(refusal.status).toBe(400);
      expect(refusal.fields).toEqual(['priority']);
    },
  );

  test.each([
    [1, 1],
    ['1', 1],
    ['30', 30],
    [1209600, 1209600],
    ['1209600', 1209600],
  ])('timeout %p is accepted as %p', (given, expected) => {
    expect(parseTransferRequest(queueParams({ timeout: given }), 'queue', defaultSettings).timeout).toBe(expected);
  });

  test.each([[0], ['0'], [1209601], ['1209601'], [2592000], ['5.5'], ['-1'], ['abc'], ['30s'], [1.5], [false]])(
    'timeout %p -> 400 naming timeout',
    (given) => {
      const refusal = refusalOf(() => parseTransferRequest(queueParams({ timeout: given }), 'queue', defaultSettings));
      expect(refusal.status).toBe(400);
      expect(refusal.fields).toEqual(['timeout']);
    },
  );
});

describe('parseTransferRequest: enumerations and task channel', () => {
  test.each(['warm', 'cold'])('transferType %s is accepted', (value) => {
    expect(
      parseTransferRequest(agentParams({ transferType: value, participantSid: PARTICIPANT }), 'worker', defaultSettings).transferType,
    ).toBe(value);
  });

  test.each(['hot', 'lukewarm', 42])('transferType %p -> 400 naming transferType', (value) => {
    expect(refusalOf(() => parseTransferRequest(agentParams({ transferType: value }), 'worker', defaultSettings))).toMatchObject({
      status: 400,
      fields: ['transferType'],
    });
  });

  test.each(['closed', 'wrapup'])('participantStatus %s is accepted', (value) => {
    expect(parseTransferRequest(agentParams({ participantStatus: value }), 'worker', defaultSettings).participantStatus).toBe(value);
  });

  test.each(['open', 'wrapping', 'completed'])('participantStatus %p -> 400 naming participantStatus', (value) => {
    expect(refusalOf(() => parseTransferRequest(agentParams({ participantStatus: value }), 'worker', defaultSettings))).toMatchObject({
      status: 400,
      fields: ['participantStatus'],
    });
  });

  test.each(['voice', 'chat', 'sms', 'a', 'My_Channel-2', 'c'.repeat(64)])('taskChannel %p is accepted', (value) => {
    expect(parseTransferRequest(agentParams({ taskChannel: value }), 'worker', defaultSettings).taskChannel).toBe(value);
  });

  test.each(['c'.repeat(65), 'has space', 'chat!', 'chät', 'chat\n', 7])('taskChannel %p -> 400 naming taskChannel', (value) => {
    expect(refusalOf(() => parseTransferRequest(agentParams({ taskChannel: value }), 'worker', defaultSettings))).toMatchObject({
      status: 400,
      fields: ['taskChannel'],
    });
  });
});

describe('parseTransferRequest: attributes', () => {
  test('a JSON object is accepted as is', () => {
    const attributes = { customer: { name: 'Ada' }, tags: ['vip'], score: 3 };
    expect(parseTransferRequest(agentParams({ attributes }), 'worker', defaultSettings).attributes).toEqual(attributes);
  });

  test('a string holding a JSON object is parsed (form bodies)', () => {
    const attributes = { customer: { name: 'Ada' }, vip: true };
    const transfer = parseTransferRequest(agentParams({ attributes: JSON.stringify(attributes) }), 'worker', defaultSettings);
    expect(transfer.attributes).toEqual(attributes);
  });

  test.each([
    ['not JSON', '{customer: Ada}'],
    ['a JSON array string', '[1,2]'],
    ['a JSON number string', '42'],
    ['a JSON string string', '"text"'],
    ['a JSON null string', 'null'],
    ['an array', [1, 2]],
    ['a number', 42],
    ['a boolean', true],
  ])('%s -> 400 naming attributes', (_label, value) => {
    expect(refusalOf(() => parseTransferRequest(agentParams({ attributes: value }), 'worker', defaultSettings))).toMatchObject({
      status: 400,
      code: 'invalid_request',
      fields: ['attributes'],
    });
  });

  test.each([
    ['an object', (depth: number) => JSON.parse('{"a":'.repeat(depth) + '{}' + '}'.repeat(depth)) as unknown],
    ['a string', (depth: number) => '{"a":'.repeat(depth) + '{}' + '}'.repeat(depth)],
  ])('%s nested thousands of levels deep -> 400 naming attributes, never a 500', (_label, nested) => {
    expect(refusalOf(() => parseTransferRequest(agentParams({ attributes: nested(20000) }), 'worker', defaultSettings))).toMatchObject({
      status: 400,
      code: 'invalid_request',
      fields: ['attributes'],
    });
  });

  test(`attributes of exactly ${MAX_ATTRIBUTES_BYTES} bytes are accepted`, () => {
    const attributes = attributesOfSize(MAX_ATTRIBUTES_BYTES);
    expect(Buffer.byteLength(JSON.stringify(attributes))).toBe(MAX_ATTRIBUTES_BYTES);
    expect(parseTransferRequest(agentParams({ attributes }), 'worker', defaultSettings).attributes).toEqual(attributes);
  });

  test.each([
    ['an object', (attributes: object) => attributes],
    ['a string', (attributes: object) => JSON.stringify(attributes)],
  ])(`attributes over ${MAX_ATTRIBUTES_BYTES} bytes given as %s -> 413`, (_label, encode) => {
    const attributes = attributesOfSize(MAX_ATTRIBUTES_BYTES + 1);
    const refusal = refusalOf(() => parseTransferRequest(agentParams({ attributes: encode(attributes) }), 'worker', defaultSettings));
    expect(refusal.status).toBe(413);
    expect(refusal.code).toBe('payload_too_large');
    expect(refusal.fields).toEqual(['attributes']);
  });

  test('the size limit counts UTF-8 bytes, not characters', () => {
    // 8200 two-byte characters: well under 16384 characters, over 16384 bytes.
    const attributes = { note: 'é'.repeat(8200) };
    expect(JSON.stringify(attributes).length).toBeLessThan(MAX_ATTRIBUTES_BYTES);
    expect(refusalOf(() => parseTransferRequest(agentParams({ attributes }), 'worker', defaultSettings)).status).toBe(413);
  });

  test('oversized attributes together with another bad field -> 400 listing both', () => {
    const refusal = refusalOf(() =>
      parseTransferRequest(
        agentParams({ attributes: attributesOfSize(MAX_ATTRIBUTES_BYTES + 100), priority: 'abc' }),
        'worker',
        defaultSettings,
      ),
    );
    expect(refusal.status).toBe(400);
    expect(refusal.code).toBe('invalid_request');
    expect(refusal.fields.sort()).toEqual(['attributes', 'priority']);
  });
});

describe('parseTransferRequest: reporting', () => {
  test('every bad field is reported at once', () => {
    const refusal = refusalOf(() =>
      parseTransferRequest(
        {
          interactionSid: 'KD-nope',
          channelSid: 'nope',
          workerSid: sid('WQ', 1),
          queueSid: 'WQ',
          workflowSid: 'WW1',
          taskChannel: 'bad channel',
          attributes: '[',
          priority: '5.5',
          timeout: '0',
          transferType: 'sideways',
          participantSid: 'UT',
          participantStatus: 'gone',
          taskSid: 'WT',
        },
        'worker',
        defaultSettings,
      ),
    );
    expect(refusal.status).toBe(400);
    expect(refusal.fields.sort()).toEqual(
      [
        'attributes',
        'channelSid',
        'interactionSid',
        'participantSid',
        'participantStatus',
        'priority',
        'queueSid',
        'taskChannel',
        'taskSid',
        'timeout',
        'transferType',
        'workerSid',
        'workflowSid',
      ].sort(),
    );
  });

  test('each problem carries a human-readable message', () => {
    const { details } = refusalOf(() => parseTransferRequest({ priority: 'abc' }, 'queue', defaultSettings));
    expect(details.length).toBeGreaterThan(0);
    for (const problem of details) {
      expect(typeof problem.message).toBe('string');
      expect(problem.message.length).toBeGreaterThan(0);
    }
  });

  test('unknown fields are ignored', () => {
    const transfer = parseTransferRequest(
      agentParams({ Token: 'eyJ...', flexVersion: 2, workspaceSid: sid('WS', 9), workspace_sid: sid('WS', 9), extra: { a: 1 } }),
      'worker',
      defaultSettings,
    );
    expect(transfer.targetSid).toBe(WORKER);
    expect(JSON.stringify(transfer)).not.toContain(sid('WS', 9));
  });
});

describe('parseTransferRequest: workflow allow-list (TRANSFER_ALLOWED_WORKFLOW_SIDS)', () => {
  const allowed = sid('WW', 0xa1);
  const alsoAllowed = sid('WW', 0xa2);
  const other = sid('WW', 0xb1);
  const restricted = settingsWith({
    TRANSFER_ALLOWED_WORKFLOW_SIDS: `${allowed}, ${alsoAllowed}`,
    TRANSFER_AGENT_QUEUE_SID: sid('WQ', 9),
    TRANSFER_WORKFLOW_SID: allowed,
  });

  test.each([allowed, alsoAllowed])('a listed workflow %s is accepted', (workflowSid) => {
    expect(parseTransferRequest(agentParams({ workflowSid }), 'worker', restricted).workflowSid).toBe(workflowSid);
  });

  test.each(['worker', 'queue'] as const)('an unlisted workflow -> 403 (%s transfer)', (target) => {
    expect(refusalOf(() => parseTransferRequest(paramsFor(target, { workflowSid: other }), target, restricted))).toMatchObject({
      status: 403,
      code: 'forbidden',
    });
  });

  test('a request naming no workflow is accepted under an allow-list', () => {
    expect(() => parseTransferRequest(agentParams(), 'worker', restricted)).not.toThrow();
  });

  test('without an allow-list, any well-formed workflow is accepted', () => {
    expect(parseTransferRequest(agentParams({ workflowSid: other }), 'worker', defaultSettings).workflowSid).toBe(other);
  });

  test('a malformed workflowSid is a 400, not a 403', () => {
    expect(refusalOf(() => parseTransferRequest(agentParams({ workflowSid: 'WW123' }), 'worker', restricted))).toMatchObject({
      status: 400,
      fields: ['workflowSid'],
    });
  });
});

describe('parseTransferRequest: what is missing is known before Twilio is asked', () => {
  const noQueueSettings = settingsWith({ TRANSFER_AGENT_ROUTING: 'direct', TRANSFER_WORKFLOW_SID: sid('WW', 8) });

  test('direct routing: an agent transfer with no queueSid, no TRANSFER_AGENT_QUEUE_SID and no taskSid -> 400 naming queueSid and the setting', () => {
    const refusal = refusalOf(() => parseTransferRequest(agentParams(), 'worker', noQueueSettings));
    expect(refusal).toMatchObject({ status: 400, fields: ['queueSid'] });
  });

  test('workflow routing (the default): an agent transfer needs no queue', () => {
    expect(() => parseTransferRequest(agentParams(), 'worker', settingsWith({ TRANSFER_WORKFLOW_SID: sid('WW', 8) }))).not.toThrow();
  });

  test.each(['worker', 'queue'] as const)(
    'no workflowSid, no TRANSFER_WORKFLOW_SID and no taskSid -> 400 naming workflowSid and the setting (%s transfer)',
    (target) => {
      const refusal = refusalOf(() =>
        parseTransferRequest(paramsFor(target), target, settingsWith({ TRANSFER_AGENT_QUEUE_SID: sid('WQ', 9) })),
      );
      expect(refusal).toMatchObject({ status: 400, fields: ['workflowSid'] });
      expect(refusal.message + JSON.stringify(refusal.details)).toContain('TRANSFER_WORKFLOW_SID');
    },
  );

  test('with a taskSid the original task may supply the queue: accepted here, decided after the task is read', () => {
    expect(() => parseTransferRequest(agentParams({ taskSid: TASK }), 'worker', noQueueSettings)).not.toThrow();
  });

  test('a cold transfer with no participantSid, no taskSid and no agent caller -> 400 naming participantSid', () => {
    expect(refusalOf(() => parseTransferRequest(queueParams({ transferType: 'cold' }), 'queue', defaultSettings))).toMatchObject({
      status: 400,
      fields: ['participantSid'],
    });
  });

  test.each<[string, Record<string, unknown>, { callerWorkerSid?: string }]>([
    ['a participantSid', { participantSid: PARTICIPANT }, {}],
    ['a taskSid', { taskSid: TASK }, {}],
    ['an agent caller', {}, { callerWorkerSid: WORKER }],
  ])('a cold transfer with %s is accepted here', (_label, extra, context) => {
    expect(() => parseTransferRequest(queueParams({ transferType: 'cold', ...extra }), 'queue', defaultSettings, context)).not.toThrow();
  });

  test('problems from outside the body (a malformed Idempotency-Key) are listed with the fields', () => {
    const moreProblems = [{ field: 'idempotencyKey', message: 'must be 1 to 255 printable ASCII characters' }];
    const { fields } = refusalOf(() =>
      parseTransferRequest(queueParams({ interactionSid: 'nope' }), 'queue', defaultSettings, { moreProblems }),
    );
    expect(fields).toEqual(['interactionSid', 'idempotencyKey']);
  });
});
