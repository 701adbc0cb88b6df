/**
 * The Studio flow examples: well-formed flow definitions whose transfer widget
 * sends exactly the fields the function reads, and, once its Liquid is filled
 * in, is accepted by the real function (signed for Run Function, Basic for
 * Make HTTP Request).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getExpectedTwilioSignature } from 'twilio';
import { parseSettings } from '../../src/lib/config';
import { InvalidRequestError } from '../../src/lib/errors';
import { SERVER_ATTRIBUTE_KEYS } from '../../src/lib/routing';
import { parseTransferRequest } from '../../src/lib/transfer-request';
import { baseSettings, TEST_AUTH_TOKEN } from '../../test/support/functions-server';
import { postForm, postJson, transferSids, useFunctions } from '../../test/support/harness';
import { newSid } from '../../test/support/twilio-standin';

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

const loadFlow = (file: string): Flow => JSON.parse(readFileSync(join(__dirname, file), 'utf8')) as Flow;
const runFunctionFlow = loadFlow('transfer-to-queue.run-function.json');
const httpRequestFlow = loadFlow('transfer-to-queue.http-request.json');

function onlyState(flow: Flow, type: string): State {
  const states = flow.states.filter((state) => state.type === type);
  expect(states).toHaveLength(1);
  return states[0] as State;
}

/** The `{{ … }}` references of a template, e.g. `flow.data.interactionSid`. */
const liquidReferences = (template: string): string[] =>
  [...template.matchAll(/\{\{\s*([^}|\s]+)\s*\}\}/g)].map((match) => match[1] as string);

