/**
 * The plugin's init against a stand-in for Flex (only `@twilio/flex-ui` is mocked): what it replaces, registers and
 * adds, when it stands down, and the TransferTask action as Flex's directory invokes it.
 */
import React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';

import { startPlugin } from '../ConversationTransfersPlugin';
import { functionsUrlFrom } from '../config';
import { ERROR_CODES, errorNotificationId, NOTIFICATION_IDS, NOTIFICATIONS } from '../notification-catalog';
import { createFakeFlex, fakeManager } from '../test-support/fake-flex';
import { conversationTask, FakeFunctions, sid, transferAnswer, voiceTask } from '../test-support/fake-functions';

jest.mock('@twilio/flex-ui', () => jest.requireActual('../test-support/fake-flex').createFakeFlex().flexModule);

const URL_OK = functionsUrlFrom('https://transfers.example.test/');

let functions: FakeFunctions;
let warn: jest.SpyInstance;
let info: jest.SpyInstance;
beforeEach(() => {
  functions = new FakeFunctions();
  // The plugin's client uses the page's fetch, as in Flex.
  (globalThis as { fetch?: unknown }).fetch = functions.fetch;
  warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  info = jest.spyOn(console, 'info').mockImplementation(() => undefined);
});
afterEach(() => {
  warn.mockRestore();
  info.mockRestore();
  delete (globalThis as { fetch?: unknown }).fetch;
});

function start(options: { nativeTransfers?: boolean; url?: ReturnType<typeof functionsUrlFrom> } = {}) {
  const flex = createFakeFlex();
  const manager = fakeManager({ nativeTransfers: options.nativeTransfers });
  // The stand-in covers the parts of Flex the plugin uses; the cast is the one place it is passed as all of Flex.
  const outcome = startPlugin(flex.flexModule as never, manager as never, options.url ?? URL_OK);
  return { flex, manager, outcome };
}

describe('init', () => {
  test('replaces TransferTask, guards wrap-up and complete, adds the Transfer button and the Transfers tab', () => {
    const { flex, outcome } = start();
    expect(outcome.started).toBe(true);
    expect(flex.flexModule.Actions.replaceAction).toHaveBeenCalledWith('TransferTask', expect.any(Function));
    expect(flex.flexModule.Actions.replaceAction).toHaveBeenCalledTimes(1);
    expect(flex.flexModule.Actions.addListener.mock.calls.map(([event]) => event)).toEqual(['beforeWrapupTask', 'beforeCompleteTask']);
    expect(flex.header).toHaveLength(1);
    expect(flex.tabs).toHaveLength(1);
    expect(info).toHaveBeenCalledWith(expect.stringContaining('https://transfers.example.test'));
  });

  test('the button and the tab are shown for conversation tasks only; the button only while the task is assigned', () => {
    const { flex } = start();
    const showButton = flex.header[0]?.options.if ?? (() => true);
    const showTab = flex.tabs[0]?.options.if ?? (() => true);
    expect(showButton({ task: conversationTask() })).toBe(true);
    expect(showButton({ task: conversationTask({ taskStatus: 'wrapping' }) })).toBe(false);
    expect(showButton({ task: voiceTask() })).toBe(false);
    expect(showTab({ task: conversationTask({ taskStatus: 'wrapping' }) })).toBe(true);
    expect(showTab({ task: voiceTask() })).toBe(false);
  });

  test('registers one notification per error code the functions or the client report, plus the others', () => {
    const { flex } = start();
    const ids = flex.registered.map((notification) => notification.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(NOTIFICATIONS.map((entry) => entry.id));
    for (const code of ['already_participant', 'transferring_agent_gone', ...ERROR_CODES]) {
      expect(ids).toContain(errorNotificationId(code as (typeof ERROR_CODES)[number]));
    }
    const byId = new Map(flex.registered.map((notification) => [notification.id, notification]));
    expect(byId.get(NOTIFICATION_IDS.transferred)?.type).toBe('success');
    expect(byId.get(NOTIFICATION_IDS.awaitingAcceptance)?.type).toBe('information');
    expect(byId.get(errorNotificationId('already_participant'))?.type).toBe('error');
  });

  test("a notification shows its title, then the function's message and request id from the context", () => {
    const { flex } = start();
    const notification = flex.registered.find((entry) => entry.id === errorNotificationId('already_participant'));
    if (notification?.content === undefined) throw new Error('no content registered');
    // As Flex renders element content: cloned with the context given to showNotification.
    const text = renderToStaticMarkup(
      React.cloneElement(notification.content, { notificationContext: { message: 'WK1 is already in UO1.', requestId: 'RQ9' } }),
    );
    expect(text).toBe('<span>That agent is already in this conversation. WK1 is already in UO1. (request RQ9)</span>');
  });

  test('stands down when native conversation transfers are on: nothing replaced or added, and the console says why', () => {
    const { flex, outcome } = start({ nativeTransfers: true });
    expect(outcome).toEqual({ started: false, reason: expect.stringMatching(/native conversation transfers are enabled/) });
    expect(flex.flexModule.Actions.replaceAction).not.toHaveBeenCalled();
    expect(flex.flexModule.Actions.addListener).not.toHaveBeenCalled();
    expect(flex.registered).toEqual([]);
    expect(flex.header).toEqual([]);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/not replacing TransferTask: Flex native conversation transfers are enabled/));
  });

  test('stands down when the functions URL is not configured, naming the variable', () => {
    const { flex, outcome } = start({ url: functionsUrlFrom(undefined) });
    expect(outcome.started).toBe(false);
    expect(flex.flexModule.Actions.replaceAction).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('FLEX_APP_TRANSFER_FUNCTIONS_URL is not set'));
  });
});

