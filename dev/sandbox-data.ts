/**
 * Sample data for the local sandbox (`npm start` without a Twilio account):
 * the workspace, two conversations in progress, the workers, queues and the
 * transfer workflow they use, and Flex tokens for a demo agent and a
 * supervisor. SIDs and tokens are fixed, so commands printed for one run work
 * in the next. `simulateSandboxAgents` lets a simulated agent accept every
 * transfer a few seconds after its invite.
 */
import { createHash } from 'node:crypto';
import type { TwilioStandin } from './twilio-standin';

export interface SandboxOptions {
  workspaceSid: string;
}

export interface SandboxWorker {
  sid: string;
  friendlyName: string;
}

export interface SandboxQueue {
  sid: string;
  friendlyName: string;
}

/** One interaction channel in progress: a customer and the agent who holds its task. */
export interface SandboxConversation {
  interactionSid: string;
  channelSid: string;
  customerName: string;
  customerParticipantSid: string;
  agentParticipantSid: string;
  /** The worker whose agent participant this is. */
  agentWorkerSid: string;
  /** The original task, assigned to that worker. */
  taskSid: string;
  taskChannel: string;
}

export interface SandboxData {
  accountSid: string;
  /** Its EventCallbackUrl is left unset: whoever starts the sandbox points it at the functions' /transfer-events. */
  workspaceSid: string;
  /** Known-agent routing first (`known_worker_sid: "task.transferTargetSid"`), then the queues (see transferWorkflowConfiguration). */
  workflow: { sid: string; friendlyName: string };
  /** [support, billing] */
  queues: readonly [SandboxQueue, SandboxQueue];
  /** [the demo agent, a colleague who is also the supervisor] */
  workers: readonly [SandboxWorker, SandboxWorker];
  /** The first belongs to the demo agent, the second to the colleague (an agent may not transfer it). */
  conversations: readonly [SandboxConversation, SandboxConversation];
  tokens: {
    /** Worker 1, roles ['agent']. */
    agent: string;
    /** Worker 2, roles ['supervisor']. */
    supervisor: string;
  };
}

/** How long the sandbox's simulated agent takes to accept a transfer. */
export const SANDBOX_ACCEPT_AFTER_MS = 3_000;

/**
 * A transfer workflow's configuration (TaskRouter's `task_routing`): an agent transfer goes first to the known agent
 * (`known_worker_sid: "task.transferTargetSid"`), then, when that agent declines or does not answer, to
 * `agentQueueSid` without the agents already in the conversation; a queue transfer goes to its queue, first without
 * those agents. The shape of examples/taskrouter/transfer-workflow.json.
 */
export function transferWorkflowConfiguration(agentQueueSid: string, queueSids: readonly string[] = []): object {
  const notInConversation = 'worker.sid NOT IN task.workerSidsInConversation';
  return {
    task_routing: {
      filters: [
        {
          filter_friendly_name: 'Transfer to a known agent',
          expression: "transferTargetType == 'worker'",
          targets: [
            { queue: agentQueueSid, known_worker_sid: 'task.transferTargetSid', timeout: 30 },
            { queue: agentQueueSid, expression: notInConversation },
          ],
        },
        ...queueSids.map((queueSid) => ({
          filter_friendly_name: `Transfer to queue ${queueSid}`,
          expression: `transferTargetType == 'queue' AND transferTargetSid == '${queueSid}'`,
          targets: [{ queue: queueSid, expression: notInConversation, timeout: 120 }, { queue: queueSid }],
        })),
      ],
      default_filter: { queue: agentQueueSid },
    },
  };
}

/**
 * The sandbox's simulated agents: `afterMs` after each invite, its task is reserved to the worker the workflow
 * targets and accepted (the worker joins the conversation and TaskRouter's events go to the workspace's callback).
 */
export function simulateSandboxAgents(standin: TwilioStandin, afterMs: number = SANDBOX_ACCEPT_AFTER_MS): void {
  standin.autoAccept = { afterMs };
}

/** A fixed SID: the prefix and `n` in 32 hex digits. */
const sandboxSid = (prefix: string, n: number): string => prefix + n.toString(16).padStart(32, '0');

const base64url = (bytes: Buffer | string): string => Buffer.from(bytes).toString('base64url');

/**
 * A string shaped like a Flex token (a compact JWE: five base64url segments) but
 * deterministic and meaningless: the stand-in knows it only because it was granted.
 */
