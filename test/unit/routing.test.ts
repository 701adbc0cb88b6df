import type { Environment } from '../../src/config';
import type { Caller } from '../../src/core/authenticate';
import { buildRouting, SERVER_ATTRIBUTE_KEYS } from '../../src/core/routing';
import { sealTransferClose } from '../../src/core/transfer-close';
import { parseTransferRequest, type TargetType } from '../../src/core/transfer-request';
import type { WorkspaceTask } from '../../src/twilio/taskrouter';
import { refusalOf, settingsWith, sid, WORKSPACE_SID } from '../support/fixtures';

const INTERACTION = sid('KD', 1);
const CHANNEL = sid('UO', 2);
const WORKER = sid('WK', 3);
const QUEUE = sid('WQ', 4);
const TASK = sid('WT', 7);

const CALLER_WORKER = sid('WK', 0xca11);
const flexCaller: Caller = { kind: 'flex-token', workerSid: CALLER_WORKER, roles: ['agent'] };
const signatureCaller: Caller = { kind: 'twilio-signature' };
const basicCaller: Caller = { kind: 'basic' };

const DEFAULT_WORKFLOW = sid('WW', 0xd1);
const DEFAULT_AGENT_QUEUE = sid('WQ', 0xd2);
const DEFAULT_TASK_CHANNEL = 'chat';
const FALLBACK_WORKFLOW = sid('WW', 0xfb);
const NO_WORKFLOW_SETTING: Environment = { TRANSFER_WORKFLOW_SID: '' };

const withDefaults: Environment = {
  TRANSFER_WORKFLOW_SID: DEFAULT_WORKFLOW,
  TRANSFER_AGENT_QUEUE_SID: DEFAULT_AGENT_QUEUE,
  TRANSFER_TASK_CHANNEL: DEFAULT_TASK_CHANNEL,
};

const CONTRACT_KEYS = [
  'workspace_sid',
  'workflow_sid',
  'queue_sid',
  'worker_sid',
  'task_channel_unique_name',
  'priority',
  'timeout',
  'attributes',
];

/** The routing.properties sent to Twilio for these request fields, as the transfer builds them. */
function propertiesFor(
  target: TargetType,
  fields: Record<string, unknown>,
  caller: Caller = flexCaller,
  env: Environment = {},
  originalTask?: WorkspaceTask,
  requestKeyHash?: string,
) {
  // These suites describe the invite's shape in direct mode (worker_sid with queue_sid); workflow mode has its own suite.
  // Every invite names a workflow (v3): a fallback one unless a test sets TRANSFER_WORKFLOW_SID itself ('' unsets it).
  const settings = settingsWith({ TRANSFER_AGENT_ROUTING: 'direct', TRANSFER_WORKFLOW_SID: FALLBACK_WORKFLOW, ...env });
  // An agent transfer needs a queue from somewhere: the tests about other keys name one unless they say otherwise.
  const base = target === 'worker' ? { workerSid: WORKER } : { queueSid: QUEUE };
  const transfer = parseTransferRequest({ interactionSid: INTERACTION, channelSid: CHANNEL, ...base, ...fields }, target, settings);
  return buildRouting({ transfer, caller, settings, originalTask, requestKeyHash }).properties;
}

/** The task being transferred, as fetched from TaskRouter. */
function originalTask(overrides: Partial<WorkspaceTask> = {}): WorkspaceTask {
  return {
    sid: TASK,
    attributes: {},
    taskChannelUniqueName: undefined,
    workflowSid: undefined,
    queueSid: undefined,
    assignmentStatus: 'assigned',
    reason: undefined,
    etag: undefined,
    ...overrides,
  };
}

