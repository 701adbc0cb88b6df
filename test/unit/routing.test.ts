import type { Caller } from '../../src/lib/auth/authenticate';
import type { Environment } from '../../src/lib/config';
import { buildRouting } from '../../src/lib/routing';
import { parseTransferRequest, type TargetType } from '../../src/lib/transfer-request';
import { settingsWith, sid, WORKSPACE_SID } from './fixtures';

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

/** The routing.properties sent to Twilio for these request fields, as the pipeline builds them. */
function propertiesFor(target: TargetType, fields: Record<string, unknown>, caller: Caller = flexCaller, env: Environment = {}) {
  const settings = settingsWith(env);
  const base = target === 'worker' ? { workerSid: WORKER } : { queueSid: QUEUE };
  const transfer = parseTransferRequest({ interactionSid: INTERACTION, channelSid: CHANNEL, ...base, ...fields }, target, settings);
  return buildRouting(transfer, caller, settings).properties;
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
    expect(propertiesFor(target, {}).workspace_sid).toBe(WORKSPACE_SID);
  });

  test('workspace_sid cannot be taken from the request, whatever the field is called', () => {
    const spoofed = sid('WS', 0xbad);
    const properties = propertiesFor('worker', {
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

    test('is omitted when neither is set', () => {
      expect(propertiesFor('queue', {})).not.toHaveProperty('workflow_sid');
    });
  });

  describe('queue_sid', () => {
    test('agent transfer: the request queue wins over TRANSFER_AGENT_QUEUE_SID', () => {
      expect(propertiesFor('worker', { queueSid: QUEUE }, flexCaller, withDefaults).queue_sid).toBe(QUEUE);
    });

    test('agent transfer: defaults to TRANSFER_AGENT_QUEUE_SID', () => {
      expect(propertiesFor('worker', {}, flexCaller, withDefaults).queue_sid).toBe(DEFAULT_AGENT_QUEUE);
    });

    test('agent transfer: omitted when neither is set', () => {
      expect(propertiesFor('worker', {})).not.toHaveProperty('queue_sid');
    });

    test('queue transfer: always the requested queue, never TRANSFER_AGENT_QUEUE_SID', () => {
      expect(propertiesFor('queue', {}, flexCaller, withDefaults).queue_sid).toBe(QUEUE);
    });
  });

  describe('worker_sid', () => {
    test('agent transfer: the requested worker', () => {
      expect(propertiesFor('worker', {}).worker_sid).toBe(WORKER);
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

    test('is omitted when neither is set', () => {
      expect(propertiesFor('worker', {})).not.toHaveProperty('task_channel_unique_name');
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

describe('buildRouting: task attributes', () => {
  test('request attributes are passed on alongside the server keys', () => {
    const attributes = propertiesFor('worker', { attributes: { customer: { name: 'Ada' }, language: 'en' } }).attributes;
    expect(attributes).toMatchObject({ customer: { name: 'Ada' }, language: 'en' });
  });

  test.each([
    ['worker', WORKER],
    ['queue', QUEUE],
  ] as const)('%s transfer: transferTargetType and transferTargetSid name the target', (target, targetSid) => {
    const attributes = propertiesFor(target, {}).attributes;
    expect(attributes.transferTargetType).toBe(target);
    expect(attributes.transferTargetSid).toBe(targetSid);
  });

  test.each([
    [{}, 'warm'],
    [{ transferType: 'warm' }, 'warm'],
    [{ transferType: 'cold', participantSid: sid('UT', 1) }, 'cold'],
  ])('transferType for %p is %s', (fields, expected) => {
    expect(propertiesFor('worker', fields).attributes.transferType).toBe(expected);
  });

  test('transferredByWorkerSid is the Flex-token caller’s worker', () => {
    expect(propertiesFor('worker', {}, flexCaller).attributes.transferredByWorkerSid).toBe(CALLER_WORKER);
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
      kept: 'yes',
    };
    const attributes = propertiesFor('worker', { taskSid: TASK, attributes: encode(spoof) }, flexCaller).attributes;
    expect(attributes).toEqual({
      kept: 'yes',
      transferTargetType: 'worker',
      transferTargetSid: WORKER,
      transferType: 'warm',
      transferredByWorkerSid: CALLER_WORKER,
      transferredFromTaskSid: TASK,
    });
  });
});
