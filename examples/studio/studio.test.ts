/**
 * The Studio flow examples: well-formed flow definitions whose widget sends
 * only fields of the contract (transfer-api.md), with an idempotency key that
 * is stable within one execution; once their Liquid is filled in, the real
 * functions accept them (signed for Run Function, Basic for Make HTTP Request).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getExpectedTwilioSignature } from 'twilio';
import { PROJECT_ROOT, TEST_AUTH_TOKEN, TEST_WORKSPACE_SID } from '../../test/support/functions-server';
import { joinAsAgent } from '../../test/support/fixtures';
import { type HttpResult, postForm, postJson, transferSids, useFunctions } from '../../test/support/harness';

interface Transition {
  event: string;
  next?: string;
}
interface State {
  name: string;
  type: string;
  transitions: Transition[];
  properties: Record<string, unknown>;
}
interface Flow {
  description: string;
  states: State[];
  initial_state: string;
  flags: { allow_concurrent_calls: boolean };
}
interface KeyValue {
  key: string;
  value: string;
}

/** The request fields of the contract, per function. */
const TRANSFER_TO_QUEUE_FIELDS = [
  'interactionSid',
  'channelSid',
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
];
const CANCEL_TRANSFER_FIELDS = ['interactionSid', 'channelSid', 'taskSid', 'reason', 'idempotencyKey'];
/** Task attributes the functions set themselves (contract, "What is sent to Twilio"). */
const SERVER_ATTRIBUTE_KEYS = [
  'transferTargetType',
  'transferTargetSid',
  'transferType',
  'transferredByWorkerSid',
  'transferredFromTaskSid',
  'transferRequestKey',
  'workerSidsInConversation',
  'transferQueueSid',
  'transferClose',
];

interface Example {
  file: string;
  widgetType: 'run-function' | 'make-http-request';
  widgetName: string;
  path: string;
  fields: string[];
  required: string[];
}

const EXAMPLES: Example[] = [
  {
    file: 'transfer-to-queue.run-function.json',
    widgetType: 'run-function',
    widgetName: 'transfer_to_queue',
    path: '/transfer-to-queue',
    fields: TRANSFER_TO_QUEUE_FIELDS,
    required: ['interactionSid', 'channelSid', 'queueSid', 'idempotencyKey'],
  },
  {
    file: 'transfer-to-queue.http-request.json',
    widgetType: 'make-http-request',
    widgetName: 'transfer_to_queue',
    path: '/transfer-to-queue',
    fields: TRANSFER_TO_QUEUE_FIELDS,
    required: ['interactionSid', 'channelSid', 'queueSid', 'idempotencyKey'],
  },
  {
    file: 'cancel-transfer.http-request.json',
    widgetType: 'make-http-request',
    widgetName: 'cancel_transfer',
    path: '/cancel-transfer',
    fields: CANCEL_TRANSFER_FIELDS,
    required: ['interactionSid', 'channelSid', 'taskSid', 'idempotencyKey'],
  },
];

const loadFlow = (file: string): Flow => JSON.parse(readFileSync(join(__dirname, file), 'utf8')) as Flow;
const fakeSid = (prefix: string): string => prefix + randomBytes(16).toString('hex');

function onlyState(flow: Flow, type: string): State {
  const states = flow.states.filter((state) => state.type === type);
  expect(states).toHaveLength(1);
  return states[0] as State;
}

const LIQUID_REFERENCE = /\{\{\s*([^}|\s]+)\s*\}\}/g;

/** The `{{ … }}` references of a template, e.g. `flow.data.interactionSid`. */
const liquidReferences = (template: string): string[] => [...template.matchAll(LIQUID_REFERENCE)].map((match) => match[1] as string);

