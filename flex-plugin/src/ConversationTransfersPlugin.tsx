import React from 'react';
import * as Flex from '@twilio/flex-ui';
import { FlexPlugin } from '@twilio/flex-plugin';

import { PendingTransfers } from './components/PendingTransfers';
import { TransferButton } from './components/TransferButton';
import { configuredFunctionsUrl, type FunctionsUrl } from './config';
import type { NotificationContext } from './notification-catalog';
import { registerNotifications } from './notifications';
import { isConversationTask, type TaskLike, TransferActions, type TransferTaskPayloadLike } from './transfer-actions';
import { TransferClient } from './transfer-client';

const PLUGIN_NAME = 'ConversationTransfersPlugin';
const LOG_PREFIX = 'conversation-transfers:';

/**
 * Whether Flex's native conversation transfers are on: Flex keeps the account's Conversation Transfers setting
 * (Console > Flex > Features) in its store at `flex.featureFlags.transfersConfig.enabled`; Flex itself shows its
 * Transfer button on conversation tasks only when it is true.
 */
export function nativeConversationTransfersEnabled(manager: Flex.Manager): boolean {
  const state = manager.store.getState() as { flex?: { featureFlags?: { transfersConfig?: { enabled?: boolean } } } };
  return state.flex?.featureFlags?.transfersConfig?.enabled === true;
}

/** What init decided, for the tests and the console. */
export type StartOutcome = { started: true; actions: TransferActions } | { started: false; reason: string };

/** Wires the plugin into Flex; separate from the class so that tests can pass a functions URL. */
export function startPlugin(flex: typeof Flex, manager: Flex.Manager, functionsUrl: FunctionsUrl = configuredFunctionsUrl()): StartOutcome {
  const standDown = (reason: string): StartOutcome => {
    console.warn(`${LOG_PREFIX} not replacing TransferTask: ${reason}.`);
    return { started: false, reason };
  };
  if (!functionsUrl.ok) return standDown(`${functionsUrl.problem} (see docs/flex-plugin.md)`);
  if (nativeConversationTransfersEnabled(manager)) {
    return standDown('Flex native conversation transfers are enabled for this account, and Flex owns the Transfer button');
  }

  registerNotifications(flex.Notifications);
  const client = new TransferClient({ baseUrl: functionsUrl.url, token: () => manager.user.token });
  const actions = new TransferActions({
    client,
    notify: (id: string, context?: NotificationContext) => void flex.Notifications.showNotification(id, context),
    nativeTransfersEnabled: () => nativeConversationTransfersEnabled(manager),
    log: (message) => console.info(message),
  });

  flex.Actions.replaceAction('TransferTask', (payload, original) =>
    actions.transferTask(payload as TransferTaskPayloadLike, original as (payload: TransferTaskPayloadLike) => unknown),
  );
  flex.Actions.addListener('beforeWrapupTask', (payload, abort) => actions.beforeWrapup(payload, abort));
  flex.Actions.addListener('beforeCompleteTask', (payload, abort) => actions.beforeWrapup(payload, abort));

  const isLiveConversation = (task: TaskLike | undefined) =>
    isConversationTask(task) && (task as { taskStatus?: string }).taskStatus === 'assigned';
  const openDirectory = (task: TaskLike) => void flex.Actions.invokeAction('ShowDirectory', { task });
  flex.TaskCanvasHeader.Content.add(
    <TransferButton key="conversation-transfers-button" actions={actions} openDirectory={openDirectory} />,
    {
      sortOrder: -1,
      if: (props) => isLiveConversation(props.task),
    },
  );

  const PendingTransfersOfTask = flex.withTaskContext(PendingTransfers);
  flex.TaskCanvasTabs.Content.add(
    <flex.Tab key="conversation-transfers-tab" uniqueName="conversation-transfers" label="Transfers">
      <PendingTransfersOfTask actions={actions} />
    </flex.Tab>,
    { if: (props) => isConversationTask(props.task) },
  );
  console.info(`${LOG_PREFIX} TransferTask of conversation tasks goes to ${functionsUrl.url}.`);
  return { started: true, actions };
}

export default class ConversationTransfersPlugin extends FlexPlugin {
  constructor() {
    super(PLUGIN_NAME);
  }

  /** Run by Flex when it loads the plugin. */
  async init(flex: typeof Flex, manager: Flex.Manager): Promise<void> {
    startPlugin(flex, manager);
  }
}