describe('buildRouting: routing.properties', () => {
  test.each(['worker', 'queue'] as const)('only the contract keys are sent (%s transfer, every option given)', (target) => {
    const properties = propertiesFor(
      target,
      { workflowSid: sid('WW', 9), taskChannel: 'voice', priority: 3, timeout: 60, queueSid: QUEUE, taskSid: TASK },
      flexCaller,
      withDefaults,
    );
    for (const key of Object.keys(properties)) expect(CONTRACT_KEYS).toContain(key);
  });

  test.each(['worker', 'queue'] as const)('workspace_sid is TWILIO_FLEX_WORKSPACE_SID (%s transfer)', (target) => {
    expect(propertiesFor(target, {}, flexCaller, withDefaults).workspace_sid).toBe(WORKSPACE_SID);
  });

  test('workspace_sid cannot be taken from the request, whatever the field is called', () => {
    const spoofed = sid('WS', 0xbad);
    const properties = propertiesFor('worker', {
      queueSid: QUEUE,
      workspaceSid: spoofed,
      workspace_sid: spoofed,
      WorkspaceSid: spoofed,
      attributes: { workspace_sid: spoofed },
    });
    expect(properties.workspace_sid).toBe(WORKSPACE_SID);
  });

  describe('workflow_sid', () => {
    test('the request workflow wins over TRANSFER_WORKFLOW_SID', () => {
      const requested = sid('WW', 0xe1);
      expect(propertiesFor('queue', { workflowSid: requested }, flexCaller, withDefaults).workflow_sid).toBe(requested);
    });

    test('defaults to TRANSFER_WORKFLOW_SID', () => {
      expect(propertiesFor('queue', {}, flexCaller, withDefaults).workflow_sid).toBe(DEFAULT_WORKFLOW);
    });

    test('v3: none from the request, the setting or the original task -> 400 naming workflowSid and TRANSFER_WORKFLOW_SID', () => {
      for (const refusal of [
        refusalOf(() => propertiesFor('queue', {}, flexCaller, NO_WORKFLOW_SETTING)),
        refusalOf(() => propertiesFor('queue', { taskSid: TASK }, flexCaller, NO_WORKFLOW_SETTING, originalTask())),
      ]) {
        expect(refusal).toMatchObject({ status: 400, fields: ['workflowSid'] });
        expect(refusal.details[0]?.message).toContain('TRANSFER_WORKFLOW_SID');
      }
    });

    test('TRANSFER_WORKFLOW_SID wins over the original task’s workflow', () => {
      const task = originalTask({ workflowSid: sid('WW', 0x01d) });
      expect(propertiesFor('queue', { taskSid: TASK }, flexCaller, withDefaults, task).workflow_sid).toBe(DEFAULT_WORKFLOW);
    });

    test('the request workflow wins over the original task’s', () => {
      const requested = sid('WW', 0xe1);
      const task = originalTask({ workflowSid: sid('WW', 0x01d) });
      expect(propertiesFor('queue', { taskSid: TASK, workflowSid: requested }, flexCaller, {}, task).workflow_sid).toBe(requested);
    });

    test('the original task’s workflow when neither the request nor the setting names one', () => {
      const task = originalTask({ workflowSid: sid('WW', 0x01d) });
      expect(propertiesFor('queue', { taskSid: TASK }, flexCaller, NO_WORKFLOW_SETTING, task).workflow_sid).toBe(sid('WW', 0x01d));
    });
  });

  describe('queue_sid', () => {
    test('agent transfer: the request queue wins over TRANSFER_AGENT_QUEUE_SID', () => {
      expect(propertiesFor('worker', { queueSid: QUEUE }, flexCaller, withDefaults).queue_sid).toBe(QUEUE);
    });

    test('agent transfer: defaults to TRANSFER_AGENT_QUEUE_SID', () => {
      expect(propertiesFor('worker', {}, flexCaller, withDefaults).queue_sid).toBe(DEFAULT_AGENT_QUEUE);
    });

    test('agent transfer: the setting wins over the original task’s queue', () => {
      const task = originalTask({ queueSid: sid('WQ', 0x01d) });
      expect(propertiesFor('worker', {}, flexCaller, withDefaults, task).queue_sid).toBe(DEFAULT_AGENT_QUEUE);
    });

    test('agent transfer: the request queue wins over the original task’s queue', () => {
      const task = originalTask({ queueSid: sid('WQ', 0x01d) });
      expect(propertiesFor('worker', { queueSid: QUEUE, taskSid: TASK }, flexCaller, {}, task).queue_sid).toBe(QUEUE);
    });

    test('agent transfer: the original task’s queue when neither the request nor the setting names one', () => {
      const task = originalTask({ queueSid: sid('WQ', 0x01d) });
      expect(propertiesFor('worker', { taskSid: TASK }, flexCaller, {}, task).queue_sid).toBe(sid('WQ', 0x01d));
    });

    test('agent transfer: always sent together with worker_sid', () => {
      const properties = propertiesFor('worker', {}, flexCaller, withDefaults);
      expect(properties.worker_sid).toBe(WORKER);
      expect(properties.queue_sid).toBeDefined();
    });

    test.each([
      ['no original task', undefined],
      ['an original task without a queue', originalTask()],
    ])('agent transfer without any queue (%s) -> 400 naming queueSid and the setting that provides one', (_label, task) => {
      const refusal = refusalOf(() => propertiesFor('worker', {}, flexCaller, {}, task));
      expect(refusal.status).toBe(400);
      expect(refusal.code).toBe('invalid_request');
      expect(refusal.details.map((detail) => detail.field)).toEqual(['queueSid']);
      expect(refusal.details[0]?.message).toContain('TRANSFER_AGENT_QUEUE_SID');
    });

    test('direct agent transfer whose original task has neither a workflow nor a queue: both reported in one 400', () => {
      const refusal = refusalOf(() => propertiesFor('worker', { taskSid: TASK }, flexCaller, NO_WORKFLOW_SETTING, originalTask()));
      expect(refusal).toMatchObject({ status: 400, fields: ['workflowSid', 'queueSid'] });
    });

    test('queue transfer: always the requested queue, never TRANSFER_AGENT_QUEUE_SID nor the original task’s', () => {
      const task = originalTask({ queueSid: sid('WQ', 0x01d) });
      expect(propertiesFor('queue', { taskSid: TASK }, flexCaller, withDefaults, task).queue_sid).toBe(QUEUE);
    });
  });

  describe('worker_sid', () => {
    test('agent transfer: the requested worker', () => {
      expect(propertiesFor('worker', { queueSid: QUEUE }).worker_sid).toBe(WORKER);
    });

    test('queue transfer: not sent, even for a Flex-token caller or a stray workerSid field', () => {
      expect(propertiesFor('queue', { workerSid: WORKER }, flexCaller, withDefaults)).not.toHaveProperty('worker_sid');
    });
  });

  describe('task_channel_unique_name', () => {
    test('the request taskChannel wins over TRANSFER_TASK_CHANNEL', () => {
      expect(propertiesFor('worker', { taskChannel: 'voice' }, flexCaller, withDefaults).task_channel_unique_name).toBe('voice');
    });

    test('defaults to TRANSFER_TASK_CHANNEL', () => {
      expect(propertiesFor('worker', {}, flexCaller, withDefaults).task_channel_unique_name).toBe(DEFAULT_TASK_CHANNEL);
    });

    test('is chat when neither the request, the original task nor the setting names one (never TaskRouter’s default)', () => {
      expect(propertiesFor('worker', { queueSid: QUEUE }).task_channel_unique_name).toBe('chat');
      expect(propertiesFor('queue', { taskSid: TASK }, flexCaller, {}, originalTask()).task_channel_unique_name).toBe('chat');
    });

    test('the original task’s channel wins over TRANSFER_TASK_CHANNEL', () => {
      const task = originalTask({ taskChannelUniqueName: 'sms' });
      expect(propertiesFor('queue', { taskSid: TASK }, flexCaller, withDefaults, task).task_channel_unique_name).toBe('sms');
    });

    test('the request taskChannel wins over the original task’s', () => {
      const task = originalTask({ taskChannelUniqueName: 'sms' });
      expect(propertiesFor('queue', { taskSid: TASK, taskChannel: 'voice' }, flexCaller, withDefaults, task).task_channel_unique_name).toBe(
        'voice',
      );
    });

    test('TRANSFER_TASK_CHANNEL when the original task has no channel', () => {
      expect(propertiesFor('queue', { taskSid: TASK }, flexCaller, withDefaults, originalTask()).task_channel_unique_name).toBe(
        DEFAULT_TASK_CHANNEL,
      );
    });
  });

  describe('priority and timeout', () => {
    test('are sent as numbers when given (form strings included)', () => {
      const properties = propertiesFor('queue', { priority: '7', timeout: '120' });
      expect(properties.priority).toBe(7);
      expect(properties.timeout).toBe(120);
    });

    test('priority 0 is sent, not dropped as falsy', () => {
      expect(propertiesFor('queue', { priority: 0 }).priority).toBe(0);
    });

    test('are omitted when not given', () => {
      const properties = propertiesFor('queue', {}, flexCaller, withDefaults);
      expect(properties).not.toHaveProperty('priority');
      expect(properties).not.toHaveProperty('timeout');
    });
  });
});