/** Fills in `{{ path }}` references the way Studio would; every reference must be known. */
function fillLiquid(template: string, values: Record<string, string>): string {
  const filled = template.replace(LIQUID_REFERENCE, (_, path: string) => {
    const value = values[path];
    if (value === undefined) throw new Error(`no test value for {{${path}}}`);
    return value;
  });
  expect(filled).not.toMatch(/\{\{|\{%/);
  return filled;
}

/** Variables a flow sets with set-variables widgets, with their values. */
function flowVariables(flow: Flow): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const state of flow.states.filter((candidate) => candidate.type === 'set-variables')) {
    for (const variable of state.properties.variables as KeyValue[]) variables[`flow.variables.${variable.key}`] = variable.value;
  }
  return variables;
}

/** The fields a flow's widget sends, as key -> template. */
function sentFields(flow: Flow): Record<string, string> {
  const runFunction = flow.states.find((state) => state.type === 'run-function');
  if (runFunction) return Object.fromEntries((runFunction.properties.parameters as KeyValue[]).map(({ key, value }) => [key, value]));
  const raw = String(onlyState(flow, 'make-http-request').properties.body);
  // Parse with every Liquid reference replaced by a string, to see the field names.
  const body = JSON.parse(raw.replace(/\{\{[^}]*\}\}/g, 'x')) as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(body).map(([key, value]) => {
      const template = new RegExp(`"${key}"\\s*:\\s*"([^"]*\\{\\{[^"]*)"`).exec(raw)?.[1];
      return [key, template ?? JSON.stringify(value)];
    }),
  );
}

