/**
 * The TaskRouter workflow example, evaluated against the attributes the
 * functions really set: the routing is built by the functions' own code
 * (parseTransferRequest + buildRouting), then the workflow's filter and target
 * expressions are evaluated with a small evaluator for the subset of the
 * TaskRouter expression language the example uses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Environment, parseSettings } from '../../src/config';
import type { Caller } from '../../src/core/authenticate';
import { buildRouting, SERVER_ATTRIBUTE_KEYS } from '../../src/core/routing';
import { parseTransferRequest, type TargetType } from '../../src/core/transfer-request';
import type { WorkspaceTask } from '../../src/twilio/taskrouter';
import { baseSettings } from '../../test/support/functions-server';
import { newSid } from '../../dev/twilio-standin';

interface Target {
  queue: string;
  expression?: string;
  priority?: number;
  timeout?: number;
}
interface Filter {
  filter_friendly_name: string;
  expression: string;
  targets: Target[];
}
interface WorkflowConfiguration {
  task_routing: { filters: Filter[]; default_filter: { queue: string } };
}

const RAW = readFileSync(join(__dirname, 'transfer-workflow.json'), 'utf8');
const PLACEHOLDER = /WQx{31}\d/g;
const workflow = JSON.parse(RAW) as WorkflowConfiguration;

/** The workflow as a user would have it: every placeholder replaced by a real queue SID. */
function adaptedWorkflow(): { workflow: WorkflowConfiguration; queueFor: Map<string, string> } {
  const queueFor = new Map<string, string>();
  for (const placeholder of RAW.match(PLACEHOLDER) ?? []) if (!queueFor.has(placeholder)) queueFor.set(placeholder, newSid('WQ'));
  const text = RAW.replace(PLACEHOLDER, (placeholder) => queueFor.get(placeholder) as string);
  return { workflow: JSON.parse(text) as WorkflowConfiguration, queueFor };
}

// ---------------------------------------------------------------------------
// A TaskRouter expression evaluator for: ==, !=, AND, OR, parentheses, quoted
// strings, numbers, true/false and dotted keys. A missing key is null.
// ---------------------------------------------------------------------------

type Value = string | number | boolean | null;
type Resolve = (key: string) => Value;

function tokenize(expression: string): string[] {
  const tokens: string[] = [];
  const pattern = /\s*(\(|\)|==|!=|"[^"]*"|'[^']*'|[A-Za-z_][\w.]*|\d+(?:\.\d+)?)/y;
  let match: RegExpExecArray | null;
  while (pattern.lastIndex < expression.length && (match = pattern.exec(expression)) !== null) tokens.push(match[1] as string);
  if (expression.slice(pattern.lastIndex).trim() !== '') throw new Error(`cannot read expression: ${expression}`);
  return tokens;
}

/** The keys an expression reads (not constants, operators or logical words). */
function keysOf(expression: string): string[] {
  return tokenize(expression).filter((token) => /^[A-Za-z_]/.test(token) && !/^(AND|OR|true|false)$/i.test(token));
}

