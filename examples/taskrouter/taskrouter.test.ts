/**
 * The TaskRouter workflow example, held to TaskRouter's workflow configuration
 * rules and evaluated against the attributes the functions really set: the
 * routing is built by the functions' own code (parseTransferRequest +
 * buildRouting), the functions' own check (reachesNamedAgent) must accept the
 * workflow, and the filter and target expressions are evaluated with a small
 * evaluator for the subset of the TaskRouter expression language the example
 * uses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Environment, parseSettings } from '../../src/config';
import type { Caller } from '../../src/core/authenticate';
import { buildRouting, SERVER_ATTRIBUTE_KEYS } from '../../src/core/routing';
import { reachesNamedAgent } from '../../src/core/transfer-reads';
import { MAX_TIMEOUT_SECONDS, parseTransferRequest, type TargetType } from '../../src/core/transfer-request';
import type { WorkspaceTask } from '../../src/twilio/taskrouter';
import { baseSettings } from '../../test/support/functions-server';
import { newSid } from '../../dev/twilio-standin';

interface Target {
  queue?: string;
  expression?: string;
  priority?: number;
  timeout?: number;
  known_worker_sid?: string;
  known_worker_friendly_name?: string;
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
function adaptedWorkflow(): WorkflowConfiguration {
  const queueFor = new Map<string, string>();
  for (const placeholder of RAW.match(PLACEHOLDER) ?? []) if (!queueFor.has(placeholder)) queueFor.set(placeholder, newSid('WQ'));
  return JSON.parse(RAW.replace(PLACEHOLDER, (placeholder) => queueFor.get(placeholder) as string)) as WorkflowConfiguration;
}

// ---------------------------------------------------------------------------
// TaskRouter's workflow configuration rules (twilio.com/docs/taskrouter/workflow-configuration,
// .../workflow-configuration/known-agent-routing, .../expression-syntax)
// ---------------------------------------------------------------------------

/** The keys a workflow document, a filter and a target may have. */
const TASK_ROUTING_KEYS = ['filters', 'default_filter'];
const FILTER_KEYS = ['filter_friendly_name', 'expression', 'targets'];
const TARGET_KEYS = ['queue', 'expression', 'priority', 'timeout', 'known_worker_sid', 'known_worker_friendly_name', 'skip_if', 'order_by'];
/** Worker fields a target expression may read besides the worker's attributes. */
const WORKER_FIELDS = ['sid', 'friendly_name', 'activity_sid', 'activity_name'];
/** How long a known agent is offered the task before it moves to the next target: short, the customer is waiting. */
const MAX_KNOWN_AGENT_TIMEOUT_SECONDS = 120;

// ---------------------------------------------------------------------------
// A TaskRouter expression evaluator for: ==, !=, IN, NOT IN, HAS, AND, OR,
// parentheses, quoted strings, numbers, true/false and dotted keys. A missing
// key is NULL; as TaskRouter documents, a scalar operator on an array and an
// array operator on two scalars are false.
// ---------------------------------------------------------------------------

type Value = string | number | boolean | null | readonly (string | number | boolean)[];
type Resolve = (key: string) => Value;

const KEYWORDS = /^(AND|OR|NOT|IN|HAS|true|false)$/i;

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
  return tokenize(expression).filter((token) => /^[A-Za-z_]/.test(token) && !KEYWORDS.test(token));
}

const isList = (value: Value): value is readonly (string | number | boolean)[] => Array.isArray(value);

