import React from 'react';
import * as Flex from '@twilio/flex-ui';

import { TransferNotice } from './components/TransferNotice';
import { NOTIFICATIONS, type NotificationKind } from './notification-catalog';

const TYPES: Record<NotificationKind, Flex.NotificationType> = {
  success: Flex.NotificationType.success,
  information: Flex.NotificationType.information,
  warning: Flex.NotificationType.warning,
  error: Flex.NotificationType.error,
};

/** Registers every notification of the catalog with Flex's Notifications framework. */
export function registerNotifications(notifications: typeof Flex.Notifications): void {
  for (const entry of NOTIFICATIONS) {
    notifications.registerNotification({
      id: entry.id,
      type: TYPES[entry.kind],
      content: <TransferNotice title={entry.title} />,
      closeButton: true,
      ...(entry.timeoutMs > 0 ? { timeout: entry.timeoutMs } : {}),
    });
  }
}
