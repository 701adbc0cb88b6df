/**
 * The Flex plugin's action handler (flex-plugin/src/transfer-actions.ts, which imports nothing from Flex) end to end:
 * driven as Flex drives it (the directory's TransferTask payload, WrapupTask's before-listener, the pending view's
 * list and cancel), through the plugin's client and global fetch, against the real functions under twilio-run on
 * 127.0.0.1 with the Twilio stand-in behind them. What Twilio would have received is read from the stand-in.
 */
import { assignedTaskOf } from '../../test/support/fixtures';
import { randomBytes } from 'node:crypto';
import { errorNotificationId, NOTIFICATION_IDS, type NotificationContext } from '../../flex-plugin/src/notification-catalog';
import { TransferActions, TransferRefused, type TransferTaskPayloadLike } from '../../flex-plugin/src/transfer-actions';
import { TransferClient } from '../../flex-plugin/src/transfer-client';
import { TEST_WORKSPACE_SID } from '../../test/support/functions-server';
import { transferSids, useFunctions } from '../../test/support/harness';
import { grantAgentToken } from '../../test/support/in-process';

const fakeSid = (prefix: string): string => prefix + randomBytes(16).toString('hex');
const WORKFLOW_SID = fakeSid('WW');

const harness = useFunctions({ forkPerRequest: false, settings: { TRANSFER_WORKFLOW_SID: WORKFLOW_SID } });
// The workspace calls this service's /transfer-events (what `npm run deploy` sets up), so cold transfers close the
// transferring agent on acceptance. Set before every test: a warm function instance reads the workspace once.
beforeEach(() => {
  harness.standin.changeWorkspace(TEST_WORKSPACE_SID, { eventCallbackUrl: `http://localhost:${harness.server.port}/transfer-events` });
});

/**
 * A signed-in agent in Flex with a conversation task: their worker is an agent participant of the channel, the task
 * exists in TaskRouter with the channel in its attributes, and the plugin is started for them.
 */
function agentInFlex() {
  const { token, workerSid } = grantAgentToken(harness.standin);
  const sids = transferSids(harness.standin);
  harness.standin.setParticipants(sids.interactionSid, sids.channelSid, [
    { sid: fakeSid('UT'), type: 'customer', routing_properties: null },
    { sid: fakeSid('UT'), type: 'agent', routing_properties: { worker_sid: workerSid, task_sid: assignedTaskOf(harness.standin, sids) } },
  ]);
  const attributes = { flexInteractionSid: sids.interactionSid, flexInteractionChannelSid: sids.channelSid, channelType: 'web' };
  const taskSid = harness.standin.addTask({
    workspaceSid: TEST_WORKSPACE_SID,
    taskChannelUniqueName: 'chat',
    workflowSid: WORKFLOW_SID,
    assignmentStatus: 'assigned',
    attributes,
  });
  const task = { sid: fakeSid('WR'), taskSid, taskChannelUniqueName: 'chat', attributes };

  const shown: Array<{ id: string; context?: NotificationContext }> = [];
  const client = new TransferClient({ baseUrl: harness.server.url, token: () => token });
  const actions = new TransferActions({ client, notify: (id, context) => shown.push({ id, context }), log: () => undefined });
  const original = jest.fn<Promise<string>, [TransferTaskPayloadLike]>(async () => 'done by Flex');
  return { workerSid, sids, task, actions, shown, original };
}

test("a click on a queue in Flex's directory becomes exactly one invite, and the agent is told it was sent", async () => {
  const { sids, task, actions, shown, original } = agentInFlex();

  const outcome = await actions.transferTask({ task, targetSid: sids.queueSid, options: { mode: 'WARM' } }, original);

  expect(outcome).toMatchObject({ target: { type: 'queue', sid: sids.queueSid }, transferType: 'warm', replayed: false });
  const invites = harness.standin.requestsTo('invite-create');
  expect(invites).toHaveLength(1);
  expect(invites[0]?.path).toContain(`/Interactions/${sids.interactionSid}/Channels/${sids.channelSid}/Invites`);
  expect(invites[0]?.routing?.properties).toMatchObject({
    queue_sid: sids.queueSid,
    workflow_sid: WORKFLOW_SID,
    attributes: {
      transferTargetType: 'queue',
      transferTargetSid: sids.queueSid,
      transferType: 'warm',
      transferredFromTaskSid: task.taskSid,
    },
  });
  expect(original).not.toHaveBeenCalled();
  expect(shown.map((notice) => notice.id)).toEqual([NOTIFICATION_IDS.transferred]);
});

test('a double click sends one transfer: the second click is refused while the first is in flight, and one invite exists', async () => {
  const { sids, task, actions, shown, original } = agentInFlex();
  const click = () => actions.transferTask({ task, targetSid: sids.queueSid, options: { mode: 'WARM' } }, original);

  const [first, second] = await Promise.allSettled([click(), click()]);

  expect(first.status).toBe('fulfilled');
  expect(second).toMatchObject({ status: 'rejected', reason: expect.any(TransferRefused) });
  expect(harness.standin.requestsTo('invite-create')).toHaveLength(1);
  expect(shown.map((notice) => notice.id)).toEqual([NOTIFICATION_IDS.alreadyInFlight, NOTIFICATION_IDS.transferred]);
});