function compare(left: Value, operator: string, right: Value): boolean {
  switch (operator) {
    case '==':
      return !isList(left) && !isList(right) && left === right;
    case '!=':
      return !isList(left) && !isList(right) && left !== right;
    case 'IN':
      return !isList(left) && left !== null && isList(right) && right.includes(left);
    case 'NOT IN':
      return !isList(left) && left !== null && isList(right) && !right.includes(left);
    case 'HAS':
      return isList(left) && !isList(right) && right !== null && left.includes(right);
    default:
      throw new Error(`unsupported operator ${operator}`);
  }
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
    if (KEYWORDS.test(token)) throw new Error(`operand expected, got ${token} in: ${expression}`);
    return resolve(token);
  };
  const operator = (): string => {
    const token = take();
    if (token.toUpperCase() === 'NOT') {
      if (take().toUpperCase() !== 'IN') throw new Error(`NOT must be followed by IN in: ${expression}`);
      return 'NOT IN';
    }
    return /^(IN|HAS)$/i.test(token) ? token.toUpperCase() : token;
  };
  const comparison = (): boolean => {
    if (peek() === '(') {
      take();
      const inner = or();
      if (take() !== ')') throw new Error(`missing ) in: ${expression}`);
      return inner;
    }
    const left = operand();
    const op = operator();
    return compare(left, op, operand());
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
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value) && value.every((item) => ['string', 'number', 'boolean'].includes(typeof item))) return value;
  return null;
}

/** Filter expressions read the task's attributes directly. */
const filterMatches = (filter: Filter, attributes: Record<string, unknown>) =>
  evaluate(filter.expression, (key) => asValue(attributes[key]));

/** Target expressions read `task.<attribute>` and `worker.<field>`. */
function targetAccepts(target: Target, attributes: Record<string, unknown>, worker: { sid: string }): boolean {
  if (target.expression === undefined) return true;
  return evaluate(target.expression, (key) => {
    const [scope, name = ''] = key.split(/\.(.*)/s);
    if (scope === 'task') return asValue(attributes[name]);
    if (scope === 'worker') return asValue((worker as Record<string, unknown>)[name]);
    throw new Error(`unknown scope in ${key}`);
  });
}

/** The worker a known-agent target names: the task attribute its `known_worker_sid` reads. */
function knownWorker(target: Target, attributes: Record<string, unknown>): unknown {
  const key = /^task\.(\w+)$/.exec(target.known_worker_sid ?? '')?.[1];
  return key === undefined ? undefined : attributes[key];
}

// ---------------------------------------------------------------------------
// What the functions send
// ---------------------------------------------------------------------------

const WORKFLOW_SID = newSid('WW');

function routingFor(options: {
  targetType: TargetType;
  targetSid: string;
  caller: Caller;
  env?: Environment;
  params?: Record<string, string>;
  originalTask?: WorkspaceTask;
  inConversation?: string[];
}) {
  const settings = parseSettings({ ...baseSettings(), TRANSFER_WORKFLOW_SID: WORKFLOW_SID, ...options.env });
  const params: Record<string, string> = { interactionSid: newSid('KD'), channelSid: newSid('UO'), ...options.params };
  params[options.targetType === 'worker' ? 'workerSid' : 'queueSid'] = options.targetSid;
  if (options.originalTask !== undefined) params.taskSid = options.originalTask.sid;
  return buildRouting({
    transfer: parseTransferRequest(params, options.targetType, settings),
    caller: options.caller,
    settings,
    originalTask: options.originalTask,
    workerSidsInConversation: options.inConversation ?? [],
  }).properties;
}