describe('buildRouting: agent transfers in workflow mode (TRANSFER_AGENT_ROUTING=workflow, the default)', () => {
  const settings = settingsWith({ TRANSFER_WORKFLOW_SID: DEFAULT_WORKFLOW, TRANSFER_AGENT_QUEUE_SID: DEFAULT_AGENT_QUEUE });
  const build = (fields: Record<string, unknown>, extra: { workerSidsInConversation?: string[] } = {}) =>
    buildRouting({
      transfer: parseTransferRequest(
        { interactionSid: INTERACTION, channelSid: CHANNEL, workerSid: WORKER, ...fields },
        'worker',
        settings,
      ),
      caller: flexCaller,
      settings,
      originalTask: undefined,
      ...extra,
    }).properties;

  test('neither worker_sid nor queue_sid is sent: the workflow reaches the worker by known-agent routing', () => {
    const properties = build({ queueSid: QUEUE });
    expect(properties).not.toHaveProperty('worker_sid');
    expect(properties).not.toHaveProperty('queue_sid');
    expect(properties.workflow_sid).toBe(DEFAULT_WORKFLOW);
    expect(properties.attributes).toMatchObject({ transferTargetType: 'worker', transferTargetSid: WORKER, transferQueueSid: QUEUE });
  });

  test('no queue named: no transferQueueSid, and no 400 (the workflow decides)', () => {
    expect(build({}).attributes).not.toHaveProperty('transferQueueSid');
  });

  test('the workers already in the conversation travel as workerSidsInConversation', () => {
    expect(build({}, { workerSidsInConversation: [CALLER_WORKER] }).attributes.workerSidsInConversation).toEqual([CALLER_WORKER]);
  });

  test('a request cannot set transferQueueSid, workerSidsInConversation or transferClose itself', () => {
    const spoof = { transferQueueSid: sid('WQ', 0xbad), workerSidsInConversation: [sid('WK', 0xbad)], transferClose: { seal: 'x' } };
    const { attributes } = build({ attributes: spoof });
    expect(attributes).not.toHaveProperty('transferQueueSid');
    expect(attributes).not.toHaveProperty('transferClose');
    expect(attributes.workerSidsInConversation).toEqual([]);
  });
});