describe.each(EXAMPLES)('$file', (example) => {
  const flow = loadFlow(example.file);

  test('is a well-formed Studio flow: named states, known transitions, REST API trigger wired', () => {
    expect(typeof flow.description).toBe('string');
    expect(typeof flow.flags.allow_concurrent_calls).toBe('boolean');
    const names = flow.states.map((state) => state.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain(flow.initial_state);
    for (const state of flow.states) {
      expect(typeof state.type).toBe('string');
      expect(typeof state.properties).toBe('object');
      for (const transition of state.transitions) {
        expect(typeof transition.event).toBe('string');
        if (transition.next !== undefined) expect(names).toContain(transition.next);
      }
    }
    const trigger = flow.states.find((state) => state.name === flow.initial_state);
    expect(trigger?.type).toBe('trigger');
    expect(trigger?.transitions.find((transition) => transition.event === 'incomingRequest')?.next).toBeDefined();
  });

  test(`has one ${example.widgetType} widget, ${example.widgetName}, calling ${example.path} at a placeholder domain`, () => {
    const widget = onlyState(flow, example.widgetType);
    expect(widget.name).toBe(example.widgetName);
    const url = new URL(String(widget.properties.url));
    expect(url.protocol).toBe('https:');
    expect(url.hostname).toBe('your-service-1234-dev.twil.io');
    expect(url.pathname).toBe(example.path);
    expect(widget.transitions.map((transition) => transition.event).sort()).toEqual(
      example.widgetType === 'run-function' ? ['fail', 'success'] : ['failed', 'success'],
    );
  });

  test('sends only fields of the contract, all required ones, each from the same-named flow.data key or a flow variable', () => {
    const fields = sentFields(flow);
    expect(example.fields).toEqual(expect.arrayContaining(Object.keys(fields)));
    expect(Object.keys(fields)).toEqual(expect.arrayContaining(example.required));
    const defined = flowVariables(flow);
    for (const [field, template] of Object.entries(fields)) {
      if (field === 'idempotencyKey') continue;
      for (const reference of liquidReferences(template)) {
        if (reference.startsWith('flow.data.')) expect(reference).toBe(`flow.data.${field}`);
        else expect(Object.keys(defined)).toContain(reference);
      }
    }
  });

  test('the idempotency key is the flow, the execution and the widget: the same for every retry within one execution', () => {
    // flow.flow_sid is the Flow (FW…), flow.sid the Execution (FN…); the widget name keeps two widgets of one execution apart.
    expect(sentFields(flow).idempotencyKey).toBe(`{{flow.flow_sid}}:{{flow.sid}}:${example.widgetName}`);
  });

  test('does not try to set attributes the functions own', () => {
    const attributes = sentFields(flow).attributes;
    const keys = attributes === undefined ? [] : Object.keys(JSON.parse(attributes) as object);
    expect(keys.filter((key) => SERVER_ATTRIBUTE_KEYS.includes(key))).toEqual([]);
  });
});

const runFunctionFlow = loadFlow('transfer-to-queue.run-function.json');
const httpRequestFlow = loadFlow('transfer-to-queue.http-request.json');
const cancelFlow = loadFlow('cancel-transfer.http-request.json');

test('the transfer flows name their destination queue with a placeholder SID', () => {
  for (const flow of [runFunctionFlow, httpRequestFlow]) expect(Object.values(flowVariables(flow))).toEqual(['WQ' + 'x'.repeat(32)]);
});

test('the Run Function widget names its service, environment and function by placeholder SIDs', () => {
  expect(onlyState(runFunctionFlow, 'run-function').properties).toMatchObject({
    service_sid: 'ZS' + 'x'.repeat(32),
    environment_sid: 'ZE' + 'x'.repeat(32),
    function_sid: 'ZH' + 'x'.repeat(32),
  });
});

test.each([
  ['transfer', httpRequestFlow],
  ['cancel', cancelFlow],
])('the %s Make HTTP Request widget POSTs JSON with Basic credentials in the URL and no Twilio auth', (_, flow) => {
  const widget = onlyState(flow, 'make-http-request');
  expect(widget.properties).toMatchObject({ method: 'POST', content_type: 'application/json;charset=utf-8', add_twilio_auth: false });
  const url = new URL(String(widget.properties.url));
  expect(url.username).toBe('your-basic-auth-user');
  expect(url.password).toBe('your-basic-auth-password');
});

describe('the flows against the functions', () => {
  const basicUrl = new URL(String(onlyState(httpRequestFlow, 'make-http-request').properties.url));
  const basicUser = decodeURIComponent(basicUrl.username);
  const basicPassword = decodeURIComponent(basicUrl.password);
  const basicAuthorization = (password = basicPassword) => 'Basic ' + Buffer.from(`${basicUser}:${password}`).toString('base64');
  // Every invite names a workflow (v3): the service's default, which the harness creates in the stand-in's workspace.
  const defaultWorkflowSid = 'WW' + 'c3'.repeat(16);
  const harness = useFunctions({
    settings: {
      TRANSFER_BASIC_AUTH_USER: basicUser,
      TRANSFER_BASIC_AUTH_PASSWORD: basicPassword,
      TRANSFER_WORKFLOW_SID: defaultWorkflowSid,
    },
    forkPerRequest: false,
  });

  /**
   * What one execution would hold: REST API parameters as flow.data, its flow and execution SIDs, the queue variable
   * as a real SID. The interaction, its channel and the queue exist at the stand-in, as they would at Twilio.
   */
  function executionValues(data: Record<string, string>) {
    const sids = transferSids(harness.standin);
    return {
      sids,
      values: {
        'flow.flow_sid': fakeSid('FW'),
        'flow.sid': fakeSid('FN'),
        'flow.data.interactionSid': sids.interactionSid,
        'flow.data.channelSid': sids.channelSid,
        'flow.data.workflowSid': '',
        'flow.data.taskSid': '',
        'flow.data.transferType': '',
        'flow.data.participantSid': '',
        'flow.data.reason': '',
        'flow.variables.transferQueueSid': sids.queueSid,
        ...data,
      },
    };
  }

  const filledBody = (flow: Flow, values: Record<string, string>): unknown =>
    JSON.parse(fillLiquid(String(onlyState(flow, 'make-http-request').properties.body), values));

  test('Run Function: the signed form request creates a cold transfer to the queue that closes the agent on acceptance', async () => {
    const { sids, values } = executionValues({ 'flow.data.transferType': 'cold' });
    // v3: participantSid must be an agent participant of the channel; the workspace sends its events to /transfer-events.
    const participantSid = joinAsAgent(harness.standin, sids, sids.workerSid);
    values['flow.data.participantSid'] = participantSid;
    harness.standin.changeWorkspace(TEST_WORKSPACE_SID, { eventCallbackUrl: harness.url('/transfer-events') });
    const parameters = onlyState(runFunctionFlow, 'run-function').properties.parameters as KeyValue[];
    const fields = Object.fromEntries(parameters.map(({ key, value }) => [key, fillLiquid(value, values)]));
    const url = harness.url('/transfer-to-queue');

    const answer = await postForm(url, fields, { 'X-Twilio-Signature': getExpectedTwilioSignature(TEST_AUTH_TOKEN, url, fields) });

    expect(answer.status).toBe(201);
    expect(answer.json).toMatchObject({
      target: { type: 'queue', sid: sids.queueSid },
      transferType: 'cold',
      participantClosed: false,
      participantCloses: 'on-accept',
      warnings: [],
    });
    const [invite] = harness.standin.requestsTo('invite-create');
    expect(invite?.routing?.properties).toMatchObject({
      queue_sid: sids.queueSid,
      workflow_sid: defaultWorkflowSid,
      attributes: {
        transferredVia: 'studio',
        transferTargetType: 'queue',
        workerSidsInConversation: [sids.workerSid],
        transferClose: { participantSid, status: 'closed' },
      },
    });
    expect(invite?.routing?.properties.attributes).not.toHaveProperty('transferredByWorkerSid');
    // The transferring agent stays with the customer until the new agent accepts.
    expect(harness.standin.requestsTo('participant-update')).toHaveLength(0);
  });

  test('Make HTTP Request: the JSON body with the URL credentials creates a warm transfer through the named workflow; unset flow.data is ignored', async () => {
    const workflowSid = harness.standin.addWorkflow({ workspaceSid: TEST_WORKSPACE_SID, friendlyName: 'Studio transfers' });
    const { sids, values } = executionValues({ 'flow.data.workflowSid': workflowSid });

    const answer = await postJson(harness.url(basicUrl.pathname), filledBody(httpRequestFlow, values), {
      Authorization: basicAuthorization(),
    });

    expect(answer.status).toBe(201);
    expect(answer.json).toMatchObject({
      target: { type: 'queue', sid: sids.queueSid },
      transferType: 'warm',
      participantClosed: false,
      participantCloses: null,
    });
    expect(harness.standin.requestsTo('invite-create')[0]?.routing?.properties).toMatchObject({
      queue_sid: sids.queueSid,
      workflow_sid: workflowSid,
      attributes: { transferredVia: 'studio', transferType: 'warm' },
    });
  });

  test('Make HTTP Request: the step sent again within one execution is answered once, then replayed', async () => {
    const { values } = executionValues({});
    const body = filledBody(httpRequestFlow, values);
    const send = () => postJson(harness.url(basicUrl.pathname), body, { Authorization: basicAuthorization() });

    const first: HttpResult = await send();
    const again: HttpResult = await send();

    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json.inviteSid).toBe(first.json.inviteSid);
    expect(harness.standin.requestsTo('invite-create')).toHaveLength(1);
  });

  test('Make HTTP Request: wrong Basic credentials are refused with 401', async () => {
    const { values } = executionValues({});
    const answer = await postJson(harness.url('/transfer-to-queue'), filledBody(httpRequestFlow, values), {
      Authorization: basicAuthorization('not-the-password'),
    });
    expect(answer.status).toBe(401);
    expect(harness.standin.requestsTo('invite-create')).toHaveLength(0);
  });

  // The functions gain /cancel-transfer with the contract's v2; until it is built there is nothing to call.
  const cancelBuilt = existsSync(join(PROJECT_ROOT, 'dist', 'functions', 'cancel-transfer.js'));
  (cancelBuilt ? test : test.skip)(
    'cancel: the filled request is authenticated by Basic and a task that is no transfer of the channel is 404',
    async () => {
      const { values } = executionValues({ 'flow.data.taskSid': fakeSid('WT'), 'flow.data.reason': 'Customer left' });
      const body = filledBody(cancelFlow, values);
      const cancelPath = new URL(String(onlyState(cancelFlow, 'make-http-request').properties.url)).pathname;

      const refused = await postJson(harness.url(cancelPath), body, { Authorization: basicAuthorization('not-the-password') });
      const answered = await postJson(harness.url(cancelPath), body, { Authorization: basicAuthorization() });

      expect(refused.status).toBe(401);
      expect(answered.status).toBe(404);
      expect(answered.json).toMatchObject({ error: { code: 'not_found' } });
    },
  );

  (cancelBuilt ? test : test.skip)(
    'cancel: the warm transfer the transfer flow made, still pending, is canceled with the 201 taskSid (the agent is still there)',
    async () => {
      const { sids, values } = executionValues({});
      joinAsAgent(harness.standin, sids, fakeSid('WK')); // the agent talking to the customer, on an assigned task
      const transfer = await postJson(harness.url(basicUrl.pathname), filledBody(httpRequestFlow, values), {
        Authorization: basicAuthorization(),
      });
      expect(transfer.status).toBe(201);
      const cancelValues = { ...values, 'flow.data.taskSid': String(transfer.json.taskSid), 'flow.data.reason': 'Customer left' };
      const cancelPath = new URL(String(onlyState(cancelFlow, 'make-http-request').properties.url)).pathname;

      const canceled = await postJson(harness.url(cancelPath), filledBody(cancelFlow, cancelValues), {
        Authorization: basicAuthorization(),
      });

      expect(canceled.status).toBe(200);
      expect(canceled.json).toEqual({ taskSid: transfer.json.taskSid, canceled: true });
      expect(harness.standin.requestsTo('invite-create')[0]?.routing?.properties.queue_sid).toBe(sids.queueSid);
    },
  );
});