function sandboxToken(label: string): string {
  const bytes = (part: string, length: number) => createHash('sha256').update(`sandbox:${label}:${part}`).digest().subarray(0, length);
  const header = { alg: 'A256KW', enc: 'A256GCM', typ: 'JWT', kid: `sandbox-${label}` };
  return [
    base64url(JSON.stringify(header)),
    base64url(bytes('key', 32)),
    base64url(bytes('iv', 12)),
    base64url(bytes('ciphertext', 32)),
    base64url(bytes('tag', 16)),
  ].join('.');
}

export function seedSandbox(standin: TwilioStandin, options: SandboxOptions): SandboxData {
  const { workspaceSid } = options;
  const inWorkspace = <T extends { sid: string; friendlyName: string }>(resource: T) => ({ ...resource, workspaceSid });

  standin.addWorkspace({ sid: workspaceSid, friendlyName: 'Flex Task Assignment (sandbox)' });
  const queues = [
    { sid: sandboxSid('WQ', 1), friendlyName: 'Support' },
    { sid: sandboxSid('WQ', 2), friendlyName: 'Billing' },
  ] as const;
  for (const queue of queues) standin.addQueue(inWorkspace(queue));
  const workflow = { sid: sandboxSid('WW', 1), friendlyName: 'Transfers' };
  standin.addWorkflow({
    ...inWorkspace(workflow),
    configuration: transferWorkflowConfiguration(
      queues[0].sid,
      queues.map((queue) => queue.sid),
    ),
  });
  const workers = [
    { sid: sandboxSid('WK', 1), friendlyName: 'Alice (demo agent)' },
    { sid: sandboxSid('WK', 2), friendlyName: 'Bob (supervisor)' },
  ] as const;
  for (const worker of workers) standin.addWorker(inWorkspace(worker));

  const conversation = (n: number, customerName: string, taskChannel: string, worker: SandboxWorker, queue: SandboxQueue) => {
    const seeded: SandboxConversation = {
      interactionSid: sandboxSid('KD', n),
      channelSid: sandboxSid('UO', n),
      customerName,
      customerParticipantSid: sandboxSid('UT', 2 * n - 1),
      agentParticipantSid: sandboxSid('UT', 2 * n),
      agentWorkerSid: worker.sid,
      taskSid: sandboxSid('WT', n),
      taskChannel,
    };
    standin.addTask({
      workspaceSid,
      sid: seeded.taskSid,
      workflowSid: workflow.sid,
      taskQueueSid: queue.sid,
      taskChannelUniqueName: taskChannel,
      assignmentStatus: 'assigned',
      attributes: {
        name: customerName,
        customerName,
        channelType: taskChannel === 'sms' ? 'sms' : 'web',
        direction: 'inbound',
        initiatedBy: 'customer',
        conversationSid: sandboxSid('CH', n),
        flexInteractionSid: seeded.interactionSid,
        flexInteractionChannelSid: seeded.channelSid,
        conversations: { conversation_id: seeded.taskSid, initiated_by: 'customer', communication_channel: taskChannel },
      },
    });
    standin.addConversation({
      interactionSid: seeded.interactionSid,
      channelSid: seeded.channelSid,
      workspaceSid,
      participants: [
        { sid: seeded.customerParticipantSid, type: 'customer', routing_properties: null },
        {
          sid: seeded.agentParticipantSid,
          type: 'agent',
          routing_properties: { worker_sid: worker.sid, task_sid: seeded.taskSid, workspace_sid: workspaceSid },
        },
      ],
    });
    return seeded;
  };
  const conversations = [
    conversation(1, 'Ada Lovelace', 'chat', workers[0], queues[0]),
    conversation(2, 'Grace Hopper', 'sms', workers[1], queues[1]),
  ] as const;

  const tokens = { agent: sandboxToken('agent'), supervisor: sandboxToken('supervisor') };
  standin.grantToken(tokens.agent, { worker_sid: workers[0].sid, roles: ['agent'], identity: 'alice@sandbox.example' });
  standin.grantToken(tokens.supervisor, { worker_sid: workers[1].sid, roles: ['supervisor'], identity: 'bob@sandbox.example' });

  return { accountSid: standin.accountSid, workspaceSid, workflow, queues, workers, conversations, tokens };
}
