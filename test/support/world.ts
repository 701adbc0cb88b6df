/**
 * A small Flex world in the stand-in for the v3 suites: a workspace whose
 * event callback is this service's /transfer-events, a known-agent workflow,
 * two agents and a queue, and a customer talking to the first agent.
 */
import { newSid } from '../../dev/twilio-standin';
import { TEST_WORKSPACE_SID } from './functions-server';
import { grantAgentToken, IN_PROCESS_DOMAIN, type InProcessFunctions } from './in-process';

export const CALLBACK_URL = `http://${IN_PROCESS_DOMAIN}/transfer-events`;
export const WORKFLOW_SID = 'WW' + 'f1'.repeat(16);
export const PLAIN_WORKFLOW_SID = 'WW' + 'f2'.repeat(16);
export const KNOWN_AGENT_WORKFLOW = {
  task_routing: {
    filters: [
      {
        filter_friendly_name: 'Transfer to a named agent',
        expression: "transferTargetType == 'worker'",
        targets: [{ queue: 'WQ' + 'a1'.repeat(16), known_worker_sid: 'task.transferTargetSid', timeout: 30 }],
      },
    ],
  },
};

export interface World {
  token: string;
  agentWorker: string;
  colleague: string;
  queueSid: string;
  interactionSid: string;
  channelSid: string;
  agentParticipant: string;
  customerParticipant: string;
  taskSid: string;
}

/** A workspace whose callback is this service's, a known-agent workflow, and a customer talking to one agent. */
export function seedWorld(functions: InProcessFunctions, options: { callbackUrl?: string | undefined } = {}): World {
  const { standin } = functions;
  standin.addWorkspace({ sid: TEST_WORKSPACE_SID, eventCallbackUrl: 'callbackUrl' in options ? options.callbackUrl : CALLBACK_URL });
  standin.addWorkflow({ workspaceSid: TEST_WORKSPACE_SID, sid: WORKFLOW_SID, configuration: KNOWN_AGENT_WORKFLOW });
  standin.addWorkflow({ workspaceSid: TEST_WORKSPACE_SID, sid: PLAIN_WORKFLOW_SID, configuration: { task_routing: { filters: [] } } });
  const { token, workerSid: agentWorker } = grantAgentToken(standin);
  standin.addWorker({ workspaceSid: TEST_WORKSPACE_SID, sid: agentWorker, friendlyName: 'Alice' });
  const colleague = standin.addWorker({ workspaceSid: TEST_WORKSPACE_SID, friendlyName: 'Bob' });
  const queueSid = standin.addQueue({ workspaceSid: TEST_WORKSPACE_SID, friendlyName: 'Support' });
  const agentParticipant = newSid('UT');
  const customerParticipant = newSid('UT');
  const { interactionSid, channelSid } = standin.addConversation({ workspaceSid: TEST_WORKSPACE_SID });
  const taskSid = standin.addTask({
    workspaceSid: TEST_WORKSPACE_SID,
    workflowSid: WORKFLOW_SID,
    assignmentStatus: 'assigned',
    attributes: { flexInteractionSid: interactionSid, flexInteractionChannelSid: channelSid, customerName: 'Carol' },
  });
  standin.setParticipants(interactionSid, channelSid, [
    { sid: customerParticipant, type: 'customer' },
    { sid: agentParticipant, type: 'agent', routing_properties: { worker_sid: agentWorker, task_sid: taskSid } },
  ]);
  return { token, agentWorker, colleague, queueSid, interactionSid, channelSid, agentParticipant, customerParticipant, taskSid };
}

/** A transfer request's form from the world's agent, on the world's conversation and task, plus `fields`. */
export function transferForm(world: World, fields: Record<string, string>): { form: Record<string, string> } {
  return {
    form: { Token: world.token, interactionSid: world.interactionSid, channelSid: world.channelSid, taskSid: world.taskSid, ...fields },
  };
}