/** A task that was itself created by an earlier transfer: its attributes carry that transfer's keys. */
function earlierTransferTask(queueSid: string): WorkspaceTask {
  return {
    sid: newSid('WT'),
    attributes: {
      name: 'Ada',
      transferTargetType: 'worker',
      transferTargetSid: newSid('WK'),
      transferredByWorkerSid: newSid('WK'),
      workerSidsInConversation: [newSid('WK')],
    },
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

const agentFilterOf = (configuration: WorkflowConfiguration) =>
  configuration.task_routing.filters.find((filter) => filter.targets.some((target) => target.known_worker_sid !== undefined));

// ---------------------------------------------------------------------------

describe("TaskRouter's workflow configuration rules", () => {
  const { task_routing } = workflow;

  test('a task_routing document with filters and a default_filter, nothing else', () => {
    expect(Object.keys(workflow)).toEqual(['task_routing']);
    expect(TASK_ROUTING_KEYS).toEqual(expect.arrayContaining(Object.keys(task_routing)));
    expect(task_routing.filters.length).toBeGreaterThan(0);
    // The default filter is one target without a timeout: a queue.
    expect(Object.keys(task_routing.default_filter)).toEqual(['queue']);
    expect(task_routing.default_filter.queue).toMatch(/^WQx{31}\d$/);
  });

  test('every filter has a unique filter_friendly_name, an expression TaskRouter can read and at least one target', () => {
    const names = task_routing.filters.map((filter) => filter.filter_friendly_name);
    expect(new Set(names).size).toBe(names.length);
    for (const filter of task_routing.filters) {
      expect(FILTER_KEYS).toEqual(expect.arrayContaining(Object.keys(filter)));
      expect(filter.filter_friendly_name).toMatch(/\S/);
      expect(() => evaluate(filter.expression, () => null)).not.toThrow();
      // Filter expressions read task attributes directly, never task. or worker.
      for (const key of keysOf(filter.expression)) expect(key).not.toMatch(/^(task|worker)\./);
      expect(filter.targets.length).toBeGreaterThan(0);
    }
  });

  test('every target: known keys, a queue on the first (later ones inherit it), timeouts whole seconds within a task lifetime', () => {
    for (const filter of task_routing.filters) {
      expect(filter.targets[0]?.queue).toBeDefined();
      for (const target of filter.targets) {
        expect(TARGET_KEYS).toEqual(expect.arrayContaining(Object.keys(target)));
        if (target.queue !== undefined) expect(target.queue).toMatch(/^WQx{31}\d$/);
        if (target.timeout !== undefined) {
          expect(Number.isInteger(target.timeout)).toBe(true);
          expect(target.timeout).toBeGreaterThanOrEqual(1);
          expect(target.timeout).toBeLessThanOrEqual(MAX_TIMEOUT_SECONDS);
        }
        // A target priority would replace the priority the request asked for.
        expect(target).not.toHaveProperty('priority');
      }
    }
  });

  test('target expressions read only task. and worker. keys, and of the worker only its SID', () => {
    for (const filter of task_routing.filters) {
      for (const target of filter.targets) {
        if (target.expression === undefined) continue;
        expect(() => evaluate(target.expression as string, () => null)).not.toThrow();
        for (const key of keysOf(target.expression)) {
          expect(key).toMatch(/^(task|worker)\./);
          if (key.startsWith('worker.')) {
            expect(WORKER_FIELDS).toContain(key.slice('worker.'.length));
            expect(key).toBe('worker.sid');
          }
        }
      }
    }
  });

  test('a known-agent target names the worker by one task attribute (known_worker_sid OR known_worker_friendly_name)', () => {
    const known = task_routing.filters.flatMap((filter) => filter.targets).filter((target) => target.known_worker_sid !== undefined);
    expect(known.length).toBeGreaterThan(0);
    for (const target of known) {
      expect(target).not.toHaveProperty('known_worker_friendly_name');
      expect(target.known_worker_sid).toMatch(/^task\.\w+$/);
      expect(target.queue).toBeDefined();
    }
  });

  test('no filter ends with a timeout: TaskRouter would cancel the task and leave the customer alone', () => {
    for (const filter of task_routing.filters) expect(filter.targets.at(-1)?.timeout).toBeUndefined();
  });

  test('the known agent comes first with a short timeout, and a next target takes over when they decline or do not answer', () => {
    const filter = agentFilterOf(workflow);
    expect(filter?.expression).toBe("transferTargetType == 'worker'");
    const [known, ...next] = filter?.targets ?? [];
    expect(known?.known_worker_sid).toBe('task.transferTargetSid');
    expect(known?.timeout).toEqual(expect.any(Number));
    expect(known?.timeout).toBeLessThanOrEqual(MAX_KNOWN_AGENT_TIMEOUT_SECONDS);
    expect(next.length).toBeGreaterThan(0);
    expect(next.every((target) => target.known_worker_sid === undefined)).toBe(true);
  });
});

describe("the functions' own check", () => {
  test('reachesNamedAgent accepts the example (agent transfers in workflow mode need it)', () => {
    expect(reachesNamedAgent(workflow as unknown as Record<string, unknown>)).toBe(true);
    expect(reachesNamedAgent(adaptedWorkflow() as unknown as Record<string, unknown>)).toBe(true);
  });

  test('the same workflow without its known-agent target is refused (500 misconfigured)', () => {
    const withoutKnownAgent = JSON.parse(RAW.replace(/"known_worker_sid":\s*"[^"]*",?/g, '')) as Record<string, unknown>;
    expect(reachesNamedAgent(withoutKnownAgent)).toBe(false);
  });

  test('reads only attributes the functions set', () => {
    const owned: readonly string[] = SERVER_ATTRIBUTE_KEYS;
    const read = new Set<string>();
    for (const filter of workflow.task_routing.filters) {
      for (const key of keysOf(filter.expression)) read.add(key);
      for (const target of filter.targets) {
        for (const key of keysOf(target.expression ?? '')) if (key.startsWith('task.')) read.add(key.slice('task.'.length));
        if (target.known_worker_sid !== undefined) read.add(target.known_worker_sid.replace(/^task\./, ''));
      }
    }
    expect([...read].filter((key) => !owned.includes(key))).toEqual([]);
    expect([...read].sort()).toEqual(['transferTargetSid', 'transferTargetType', 'workerSidsInConversation']);
  });
});

describe('routing the tasks the functions create', () => {
  test('an agent transfer (workflow mode): the known agent first, then anyone in the queue not already in the conversation', () => {
    const adapted = adaptedWorkflow();
    const chosen = newSid('WK');
    const transferring = newSid('WK');
    const properties = routingFor({
      targetType: 'worker',
      targetSid: chosen,
      caller: flexAgent(transferring),
      inConversation: [transferring],
    });

    // Neither worker_sid nor queue_sid: the workflow decides, so a decline never cancels the task.
    expect(properties).not.toHaveProperty('worker_sid');
    expect(properties).not.toHaveProperty('queue_sid');
    expect(properties.workflow_sid).toBe(WORKFLOW_SID);

    const filter = firstMatch(adapted, properties.attributes);
    expect(filter?.filter_friendly_name).toBe(agentFilterOf(adapted)?.filter_friendly_name);
    const [known, fallback] = filter?.targets ?? [];
    expect(knownWorker(known as Target, properties.attributes)).toBe(chosen);
    expect(fallback && targetAccepts(fallback, properties.attributes, { sid: transferring })).toBe(false);
    expect(fallback && targetAccepts(fallback, properties.attributes, { sid: newSid('WK') })).toBe(true);
  });

  test('a queue named for an agent transfer travels as transferQueueSid; the known-agent filter still matches', () => {
    const adapted = adaptedWorkflow();
    const chosen = newSid('WK');
    const queueSid = newSid('WQ');
    const properties = routingFor({ targetType: 'worker', targetSid: chosen, caller: { kind: 'basic' }, params: { queueSid } });

    expect(properties).not.toHaveProperty('queue_sid');
    expect(properties.attributes).toMatchObject({ transferQueueSid: queueSid, workerSidsInConversation: [] });
    expect(firstMatch(adapted, properties.attributes)?.filter_friendly_name).toBe(agentFilterOf(adapted)?.filter_friendly_name);
  });

  test('direct mode (TRANSFER_AGENT_ROUTING=direct): worker_sid and queue_sid; if the workflow is evaluated it names the same worker', () => {
    const adapted = adaptedWorkflow();
    const agentQueue = adapted.task_routing.default_filter.queue;
    const chosen = newSid('WK');
    const properties = routingFor({
      targetType: 'worker',
      targetSid: chosen,
      caller: flexAgent(newSid('WK')),
      env: { TRANSFER_AGENT_ROUTING: 'direct', TRANSFER_AGENT_QUEUE_SID: agentQueue },
    });

    expect(properties).toMatchObject({ worker_sid: chosen, queue_sid: agentQueue });
    const [known] = firstMatch(adapted, properties.attributes)?.targets ?? [];
    expect(known?.queue).toBe(agentQueue);
    expect(knownWorker(known as Target, properties.attributes)).toBe(chosen);
  });

  test('a queue transfer goes to the named queue, first to its agents not already in the conversation, then to anyone in it', () => {
    const adapted = adaptedWorkflow();
    const queueFilters = adapted.task_routing.filters.filter((filter) => filter !== agentFilterOf(adapted));
    expect(queueFilters.length).toBeGreaterThanOrEqual(2);
    for (const expected of queueFilters) {
      const queueSid = expected.targets[0]?.queue as string;
      const transferring = newSid('WK');
      const properties = routingFor({
        targetType: 'queue',
        targetSid: queueSid,
        caller: flexAgent(transferring),
        inConversation: [transferring],
      });

      expect(properties.queue_sid).toBe(queueSid);
      const filter = firstMatch(adapted, properties.attributes);
      expect(filter?.filter_friendly_name).toBe(expected.filter_friendly_name);
      expect(new Set(filter?.targets.map((target) => target.queue))).toEqual(new Set([queueSid]));
      const [first, ...rest] = filter?.targets ?? [];
      expect(first && targetAccepts(first, properties.attributes, { sid: transferring })).toBe(false);
      expect(first && targetAccepts(first, properties.attributes, { sid: newSid('WK') })).toBe(true);
      expect(first?.timeout).toEqual(expect.any(Number));
      // The last step has no condition: the task is never stranded (every agent of the queue already in the conversation).
      expect(rest.at(-1)?.expression).toBeUndefined();
    }
  });

  test('a task without workerSidsInConversation (not made by these functions) is refused by NOT IN, and still reaches the last target', () => {
    const adapted = adaptedWorkflow();
    const queueFilter = adapted.task_routing.filters.find((filter) => filter !== agentFilterOf(adapted)) as Filter;
    const attributes = { transferTargetType: 'queue', transferTargetSid: queueFilter.targets[0]?.queue };
    expect(firstMatch(adapted, attributes)).toBe(queueFilter);
    expect(targetAccepts(queueFilter.targets[0] as Target, attributes, { sid: newSid('WK') })).toBe(false);
    expect(targetAccepts(queueFilter.targets.at(-1) as Target, attributes, { sid: newSid('WK') })).toBe(true);
  });

  test('a transfer to a queue without a filter, or a task that is no transfer, falls to the default filter', () => {
    const adapted = adaptedWorkflow();
    const unlisted = routingFor({ targetType: 'queue', targetSid: newSid('WQ'), caller: { kind: 'basic' } });
    expect(firstMatch(adapted, unlisted.attributes)).toBeUndefined();
    expect(firstMatch(adapted, { channelType: 'web', conversationSid: newSid('CH') })).toBeUndefined();
  });

  test('a task transferred again routes by the new transfer, never by the keys an earlier transfer left on it', () => {
    const adapted = adaptedWorkflow();
    const queueFilter = adapted.task_routing.filters.find((filter) => filter !== agentFilterOf(adapted)) as Filter;
    const queueSid = queueFilter.targets[0]?.queue as string;
    const transferring = newSid('WK');
    const properties = routingFor({
      targetType: 'queue',
      targetSid: queueSid,
      caller: flexAgent(transferring),
      originalTask: earlierTransferTask(adapted.task_routing.default_filter.queue),
      inConversation: [transferring],
    });

    expect(firstMatch(adapted, properties.attributes)?.filter_friendly_name).toBe(queueFilter.filter_friendly_name);
    expect(properties.attributes).toMatchObject({
      name: 'Ada',
      transferTargetType: 'queue',
      transferredByWorkerSid: transferring,
      workerSidsInConversation: [transferring],
    });
  });
});
