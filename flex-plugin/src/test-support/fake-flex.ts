/**
 * Test-only: a stand-in for the `@twilio/flex-ui` module (the only thing the plugin's tests mock), with the parts the
 * plugin touches behaving as Flex's do: Actions (replaceAction, addListener with abort, invokeAction running
 * before-listeners, then the replacement with the original), Notifications (register, show), and the dynamic content
 * stores of TaskCanvasHeader and TaskCanvasTabs. A test reads what was registered and drives Flex's side from it.
 */
import React from 'react';

type Payload = Record<string, unknown>;
type ActionImpl = (payload: Payload) => Promise<unknown>;
type Replacement = (payload: Payload, original: ActionImpl) => unknown;
type BeforeListener = (payload: Payload, abort: () => void) => unknown;

export interface RegisteredNotification {
  id: string;
  type?: string;
  content?: React.ReactElement;
  timeout?: number;
  closeButton?: boolean;
}

export interface ContentEntry {
  element: React.ReactElement;
  options: { if?: (props: { task?: unknown }) => boolean; sortOrder?: number };
}

export function createFakeFlex() {
  const originals = new Map<string, jest.Mock>();
  const replacements = new Map<string, Replacement>();
  const listeners = new Map<string, BeforeListener[]>();
  const registered: RegisteredNotification[] = [];
  const shown: Array<{ id: string; context?: object }> = [];
  const header: ContentEntry[] = [];
  const tabs: ContentEntry[] = [];

  const original = (name: string): jest.Mock => {
    let mock = originals.get(name);
    if (mock === undefined) {
      mock = jest.fn(async () => `original ${name}`);
      originals.set(name, mock);
    }
    return mock;
  };

  const Actions = {
    replaceAction: jest.fn((name: string, replacement: Replacement) => {
      replacements.set(name, replacement);
    }),
    addListener: jest.fn((event: string, listener: BeforeListener) => {
      listeners.set(event, [...(listeners.get(event) ?? []), listener]);
    }),
    /** As Flex: before-listeners may abort; then the replacement (if any) with the original, else the original. */
    invokeAction: jest.fn(async (name: string, payload: Payload = {}) => {
      let aborted = false;
      for (const listener of listeners.get(`before${name}`) ?? []) {
        await listener(payload, () => {
          aborted = true;
        });
      }
      if (aborted) return undefined;
      const replacement = replacements.get(name);
      return replacement ? replacement(payload, original(name)) : original(name)(payload);
    }),
  };

  const Notifications = {
    registerNotification: jest.fn((notification: RegisteredNotification) => {
      registered.push(notification);
    }),
    showNotification: jest.fn((id: string, context?: object) => {
      shown.push({ id, context });
      return null;
    }),
  };

  const flexModule = {
    Actions,
    Notifications,
    NotificationType: { information: 'information', success: 'success', warning: 'warning', error: 'error' },
    TaskCanvasHeader: { Content: { add: jest.fn((element: React.ReactElement, options = {}) => header.push({ element, options })) } },
    TaskCanvasTabs: { Content: { add: jest.fn((element: React.ReactElement, options = {}) => tabs.push({ element, options })) } },
    /** As Flex's HOC: passes the selected task (here: the test's) as the `task` prop. */
    withTaskContext: <P extends object>(Component: React.ComponentType<P>) => {
      const WithTask = (props: P) => React.createElement(Component, { ...props, task: fakeFlexState.selectedTask });
      return WithTask;
    },
    Tab: ({ children }: { children?: React.ReactNode; label?: string; uniqueName?: string }) =>
      React.createElement(React.Fragment, null, children),
  };

  return { flexModule, originals: original, registered, shown, header, tabs };
}

/** The task Flex has selected, for withTaskContext. */
export const fakeFlexState: { selectedTask: unknown } = { selectedTask: undefined };

/** Flex's Manager, as far as the plugin reads it. */
export function fakeManager(options: { token?: string; nativeTransfers?: boolean } = {}) {
  const manager = {
    user: { token: options.token ?? 'eyJ.agent.token' },
    nativeTransfers: options.nativeTransfers ?? false,
    store: {
      getState: () => ({ flex: { featureFlags: { transfersConfig: { enabled: manager.nativeTransfers } } } }),
    },
  };
  return manager;
}
