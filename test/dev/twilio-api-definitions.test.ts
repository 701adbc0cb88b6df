/**
 * The stand-in against Twilio's own public API definitions (the OpenAPI
 * documents of twilio-oai, shipped in @twilio-alpha/mcp): every route it
 * answers is a path and method Twilio defines, every form field, query
 * parameter and header its handlers read is one of that operation's request
 * parameters, and every field of its success answers (at every depth the
 * definition describes) is a property of the operation's response schema.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { newSid, ROUTE_SPECS, type Route, type RouteSpec, type StandinResponse, TwilioStandin } from '../../dev/twilio-standin';
import { PROJECT_ROOT } from '../support/functions-server';

const SPEC_DIR = join(PROJECT_ROOT, 'node_modules', '@twilio-alpha', 'mcp', 'twilio-oai', 'spec', 'json');

interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}

interface OpenApi {
  paths: Record<string, Partial<Record<'get' | 'post' | 'delete', Operation>>>;
  components: { schemas: Record<string, Schema> };
}

const SPEC_FILES: Record<RouteSpec['product'], readonly string[]> = {
  'flex-api': ['twilio_flex_v1.json'],
  taskrouter: ['twilio_taskrouter_v1.json'],
  sync: ['twilio_sync_v1.json'],
  iam: ['twilio_iam_v1.json', 'twilio_iam_v2.json', 'twilio_iam_organizations.json'],
};

/** Operations Twilio publishes no definition for, and why the stand-in answers them anyway. */
const NOT_IN_TWILIO_DEFINITIONS: Partial<Record<Route, string>> = {
  'token-validate':
    'Flex token validation (iam.twilio.com/v1/Accounts/{AccountSid}/Tokens/validate) is what twilio-flex-token-validator ' +
    "calls; Twilio's OpenAPI documents do not describe it.",
};

const specs = new Map<string, OpenApi>();
function spec(file: string): OpenApi {
  let loaded = specs.get(file);
  if (!loaded) {
    loaded = JSON.parse(readFileSync(join(SPEC_DIR, file), 'utf8')) as OpenApi;
    specs.set(file, loaded);
  }
  return loaded;
}

/** A path template with its placeholders' names left out: /v1/Workspaces/{}/Tasks/{}. */
const shape = (template: string) => template.replace(/\{[^}]+\}/g, '{}');

function definitionOf(route: RouteSpec): { document: OpenApi; operation: Operation } | undefined {
  for (const file of SPEC_FILES[route.product]) {
    const document = spec(file);
    const path = Object.keys(document.paths).find((candidate) => shape(candidate) === shape(route.template));
    const operation = path === undefined ? undefined : document.paths[path]?.[route.method.toLowerCase() as 'get' | 'post' | 'delete'];
    if (operation) return { document, operation };
  }
  return undefined;
}

function resolved(document: OpenApi, schema: Schema | undefined): Schema | undefined {
  if (schema?.$ref === undefined) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  return resolved(document, document.components.schemas[name]);
}

/** Every field of `value` that the schema does not describe, as paths (at every depth the schema gives properties for). */
function undescribed(document: OpenApi, value: unknown, schema: Schema | undefined, at = ''): string[] {
  const described = resolved(document, schema);
  if (described === undefined) return [];
  if (Array.isArray(value)) return value.flatMap((item, index) => undescribed(document, item, described.items, `${at}[${index}]`));
  if (typeof value !== 'object' || value === null || described.properties === undefined) return [];
  const properties = described.properties;
  return Object.entries(value).flatMap(([key, inner]) =>
    key in properties ? undescribed(document, inner, properties[key], `${at}.${key}`) : [`${at}.${key}`],
  );
}

/** The operation's request parameters, as the stand-in names what it reads: form:Name, query:Name, header:name. */
function requestParameters(operation: Operation): Set<string> {
  const names = new Set<string>();
  for (const parameter of operation.parameters ?? []) {
    if (parameter.in === 'query') names.add(`query:${parameter.name}`);
    if (parameter.in === 'header') names.add(`header:${parameter.name.toLowerCase()}`);
  }
  const form = operation.requestBody?.content['application/x-www-form-urlencoded']?.schema;
  for (const name of Object.keys(form?.properties ?? {})) names.add(`form:${name}`);
  return names;
}

// ---------------------------------------------------------------------------
// Every route, answered with success, through the in-process entry
// ---------------------------------------------------------------------------

const ACCOUNT_SID = 'AC' + 'e5'.repeat(16);
const AUTH_TOKEN = 'D3f1n1t10nsD3f1n1t10nsD3f1n1t10n';
const standin = new TwilioStandin(ACCOUNT_SID, AUTH_TOKEN);
const answers = new Map<Route, StandinResponse[]>();