describe('TransferTask through Flex', () => {
  test("the directory's choice for a conversation task goes to the functions with the agent's current token", async () => {
    const { flex, manager } = start();
    functions.on('/transfer-to-queue', (form) => transferAnswer(form));
    const task = conversationTask();
    const queueSid = sid('WQ');
    manager.user.token = 'eyJ.token.refreshed.by.flex';

    await flex.flexModule.Actions.invokeAction('TransferTask', { task, targetSid: queueSid, options: { mode: 'WARM' } });

    expect(functions.received.map(({ path, form }) => [path, form.queueSid, form.Token])).toEqual([
      ['/transfer-to-queue', queueSid, 'eyJ.token.refreshed.by.flex'],
    ]);
    expect(flex.originals('TransferTask')).not.toHaveBeenCalled();
    expect(flex.shown).toEqual([{ id: NOTIFICATION_IDS.transferred, context: undefined }]);
  });

  test('a voice task goes to the original TransferTask; nothing is sent', async () => {
    const { flex } = start();
    const payload = { task: voiceTask(), targetSid: sid('WK'), options: { mode: 'COLD' } };
    await expect(flex.flexModule.Actions.invokeAction('TransferTask', payload)).resolves.toBe('original TransferTask');
    expect(flex.originals('TransferTask')).toHaveBeenCalledWith(payload);
    expect(functions.received).toEqual([]);
  });

  test('native transfers turned on after start: the action is left to Flex from then on', async () => {
    const { flex, manager } = start();
    manager.nativeTransfers = true;
    const payload = { task: conversationTask(), targetSid: sid('WQ'), options: { mode: 'WARM' } };
    await expect(flex.flexModule.Actions.invokeAction('TransferTask', payload)).resolves.toBe('original TransferTask');
    expect(functions.received).toEqual([]);
  });

  test('WrapupTask of the task is aborted while its transfer is in flight; the original runs once it is answered', async () => {
    const { flex } = start();
    let answer: (() => void) | undefined;
    functions.on('/transfer-to-queue', (form) => new Promise((resolve) => (answer = () => resolve(transferAnswer(form)))));
    const task = conversationTask();
    const transfer = flex.flexModule.Actions.invokeAction('TransferTask', { task, targetSid: sid('WQ'), options: { mode: 'WARM' } });
    while (answer === undefined) await new Promise((resolve) => setTimeout(resolve, 5));

    await flex.flexModule.Actions.invokeAction('WrapupTask', { task });
    expect(flex.originals('WrapupTask')).not.toHaveBeenCalled();
    expect(flex.shown.map((notice) => notice.id)).toEqual([NOTIFICATION_IDS.wrapupBlocked]);

    answer();
    await transfer;
    await flex.flexModule.Actions.invokeAction('WrapupTask', { task });
    expect(flex.originals('WrapupTask')).toHaveBeenCalledTimes(1);
  });
});
