/**
 * The pending-transfers view as an agent sees it in the task canvas: rendered by React into jsdom, reading
 * /list-transfers through the real client and action handler (FakeFunctions is the network).
 */
import React from 'react';
import { render, unmountComponentAtNode } from 'react-dom';
import { act } from 'react-dom/test-utils';

import { PendingTransfers } from '../components/PendingTransfers';
import { TransferButton } from '../components/TransferButton';
import { errorNotificationId, NOTIFICATION_IDS } from '../notification-catalog';
import {
  BASE_URL,
  conversationTask,
  deferred,
  errorAnswer,
  FakeFunctions,
  pendingTransfer,
  sid,
  waitUntil,
  type Answer,
} from '../test-support/fake-functions';
import { TransferActions } from '../transfer-actions';
import { type PendingTransfer, TransferClient } from '../transfer-client';

let container: HTMLDivElement;
let functions: FakeFunctions;
let shown: string[];
let actions: TransferActions;

beforeEach(() => {
  container = document.createElement('div');
  document.body.appendChild(container);
  functions = new FakeFunctions();
  shown = [];
  const client = new TransferClient({ baseUrl: BASE_URL, token: 'eyJ.agent.token', fetch: functions.fetch, budgetMs: 300 });
  actions = new TransferActions({ client, notify: (id) => shown.push(id) });
});
afterEach(() => {
  unmountComponentAtNode(container);
  container.remove();
});

/** Lets pending promises and React updates settle, for `ms` of real time. */
async function settle(ms = 20): Promise<void> {
  await act(async () => {
    await new Promise((resolve) => setTimeout(resolve, ms));
  });
}

const rows = () => Array.from(container.querySelectorAll('li')).map((row) => row.textContent ?? '');
const cancelButtons = () => Array.from(container.querySelectorAll('li button')) as HTMLButtonElement[];

function serveList(list: () => PendingTransfer[]) {
  functions.on('/list-transfers', () => ({ status: 200, body: { transfers: list() } }));
}

test("lists the conversation's transfers, with Cancel only where the functions say cancelable", async () => {
  const task = conversationTask();
  const waiting = pendingTransfer({ target: { type: 'queue', sid: 'WQ' + '1'.repeat(32) }, taskStatus: 'pending', cancelable: true });
  const accepted = pendingTransfer({
    transferType: 'cold',
    target: { type: 'worker', sid: 'WK' + '2'.repeat(32) },
    taskStatus: 'assigned',
    cancelable: false,
  });
  const old = pendingTransfer({ taskStatus: null, cancelable: null });
  serveList(() => [waiting, accepted, old]);

  await act(async () => {
    render(<PendingTransfers task={task} actions={actions} refreshMs={60_000} />, container);
  });
  await settle();

  expect(functions.received[0]).toEqual({
    path: '/list-transfers',
    form: {
      interactionSid: task.attributes.flexInteractionSid,
      channelSid: task.attributes.flexInteractionChannelSid,
      Token: 'eyJ.agent.token',
    },
  });
  expect(rows()).toEqual([
    expect.stringContaining(`Warm transfer to queue ${'WQ' + '1'.repeat(32)}: waiting for an agent`),
    expect.stringContaining(`Cold transfer to agent ${'WK' + '2'.repeat(32)}: accepted`),
    expect.stringMatching(/^Warm transfer to queue WQ[0-9a-f]{32}\d/),
  ]);
  expect(rows().map((row) => row.endsWith('Cancel'))).toEqual([true, false, false]);
});

test('Cancel cancels that transfer once (a second click sends nothing), tells the agent, and the list is read again', async () => {
  const task = conversationTask();
  const transfer = pendingTransfer({ cancelable: true });
  let list = [transfer];
  serveList(() => list);
  const held = deferred<Answer>();
  functions.on('/cancel-transfer', () => held.promise);

  await act(async () => {
    render(<PendingTransfers task={task} actions={actions} refreshMs={60_000} />, container);
  });
  await settle();
  await act(async () => {
    cancelButtons()[0]?.click();
  });
  expect(cancelButtons()[0]?.disabled).toBe(true);
  await act(async () => {
    cancelButtons()[0]?.click();
  });

  list = [];
  held.resolve({ status: 200, body: { taskSid: transfer.taskSid, canceled: true } });
  await settle();

  expect(functions.requestsTo('/cancel-transfer').map((request) => [request.form.taskSid, request.form.channelSid])).toEqual([
    [transfer.taskSid, task.attributes.flexInteractionChannelSid],
  ]);
  expect(shown).toEqual([NOTIFICATION_IDS.canceled]);
  expect(functions.requestsTo('/list-transfers')).toHaveLength(2);
  expect(container.textContent).toContain('No transfers of this conversation.');
});