/** Fills in `{{ path }}` references the way Studio would; every reference must be known. */
function fillLiquid(template: string, values: Record<string, string>): string {
  const filled = template.replace(/\{\{\s*([^}|\s]+)\s*\}\}/g, (_, path: string) => {
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

const settings = parseSettings(baseSettings());

/** Whether /transfer-to-queue reads this field: a value of the wrong type must be reported against it. */
function queueFunctionReads(field: string): boolean {
  try {
    parseTransferRequest({ [field]: [] }, 'queue', settings);
  } catch (thrown) {
    if (thrown instanceof InvalidRequestError) return thrown.problems.some((problem) => problem.field === field);
    throw thrown;
  }
  return false;
}

/** The transfer fields a flow sends, as key -> template. */
function sentFields(flow: Flow): Record<string, string> {
  const runFunction = flow.states.find((state) => state.type === 'run-function');
  if (runFunction) return Object.fromEntries((runFunction.properties.parameters as KeyValue[]).map(({ key, value }) => [key, value]));
  const httpRequest = onlyState(flow, 'make-http-request');
  // Parse with every Liquid reference replaced by a string, to see the field names.
  const body = JSON.parse(String(httpRequest.properties.body).replace(/\{\{[^}]*\}\}/g, 'x')) as Record<string, unknown>;
  const raw = String(httpRequest.properties.body);
  return Object.fromEntries(
    Object.entries(body).map(([key, value]) => {
      const template = new RegExp(`"${key}"\\s*:\\s*"(\\{\\{[^}]*\\}\\})"`).exec(raw)?.[1];
      return [key, template ?? JSON.stringify(value)];
    }),
  );
}

describe.each([
  ['run-function', runFunctionFlow],
  ['make-http-request', httpRequestFlow],
])('the %s flow definition', (widgetType, flow) => {
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

  test('sends only fields the function reads, all required ones, each from the same-named flow.data key', () => {
    const fields = sentFields(flow);
    for (const field of Object.keys(fields)) expect([field, queueFunctionReads(field)]).toEqual([field, true]);
    expect(Object.keys(fields)).toEqual(expect.arrayContaining(['interactionSid', 'channelSid', 'queueSid']));
    const defined = flowVariables(flow);
    for (const [field, template] of Object.entries(fields)) {
      for (const reference of liquidReferences(template)) {
        if (reference.startsWith('flow.data.')) expect(reference).toBe(`flow.data.${field}`);
        else expect(Object.keys(defined)).toContain(reference);
      }
    }
  });

  test('does not try to set attributes the function owns', () => {
    const attributes = sentFields(flow).attributes;
    const owned: readonly string[] = SERVER_ATTRIBUTE_KEYS;
    const keys = attributes === undefined ? [] : Object.keys(JSON.parse(attributes) as object);
    expect(keys.filter((key) => owned.includes(key))).toEqual([]);
  });

  test(`has one ${widgetType} widget calling /transfer-to-queue, with obvious placeholders`, () => {
    const widget = onlyState(flow, widgetType);
    const url = new URL(String(widget.properties.url));
    expect(url.protocol).toBe('https:');
    expect(url.hostname).toBe('your-service-1234-dev.twil.io');
    expect(url.pathname).toMatch(/\/transfer-to-queue$/);
    expect(Object.values(flowVariables(flow))).toEqual(['WQ' + 'x'.repeat(32)]);
    expect(widget.transitions.map((transition) => transition.event).sort()).toEqual(
      widgetType === 'run-function' ? ['fail', 'success'] : ['failed', 'success'],
    );
  });
});

test('the Run Function widget names its service, environment and function by placeholder SIDs', () => {
  const widget = onlyState(runFunctionFlow, 'run-function');
  expect(widget.properties).toMatchObject({
    service_sid: 'ZS' + 'x'.repeat(32),
    environment_sid: 'ZE' + 'x'.repeat(32),
    function_sid: 'ZH' + 'x'.repeat(32),
  });
});

test('the Make HTTP Request widget POSTs JSON with Basic credentials in the URL and no Twilio auth', () => {
  const widget = onlyState(httpRequestFlow, 'make-http-request');
  expect(widget.properties).toMatchObject({ method: 'POST', content_type: 'application/json;charset=utf-8', add_twilio_auth: false });
  const url = new URL(String(widget.properties.url));
  expect(url.username).toBe('your-basic-auth-user');
  expect(url.password).toBe('your-basic-auth-password');
});

describe('the flows against the function', () => {
  const basicUrl = new URL(String(onlyState(httpRequestFlow, 'make-http-request').properties.url));
  const basicUser = decodeURIComponent(basicUrl.username);
  const basicPassword = decodeURIComponent(basicUrl.password);
  const harness = useFunctions({
    settings: { TRANSFER_BASIC_AUTH_USER: basicUser, TRANSFER_BASIC_AUTH_PASSWORD: basicPassword },
    forkPerRequest: false,
  });

  /** What an execution would hold: REST API parameters as flow.data, the queue variable replaced by a real SID. */
  function executionValues(data: Record<string, string>) {
    const sids = transferSids();
    return {
      sids,
      values: {
        'flow.data.interactionSid': sids.interactionSid,
        'flow.data.channelSid': sids.channelSid,
        'flow.data.taskSid': '',
        'flow.data.transferType': '',
        'flow.data.participantSid': '',
        'flow.variables.transferQueueSid': sids.queueSid,
        ...data,
      },
    };
  }

  test('Run Function: the signed form request creates a cold transfer to the queue', async () => {
    const participantSid = newSid('UT');
    const taskSid = newSid('WT');
    const { sids, values } = executionValues({
      'flow.data.transferType': 'cold',
      'flow.data.participantSid': participantSid,
      'flow.data.taskSid': taskSid,
    });
    harness.standin.setParticipants(sids.interactionSid, sids.channelSid, [{ sid: participantSid }]);
    const parameters = onlyState(runFunctionFlow, 'run-function').properties.parameters as KeyValue[];
    const fields = Object.fromEntries(parameters.map(({ key, value }) => [key, fillLiquid(value, values)]));
    const url = harness.url('/transfer-to-queue');

    const answer = await postForm(url, fields, { 'X-Twilio-Signature': getExpectedTwilioSignature(TEST_AUTH_TOKEN, url, fields) });

    expect(answer.status).toBe(201);
    expect(answer.json).toMatchObject({ target: { type: 'queue', sid: sids.queueSid }, transferType: 'cold', participantClosed: true });
    const [invite] = harness.standin.requestsTo('invite');
    expect(invite?.routing?.properties).toMatchObject({
      queue_sid: sids.queueSid,
      attributes: { transferredVia: 'studio', transferTargetType: 'queue', transferredFromTaskSid: taskSid },
    });
    expect(invite?.routing?.properties.attributes).not.toHaveProperty('transferredByWorkerSid');
  });

  test('Make HTTP Request: the JSON body with the URL credentials creates a warm transfer; unset flow.data is ignored', async () => {
    const { sids, values } = executionValues({});
    const body = JSON.parse(fillLiquid(String(onlyState(httpRequestFlow, 'make-http-request').properties.body), values)) as unknown;

    const answer = await postJson(harness.url(basicUrl.pathname), body, {
      Authorization: 'Basic ' + Buffer.from(`${basicUser}:${basicPassword}`).toString('base64'),
    });

    expect(answer.status).toBe(201);
    expect(answer.json).toMatchObject({ target: { type: 'queue', sid: sids.queueSid }, transferType: 'warm', participantClosed: false });
    expect(harness.standin.requestsTo('invite')[0]?.routing?.properties).toMatchObject({
      queue_sid: sids.queueSid,
      attributes: { transferredVia: 'studio', transferType: 'warm' },
    });
  });

  test('Make HTTP Request: wrong Basic credentials are refused with 401', async () => {
    const { values } = executionValues({});
    const body = JSON.parse(fillLiquid(String(onlyState(httpRequestFlow, 'make-http-request').properties.body), values)) as unknown;
    const answer = await postJson(harness.url('/transfer-to-queue'), body, {
      Authorization: 'Basic ' + Buffer.from(`${basicUser}:not-the-password`).toString('base64'),
    });
    expect(answer.status).toBe(401);
    expect(harness.standin.requestsTo('invite')).toHaveLength(0);
  });
});