function evaluate(expression: string, resolve: Resolve): boolean {
  const tokens = tokenize(expression);
  let position = 0;
  const peek = () => tokens[position];
  const take = () => {
    const token = tokens[position++];
    if (token === undefined) throw new Error(`unexpected end of: ${expression}`);
    return token;
  };
  const operand = (): Value => {
    const token = take();
    if (/^["']/.test(token)) return token.slice(1, -1);
    if (/^\d/.test(token)) return Number(token);
    if (/^(true|false)$/i.test(token)) return token.toLowerCase() === 'true';
    return resolve(token);
  };
  const comparison = (): boolean => {
    if (peek() === '(') {
      take();
      const inner = or();
      if (take() !== ')') throw new Error(`missing ) in: ${expression}`);
      return inner;
    }
    const left = operand();
    const operator = take();
    const right = operand();
    if (operator === '==') return left === right;
    if (operator === '!=') return left !== right;
    throw new Error(`unsupported operator ${operator} in: ${expression}`);
  };
  const and = (): boolean => {
    let result = comparison();
    while (peek()?.toUpperCase() === 'AND') {
      take();
      result = comparison() && result;
    }
    return result;
  };
  const or = (): boolean => {
    let result = and();
    while (peek()?.toUpperCase() === 'OR') {
      take();
      result = and() || result;
    }
    return result;
  };
  const result = or();
  if (position !== tokens.length) throw new Error(`trailing tokens in: ${expression}`);
  return result;
}

function asValue(value: unknown): Value {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : null;
}

/** Filter expressions read the task's attributes directly. */
const filterMatches = (filter: Filter, attributes: Record<string, unknown>) =>
  evaluate(filter.expression, (key) => asValue(attributes[key]));

/** Target expressions read `task.<attribute>` and `worker.<property>`. */
function targetAccepts(target: Target, attributes: Record<string, unknown>, worker: { sid: string }): boolean {
  if (target.expression === undefined) return true;
  return evaluate(target.expression, (key) => {
    const [scope, name = ''] = key.split(/\.(.*)/s);
    if (scope === 'task') return asValue(attributes[name]);
    if (scope === 'worker') return asValue((worker as Record<string, unknown>)[name]);
    throw new Error(`unknown scope in ${key}`);
  });
}

// ---------------------------------------------------------------------------
// What the functions send
// ---------------------------------------------------------------------------

function routingFor(targetType: TargetType, targetSid: string, caller: Caller, env: Environment = {}, originalTask?: WorkspaceTask) {
  const settings = parseSettings({ ...baseSettings(), ...env });
  const params: Record<string, string> = { interactionSid: newSid('KD'), channelSid: newSid('UO') };
  params[targetType === 'worker' ? 'workerSid' : 'queueSid'] = targetSid;
  if (originalTask !== undefined) params.taskSid = originalTask.sid;
  return buildRouting({ transfer: parseTransferRequest(params, targetType, settings), caller, settings, originalTask }).properties;
}

/** A task that was itself created by an earlier transfer: its attributes carry that transfer's keys. */
function earlierTransferTask(queueSid: string): WorkspaceTask {
  return {
    sid: newSid('WT'),
    attributes: { name: 'Ada', transferTargetType: 'worker', transferTargetSid: newSid('WK'), transferredByWorkerSid: newSid('WK') },
    taskChannelUniqueName: 'chat',
    workflowSid: newSid('WW'),
    queueSid,
    assignmentStatus: 'assigned',
    reason: undefined,
    etag: '1',
  };
}

const flexAgent = (workerSid: string): Caller => ({ kind: 'flex-token', workerSid, roles: ['agent'] });

const firstMatch = (configuration: WorkflowConfiguration, attributes: Record<string, unknown>) =>
  configuration.task_routing.filters.find((filter) => filterMatches(filter, attributes));

// ---------------------------------------------------------------------------

test('is a workflow configuration with named filters, targets on placeholder queues and no priority override', () => {
  const { filters, default_filter } = workflow.task_routing;
  expect(filters.length).toBeGreaterThan(0);
  expect(default_filter.queue).toMatch(/^WQx{31}\d$/);
  for (const filter of filters) {
    expect(filter.filter_friendly_name).toEqual(expect.any(String));
    expect(() => tokenize(filter.expression)).not.toThrow();
    expect(filter.targets.length).toBeGreaterThan(0);
    for (const target of filter.targets) {
      expect(target.queue).toMatch(/^WQx{31}\d$/);
      if (target.timeout !== undefined) expect(Number.isInteger(target.timeout) && target.timeout > 0).toBe(true);
      // A target priority would replace the priority the request asked for.
      expect(target).not.toHaveProperty('priority');
    }
  }
});

test('reads only attributes the functions set, and only the worker SID', () => {
  const owned: readonly string[] = SERVER_ATTRIBUTE_KEYS;
  const read = new Set<string>();
  for (const filter of workflow.task_routing.filters) {
    for (const key of keysOf(filter.expression)) read.add(key);
    for (const target of filter.targets) {
      for (const key of keysOf(target.expression ?? '')) {
        if (key.startsWith('worker.')) expect(key).toBe('worker.sid');
        else read.add(key.replace(/^task\./, ''));
      }
    }
  }
  expect([...read].filter((key) => !owned.includes(key))).toEqual([]);
  expect([...read].sort()).toEqual(['transferTargetSid', 'transferTargetType', 'transferredByWorkerSid']);
});

test('an agent transfer is offered only to the chosen worker, through the agent transfer queue', () => {
  const { workflow: adapted } = adaptedWorkflow();
  const agentQueue = adapted.task_routing.default_filter.queue;
  const chosen = newSid('WK');
  const properties = routingFor('worker', chosen, flexAgent(newSid('WK')), { TRANSFER_AGENT_QUEUE_SID: agentQueue });

  const filter = firstMatch(adapted, properties.attributes);
  expect(filter?.filter_friendly_name).toBe('Transfer to agent');
  const targets = filter?.targets ?? [];
  expect(targets.map((target) => target.queue)).toEqual([properties.queue_sid]);
  expect(targets.every((target) => targetAccepts(target, properties.attributes, { sid: chosen }))).toBe(true);
  expect(targets.some((target) => targetAccepts(target, properties.attributes, { sid: newSid('WK') }))).toBe(false);
});

test('a queue transfer goes to the named queue, first to anyone but the transferring agent', () => {
  const { workflow: adapted } = adaptedWorkflow();
  const queueFilters = adapted.task_routing.filters.filter((filter) => filter.filter_friendly_name.startsWith('Transfer to queue'));
  expect(queueFilters.length).toBeGreaterThanOrEqual(2);
  for (const expected of queueFilters) {
    const queueSid = expected.targets[0]?.queue as string;
    const transferring = newSid('WK');
    const properties = routingFor('queue', queueSid, flexAgent(transferring));

    const filter = firstMatch(adapted, properties.attributes);
    expect(filter?.filter_friendly_name).toBe(expected.filter_friendly_name);
    expect(new Set(filter?.targets.map((target) => target.queue))).toEqual(new Set([properties.queue_sid]));
    const [first, ...rest] = filter?.targets ?? [];
    expect(first && targetAccepts(first, properties.attributes, { sid: transferring })).toBe(false);
    expect(first && targetAccepts(first, properties.attributes, { sid: newSid('WK') })).toBe(true);
    // The last step has no condition: the task is never stranded (sole agent, or a Studio transfer without transferredByWorkerSid).
    expect(rest.at(-1)?.expression).toBeUndefined();
    expect(first?.timeout).toEqual(expect.any(Number));
  }
});

test('a transfer to a queue without a filter, or a task that is no transfer, falls to the default filter', () => {
  const { workflow: adapted } = adaptedWorkflow();
  const unlisted = routingFor('queue', newSid('WQ'), { kind: 'basic' });
  expect(firstMatch(adapted, unlisted.attributes)).toBeUndefined();
  expect(firstMatch(adapted, { channelType: 'web', conversationSid: newSid('CH') })).toBeUndefined();
});

test('a task transferred again routes by the new transfer, never by the keys an earlier transfer left on it', () => {
  const { workflow: adapted } = adaptedWorkflow();
  const queueFilter = adapted.task_routing.filters.find((filter) => filter.filter_friendly_name.startsWith('Transfer to queue'));
  const queueSid = queueFilter?.targets[0]?.queue as string;
  const transferring = newSid('WK');
  const properties = routingFor(
    'queue',
    queueSid,
    flexAgent(transferring),
    {},
    earlierTransferTask(adapted.task_routing.default_filter.queue),
  );

  expect(firstMatch(adapted, properties.attributes)?.filter_friendly_name).toBe(queueFilter?.filter_friendly_name);
  expect(properties.attributes).toMatchObject({ name: 'Ada', transferTargetType: 'queue', transferredByWorkerSid: transferring });
});

test("an agent transfer of a task goes through that task's queue when no transfer queue is configured", () => {
  const { workflow: adapted } = adaptedWorkflow();
  const agentQueue = adapted.task_routing.default_filter.queue;
  const chosen = newSid('WK');
  const properties = routingFor('worker', chosen, flexAgent(newSid('WK')), {}, earlierTransferTask(agentQueue));

  expect(properties.queue_sid).toBe(agentQueue);
  const filter = firstMatch(adapted, properties.attributes);
  expect(filter?.filter_friendly_name).toBe('Transfer to agent');
  expect(filter?.targets.every((target) => targetAccepts(target, properties.attributes, { sid: chosen }))).toBe(true);
});