describe('buildRouting: task attributes', () => {
  test('request attributes are passed on alongside the server keys', () => {
    const attributes = propertiesFor('worker', { queueSid: QUEUE, attributes: { customer: { name: 'Ada' }, language: 'en' } }).attributes;
    expect(attributes).toMatchObject({ customer: { name: 'Ada' }, language: 'en' });
  });

  test.each([
    ['worker', WORKER],
    ['queue', QUEUE],
  ] as const)('%s transfer: transferTargetType and transferTargetSid name the target', (target, targetSid) => {
    const attributes = propertiesFor(target, {}, flexCaller, withDefaults).attributes;
    expect(attributes.transferTargetType).toBe(target);
    expect(attributes.transferTargetSid).toBe(targetSid);
  });

  test.each([
    [{}, 'warm'],
    [{ transferType: 'warm' }, 'warm'],
    [{ transferType: 'cold', participantSid: sid('UT', 1) }, 'cold'],
  ])('transferType for %p is %s', (fields, expected) => {
    expect(propertiesFor('worker', { queueSid: QUEUE, ...fields }).attributes.transferType).toBe(expected);
  });

  test('transferredByWorkerSid is the Flex-token caller’s worker', () => {
    expect(propertiesFor('worker', { queueSid: QUEUE }, flexCaller).attributes.transferredByWorkerSid).toBe(CALLER_WORKER);
  });

  test.each([
    ['Twilio signature', signatureCaller],
    ['HTTP Basic', basicCaller],
    ['Flex token without a worker', { kind: 'flex-token', workerSid: undefined, roles: ['admin'] } as Caller],
  ])('transferredByWorkerSid is absent for a %s caller, even when the request sets it', (_label, caller) => {
    const attributes = propertiesFor('queue', { attributes: { transferredByWorkerSid: sid('WK', 0xbad) } }, caller).attributes;
    expect(attributes).not.toHaveProperty('transferredByWorkerSid');
  });

  test('transferredFromTaskSid is the taskSid field when given', () => {
    expect(propertiesFor('queue', { taskSid: TASK }).attributes.transferredFromTaskSid).toBe(TASK);
  });

  test('transferredFromTaskSid is absent without a taskSid field, even when the request attributes set it', () => {
    const attributes = propertiesFor('queue', { attributes: { transferredFromTaskSid: sid('WT', 0xbad) } }).attributes;
    expect(attributes).not.toHaveProperty('transferredFromTaskSid');
  });

  test.each([
    ['an object', (attributes: object) => attributes],
    ['a string', (attributes: object) => JSON.stringify(attributes)],
  ])('server-set keys win over request keys given as %s', (_label, encode) => {
    const spoof = {
      transferTargetType: 'queue',
      transferTargetSid: sid('WQ', 0xbad),
      transferType: 'cold',
      transferredByWorkerSid: sid('WK', 0xbad),
      transferredFromTaskSid: sid('WT', 0xbad),
      transferRequestKey: 'f'.repeat(64),
      kept: 'yes',
    };
    const attributes = propertiesFor('worker', { queueSid: QUEUE, taskSid: TASK, attributes: encode(spoof) }, flexCaller).attributes;
    expect(attributes).toEqual({
      kept: 'yes',
      transferTargetType: 'worker',
      transferTargetSid: WORKER,
      transferType: 'warm',
      transferredByWorkerSid: CALLER_WORKER,
      transferredFromTaskSid: TASK,
      workerSidsInConversation: [],
    });
  });
});