test("a cancel the functions refuse shows that code's notification and the transfer stays listed", async () => {
  const task = conversationTask();
  const transfer = pendingTransfer({ transferType: 'cold', participantCloses: 'on-accept', cancelable: true });
  serveList(() => [transfer]);
  functions.on('/cancel-transfer', errorAnswer(409, 'transferring_agent_gone', 'The transferring agent already left.'));

  await act(async () => {
    render(<PendingTransfers task={task} actions={actions} refreshMs={60_000} />, container);
  });
  await settle();
  expect(rows()[0]).toContain('(you leave once it is accepted)');
  await act(async () => {
    cancelButtons()[0]?.click();
  });
  await settle();

  expect(shown).toEqual([errorNotificationId('transferring_agent_gone')]);
  expect(rows()).toHaveLength(1);
});

test('refreshes on its interval while shown, and stops when unmounted', async () => {
  serveList(() => []);
  await act(async () => {
    render(<PendingTransfers task={conversationTask()} actions={actions} refreshMs={40} />, container);
  });
  await settle(300);
  const whileShown = functions.requestsTo('/list-transfers').length;
  expect(whileShown).toBeGreaterThanOrEqual(4);

  act(() => {
    unmountComponentAtNode(container);
  });
  await settle(200);
  expect(functions.requestsTo('/list-transfers').length).toBe(whileShown);
});

test('a transfer sent from this plugin refreshes the list at once', async () => {
  const task = conversationTask();
  serveList(() => []);
  functions.on('/transfer-to-queue', (form) => ({
    status: 201,
    body: {
      inviteSid: sid('KG'),
      interactionSid: form.interactionSid,
      channelSid: form.channelSid,
      taskSid: sid('WT'),
      target: { type: 'queue', sid: form.queueSid },
      transferType: 'warm',
      participantClosed: false,
      participantCloses: null,
      warnings: [],
    },
  }));
  await act(async () => {
    render(<PendingTransfers task={task} actions={actions} refreshMs={60_000} />, container);
  });
  await settle();
  expect(functions.requestsTo('/list-transfers')).toHaveLength(1);

  await act(async () => {
    await actions.transferTask({ task, targetSid: sid('WQ'), options: { mode: 'WARM' } }, async () => undefined);
  });
  await waitUntil(() => functions.requestsTo('/list-transfers').length === 2);
});

test('a list the functions refuse is shown as a problem, not as an empty list', async () => {
  functions.on('/list-transfers', errorAnswer(403, 'forbidden', 'Not your conversation.'));
  await act(async () => {
    render(<PendingTransfers task={conversationTask()} actions={actions} refreshMs={60_000} />, container);
  });
  await settle();
  expect(container.querySelector('[role="alert"]')?.textContent).toBe('The transfers could not be read: Not your conversation.');
  expect(container.textContent).not.toContain('No transfers');
});

test('the Transfer button opens the directory, and is disabled while a transfer of its task is in flight', async () => {
  const task = conversationTask();
  const opened: unknown[] = [];
  const held = deferred<Answer>();
  functions.on('/transfer-to-queue', () => held.promise);
  await act(async () => {
    render(<TransferButton task={task} actions={actions} openDirectory={(chosen) => opened.push(chosen)} />, container);
  });
  const button = () => container.querySelector('button') as HTMLButtonElement;

  act(() => button().click());
  expect(opened).toEqual([task]);

  let transfer: Promise<unknown> = Promise.resolve();
  await act(async () => {
    transfer = actions.transferTask({ task, targetSid: sid('WQ'), options: { mode: 'WARM' } }, async () => undefined);
  });
  expect(button().disabled).toBe(true);
  expect(button().textContent).toBe('Transferring…');

  await act(async () => {
    held.resolve(errorAnswer(409, 'already_participant', 'Already there.'));
    await transfer.catch(() => undefined);
  });
  expect(button().disabled).toBe(false);
  expect(button().textContent).toBe('Transfer');
});