async function call(
  route: Route,
  method: string,
  url: string,
  options: { form?: Record<string, string>; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = {
    authorization: 'Basic ' + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64'),
    ...options.headers,
  };
  if (options.form) headers['content-type'] = 'application/x-www-form-urlencoded';
  const answer = await standin.handle({ method, url, headers, body: options.form ? new URLSearchParams(options.form).toString() : '' });
  if (answer.status >= 300) throw new Error(`${route} answered ${answer.status}: ${answer.body}`);
  answers.set(route, [...(answers.get(route) ?? []), answer]);
  return answer.body ? (JSON.parse(answer.body) as Record<string, unknown>) : undefined;
}

beforeAll(async () => {
  const workspaceSid = standin.addWorkspace();
  const queueSid = standin.addQueue({ workspaceSid });
  const workerSid = standin.addWorker({ workspaceSid });
  const workflowSid = standin.addWorkflow({ workspaceSid, configuration: { task_routing: { filters: [] } } });
  const assigned = standin.addTask({ workspaceSid, assignmentStatus: 'assigned', attributes: { name: 'Ada' } });
  const agentSid = newSid('UT');
  const { interactionSid, channelSid } = standin.addConversation({
    workspaceSid,
    participants: [
      { sid: newSid('UT'), type: 'customer' },
      { sid: agentSid, type: 'agent', routing_properties: { worker_sid: workerSid, task_sid: assigned } },
    ],
  });
  const channel = `https://flex-api.twilio.com/v1/Interactions/${interactionSid}/Channels/${channelSid}`;
  const workspace = `https://taskrouter.twilio.com/v1/Workspaces/${workspaceSid}`;
  const documents = 'https://sync.twilio.com/v1/Services/default/Documents';

  const routing = { properties: { workspace_sid: workspaceSid, workflow_sid: workflowSid, queue_sid: queueSid, worker_sid: workerSid } };
  const invite = await call('invite-create', 'POST', `${channel}/Invites`, { form: { Routing: JSON.stringify(routing) } });
  await call('invite-list', 'GET', `${channel}/Invites?PageSize=50&Page=0`);
  await call('participant-list', 'GET', `${channel}/Participants?PageSize=50&Page=0`);
  await call('participant-update', 'POST', `${channel}/Participants/${agentSid}`, { form: { Status: 'wrapup' } });

  const taskSid = (invite?.routing as { properties: { sid: string } }).properties.sid;
  await call('task-fetch', 'GET', `${workspace}/Tasks/${taskSid}`);
  const etag = standin.taskETag(taskSid) ?? '';
  await call('task-update', 'POST', `${workspace}/Tasks/${taskSid}`, {
    form: { Attributes: '{"a":1}', Priority: '2' },
    headers: { 'if-match': etag },
  });
  await call('task-update', 'POST', `${workspace}/Tasks/${taskSid}`, {
    form: { AssignmentStatus: 'canceled', Reason: 'Transfer canceled' },
  });
  await call('task-update', 'POST', `${workspace}/Tasks/${assigned}`, { form: { AssignmentStatus: 'completed', Reason: 'done' } });
  await call('workspace-fetch', 'GET', workspace);
  await call('workspace-update', 'POST', workspace, {
    form: { FriendlyName: 'Flex', EventCallbackUrl: 'https://example.twil.io/transfer-events', EventsFilter: 'reservation.accepted' },
  });
  await call('workflow-fetch', 'GET', `${workspace}/Workflows/${workflowSid}`);

  const document = await call('sync-create', 'POST', documents, { form: { UniqueName: 'key', Data: '{"a":1}', Ttl: '60' } });
  await call('sync-fetch', 'GET', `${documents}/key`);
  await call('sync-update', 'POST', `${documents}/${String(document?.sid)}`, {
    form: { Data: '{"a":2}', Ttl: '60' },
    headers: { 'if-match': '0' },
  });
  await call('sync-delete', 'DELETE', `${documents}/${String(document?.sid)}`);
});

const defined = ROUTE_SPECS.filter((route) => NOT_IN_TWILIO_DEFINITIONS[route.route] === undefined);

test('every defined route was answered with success above', () => {
  expect(defined.filter((route) => !answers.has(route.route)).map((route) => route.route)).toEqual([]);
});

test.each(defined.map((route) => [route.route, route] as const))(
  "%s: the path and method exist in Twilio's definitions",
  (_name, route) => {
    expect(definitionOf(route)).toBeDefined();
  },
);

test.each(defined.map((route) => [route.route, route] as const))(
  '%s: everything its handler reads is a request parameter of the operation',
  (_name, route) => {
    const definition = definitionOf(route);
    if (!definition) throw new Error(`no definition for ${route.method} ${route.template}`);
    const read = [...(standin.parametersRead.get(route.route) ?? [])];
    const parameters = requestParameters(definition.operation);
    expect(read.filter((name) => !parameters.has(name))).toEqual([]);
  },
);

test.each(defined.map((route) => [route.route, route] as const))(
  '%s: its success status is one the operation defines, and every field it answers is in the response schema',
  (_name, route) => {
    const definition = definitionOf(route);
    if (!definition) throw new Error(`no definition for ${route.method} ${route.template}`);
    for (const answer of answers.get(route.route) ?? []) {
      const response = definition.operation.responses[String(answer.status)];
      expect({ status: answer.status, defined: response !== undefined }).toEqual({ status: answer.status, defined: true });
      if (!answer.body) continue;
      const schema = response?.content?.['application/json']?.schema;
      expect(schema).toBeDefined();
      expect(undescribed(definition.document, JSON.parse(answer.body), schema)).toEqual([]);
    }
  },
);

test.each(Object.entries(NOT_IN_TWILIO_DEFINITIONS))('%s really is not in the definitions (%s)', (name) => {
  const route = ROUTE_SPECS.find((candidate) => candidate.route === name);
  expect(route).toBeDefined();
  expect(route && definitionOf(route)).toBeUndefined();
});

test('the check itself finds an undescribed field and a parameter that is not one', () => {
  const route = ROUTE_SPECS.find((candidate) => candidate.route === 'participant-update');
  const definition = route && definitionOf(route);
  if (!definition) throw new Error('no participant-update definition');
  const schema = definition.operation.responses['200']?.content?.['application/json']?.schema;
  // Twilio's participant has no `status`: an answer carrying one disagrees with the definition.
  expect(undescribed(definition.document, { sid: newSid('UT'), status: 'closed' }, schema)).toEqual(['.status']);
  expect(requestParameters(definition.operation).has('form:Status')).toBe(true);
  expect(requestParameters(definition.operation).has('form:Reason')).toBe(false);
});