describe('buildRouting: the original task’s attributes (taskSid given)', () => {
  const ORIGINAL_ATTRIBUTES = {
    customerName: 'Ada',
    language: 'fr',
    channelType: 'web',
    customers: { phone: '+15550100' },
    conversations: { conversation_id: 'WT-original-conversation', segment_link: 'abc', media: 'chat' },
  };

  function attributesFor(fields: Record<string, unknown>, task: WorkspaceTask, caller: Caller = flexCaller, requestKeyHash?: string) {
    return propertiesFor('queue', { taskSid: TASK, ...fields }, caller, {}, task, requestKeyHash).attributes;
  }

  test('are carried to the new task', () => {
    const attributes = attributesFor({}, originalTask({ attributes: ORIGINAL_ATTRIBUTES }));
    expect(attributes).toMatchObject(ORIGINAL_ATTRIBUTES);
  });

  test('the request’s attributes are laid over them, top-level keys replaced whole', () => {
    const attributes = attributesFor(
      { attributes: { language: 'en', customers: { email: 'ada@example.com' }, reason: 'billing' } },
      originalTask({ attributes: ORIGINAL_ATTRIBUTES }),
    );
    expect(attributes.language).toBe('en');
    expect(attributes.reason).toBe('billing');
    expect(attributes.customerName).toBe('Ada');
    expect(attributes.customers).toEqual({ email: 'ada@example.com' });
  });

  test('the conversations object is merged one level deep, the request winning key by key', () => {
    const attributes = attributesFor(
      { attributes: { conversations: { media: 'voice', outcome: 'transferred' } } },
      originalTask({ attributes: ORIGINAL_ATTRIBUTES }),
    );
    expect(attributes.conversations).toEqual({
      conversation_id: 'WT-original-conversation',
      segment_link: 'abc',
      media: 'voice',
      outcome: 'transferred',
    });
  });

  test('conversation_id is kept from the original, whatever the request says', () => {
    const attributes = attributesFor(
      { attributes: { conversations: { conversation_id: 'spoofed' } } },
      originalTask({ attributes: ORIGINAL_ATTRIBUTES }),
    );
    expect((attributes.conversations as Record<string, unknown>).conversation_id).toBe('WT-original-conversation');
  });

  test.each([
    ['no attributes', {}],
    ['conversations without an id', { conversations: { media: 'chat' } }],
    ['conversations that is not an object', { conversations: 'chat' }],
  ])('conversation_id is set to the original task’s SID when it has none (%s)', (_label, attributes) => {
    const sent = attributesFor({}, originalTask({ attributes }));
    expect((sent.conversations as Record<string, unknown>).conversation_id).toBe(TASK);
  });

  test('without an original task, no conversations object is invented', () => {
    expect(propertiesFor('queue', {})).not.toHaveProperty('attributes.conversations');
    expect(propertiesFor('queue', { attributes: { conversations: { media: 'chat' } } }).attributes.conversations).toEqual({
      media: 'chat',
    });
  });

  test('server keys win, and stale server keys of the original (an earlier transfer’s) are removed', () => {
    const stale = {
      transferTargetType: 'worker',
      transferTargetSid: sid('WK', 0x01d),
      transferType: 'cold',
      transferredByWorkerSid: sid('WK', 0x01d),
      transferredFromTaskSid: sid('WT', 0x01d),
      transferRequestKey: 'e'.repeat(64),
    };
    const attributes = attributesFor({}, originalTask({ attributes: { ...stale, customerName: 'Ada' } }), signatureCaller);
    expect(attributes).toEqual({
      customerName: 'Ada',
      conversations: { conversation_id: TASK },
      transferTargetType: 'queue',
      transferTargetSid: QUEUE,
      transferType: 'warm',
      transferredFromTaskSid: TASK,
      workerSidsInConversation: [],
    });
    for (const key of ['transferredByWorkerSid', 'transferRequestKey']) expect(attributes).not.toHaveProperty(key);
  });

  test('transferRequestKey is the Idempotency-Key’s hash when there is one', () => {
    const hash = 'a'.repeat(64);
    const attributes = attributesFor({ attributes: { transferRequestKey: 'spoofed' } }, originalTask(), flexCaller, hash);
    expect(attributes.transferRequestKey).toBe(hash);
  });

  test('every server key is one the service sets itself (a cold agent transfer in workflow mode sets them all)', () => {
    const settings = settingsWith({ TRANSFER_WORKFLOW_SID: DEFAULT_WORKFLOW });
    const transfer = parseTransferRequest(
      { interactionSid: INTERACTION, channelSid: CHANNEL, workerSid: WORKER, queueSid: QUEUE, taskSid: TASK, transferType: 'cold' },
      'worker',
      settings,
    );
    const transferClose = sealTransferClose(
      { interactionSid: INTERACTION, channelSid: CHANNEL, participantSid: sid('UT', 9), status: 'closed' },
      settings.authToken,
    );
    const { attributes } = buildRouting({
      transfer,
      caller: flexCaller,
      settings,
      originalTask: originalTask(),
      requestKeyHash: 'b'.repeat(64),
      workerSidsInConversation: [CALLER_WORKER],
      transferClose,
    }).properties;
    for (const key of SERVER_ATTRIBUTE_KEYS) expect(attributes).toHaveProperty(key);
  });

  test('the original task’s attributes are not changed by building the new ones', () => {
    const attributes = { conversations: { media: 'chat' }, transferType: 'cold' };
    const task = originalTask({ attributes });
    attributesFor({ attributes: { conversations: { media: 'voice' } } }, task);
    expect(task.attributes).toEqual({ conversations: { media: 'chat' }, transferType: 'cold' });
  });
});