test('an agent chosen in the directory: one invite through the workflow, naming the agent for known-agent routing', async () => {
  const { sids, task, actions, original } = agentInFlex();

  await actions.transferTask({ task, targetSid: sids.workerSid, options: { mode: 'WARM' } }, original);

  const [invite] = harness.standin.requestsTo('invite-create');
  expect(invite?.routing?.properties).toMatchObject({
    workflow_sid: WORKFLOW_SID,
    attributes: { transferTargetType: 'worker', transferTargetSid: sids.workerSid },
  });
  expect(invite?.routing?.properties).not.toHaveProperty('worker_sid');
  expect(harness.standin.requestsTo('invite-create')).toHaveLength(1);
});

test('a cold transfer to an agent: the agent is told they stay until the new agent accepts, and is not closed yet', async () => {
  const { sids, task, actions, shown, original } = agentInFlex();

  const outcome = await actions.transferTask({ task, targetSid: sids.workerSid, options: { mode: 'COLD' } }, original);

  expect(outcome).toMatchObject({ transferType: 'cold', participantClosed: false, participantCloses: 'on-accept', warnings: [] });
  expect(harness.standin.requestsTo('invite-create')).toHaveLength(1);
  expect(harness.standin.requestsTo('participant-update')).toHaveLength(0);
  expect(shown.map((notice) => notice.id)).toEqual([NOTIFICATION_IDS.awaitingAcceptance]);
});

test('wrap-up is refused while the transfer request is in flight, and allowed once it has its answer', async () => {
  const { sids, task, actions, shown, original } = agentInFlex();
  harness.standin.script('invite-create', { delayMs: 1500 });

  const transfer = actions.transferTask({ task, targetSid: sids.queueSid, options: { mode: 'WARM' } }, original);
  const abortWhileSending = jest.fn();
  actions.beforeWrapup({ task }, abortWhileSending);
  await transfer;
  const abortAfterwards = jest.fn();
  actions.beforeWrapup({ task }, abortAfterwards);

  expect(abortWhileSending).toHaveBeenCalledTimes(1);
  expect(abortAfterwards).not.toHaveBeenCalled();
  expect(shown.map((notice) => notice.id)).toEqual([NOTIFICATION_IDS.wrapupBlocked, NOTIFICATION_IDS.transferred]);
});

test("a cancel from the pending view cancels the transfer's task, after which it is no longer offered for cancel", async () => {
  const { sids, task, actions, shown, original } = agentInFlex();
  const cancels = () => harness.standin.requestsTo('task-update').filter((request) => request.form.AssignmentStatus === 'canceled');
  await actions.transferTask({ task, targetSid: sids.queueSid, options: { mode: 'WARM' } }, original);

  const [pending] = await actions.listTransfers(task);
  expect(pending).toMatchObject({ target: { type: 'queue', sid: sids.queueSid }, taskStatus: 'pending', cancelable: true });
  if (pending === undefined || pending.taskSid === null) throw new Error('the transfer is not listed with its task');

  await expect(actions.cancelTransfer(task, pending)).resolves.toBe(true);

  expect(harness.standin.task(pending.taskSid)?.assignment_status).toBe('canceled');
  expect(cancels()).toHaveLength(1);
  expect(shown.map((notice) => notice.id)).toEqual([NOTIFICATION_IDS.transferred, NOTIFICATION_IDS.canceled]);
  const [after] = await actions.listTransfers(task);
  expect(after).toMatchObject({ taskSid: pending.taskSid, taskStatus: 'canceled', cancelable: false });
  // Not cancelable any more: the view offers no Cancel, and the handler sends nothing.
  await expect(actions.cancelTransfer(task, after ?? pending)).resolves.toBe(false);
  expect(cancels()).toHaveLength(1);
});

test('an agent who is already in the conversation: nothing is created, and the agent sees already_participant', async () => {
  const { workerSid, sids, task, actions, shown, original } = agentInFlex();
  const colleagueTask = harness.standin.addTask({ workspaceSid: TEST_WORKSPACE_SID, assignmentStatus: 'assigned', attributes: {} });
  harness.standin.setParticipants(sids.interactionSid, sids.channelSid, [
    { sid: fakeSid('UT'), type: 'customer', routing_properties: null },
    { sid: fakeSid('UT'), type: 'agent', routing_properties: { worker_sid: workerSid, task_sid: assignedTaskOf(harness.standin, sids) } },
    { sid: fakeSid('UT'), type: 'agent', routing_properties: { worker_sid: sids.workerSid, task_sid: colleagueTask } },
  ]);

  await expect(actions.transferTask({ task, targetSid: sids.workerSid, options: { mode: 'WARM' } }, original)).rejects.toMatchObject({
    code: 'already_participant',
    status: 409,
  });

  expect(harness.standin.requestsTo('invite-create')).toHaveLength(0);
  expect(shown).toEqual([
    { id: errorNotificationId('already_participant'), context: { message: expect.any(String), requestId: expect.any(String) } },
  ]);
});

test('a voice task goes to the original action: nothing reaches the functions', async () => {
  const { sids, actions, original } = agentInFlex();
  const voice = { sid: fakeSid('WR'), taskSid: fakeSid('WT'), taskChannelUniqueName: 'voice', attributes: { call_sid: fakeSid('CA') } };

  await expect(actions.transferTask({ task: voice, targetSid: sids.workerSid, options: { mode: 'COLD' } }, original)).resolves.toBe(
    'done by Flex',
  );

  expect(original).toHaveBeenCalledTimes(1);
  expect(harness.standin.requestsTo('token-validate')).toHaveLength(0);
  expect(harness.standin.requestsTo('invite-create')).toHaveLength(0);
});
