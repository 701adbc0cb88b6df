import React from 'react';

import type { NotificationContext } from '../notification-catalog';

export interface TransferNoticeProps {
  title: string;
  /** Flex sets this to the context given to showNotification. */
  notificationContext?: NotificationContext;
}

/** A notification's text: the title, then the function's message, then the request id to quote. */
export function TransferNotice({ title, notificationContext }: TransferNoticeProps): JSX.Element {
  const message = notificationContext?.message;
  const requestId = notificationContext?.requestId;
  return (
    <span>
      {title}
      {message !== undefined && message !== '' && ` ${message}`}
      {requestId !== undefined && ` (request ${requestId})`}
    </span>
  );
}
