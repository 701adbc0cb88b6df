/**
 * Every notification the plugin shows, without Flex: ids, kinds and the sentence an agent reads. The plugin registers
 * them with Flex's Notifications framework (notifications.tsx); the action handler names them by id. One notification
 * per error code the functions (and the client) answer, so an agent always sees what went wrong in words, followed by
 * the function's own message.
 */
import { CLIENT_ERROR_CODE_LIST, SERVER_ERROR_CODE_LIST, type TransferErrorCode } from './transfer-client';

/** Flex's NotificationType values. */
export type NotificationKind = 'success' | 'information' | 'warning' | 'error';

export interface NotificationEntry {
  id: string;
  kind: NotificationKind;
  /** What happened, in the agent's words. The function's message (context.message) follows it. */
  title: string;
  /** Milliseconds before Flex dismisses it; 0 keeps it until closed. */
  timeoutMs: number;
}

/** What the handler passes to `Notifications.showNotification(id, context)`. */
export interface NotificationContext {
  /** The function's (or the client's) message, shown after the title. */
  message?: string;
  /** The functions' X-Request-Id, to quote when reporting a problem. */
  requestId?: string;
}

const PREFIX = 'ConversationTransfers';

export const NOTIFICATION_IDS = {
  transferred: `${PREFIX}.Transferred`,
  awaitingAcceptance: `${PREFIX}.AwaitingAcceptance`,
  transferWarning: `${PREFIX}.TransferWarning`,
  alreadyInFlight: `${PREFIX}.AlreadyInFlight`,
  wrapupBlocked: `${PREFIX}.WrapupBlocked`,
  notATarget: `${PREFIX}.NotATarget`,
  canceled: `${PREFIX}.Canceled`,
  failed: `${PREFIX}.Failed`,
} as const;

export const errorNotificationId = (code: TransferErrorCode): string => `${PREFIX}.Error.${code}`;

/** The title of each error code's notification. A Record: a code added to the client without a title fails `tsc`. */
const ERROR_TITLES: Record<TransferErrorCode, string> = {
  invalid_request: 'The transfer was refused: a field is not valid.',
  unauthenticated: 'The transfer service did not accept your sign-in. Reload Flex and try again.',
  forbidden: 'You may not transfer this conversation.',
  not_found: 'The transfer service could not find this conversation, task or target.',
  method_not_allowed: 'The transfer service refused the request method.',
  conflict: 'The transfer conflicts with another change to this conversation.',
  already_participant: 'That agent is already in this conversation.',
  transferring_agent_gone: 'Too late to cancel: the transferring agent has left, and canceling would leave the customer alone.',
  payload_too_large: 'The transfer carries too much data.',
  unsupported_media_type: 'The transfer service refused the request format.',
  idempotency_key_reused: 'This transfer was already sent with different details. Start a new transfer.',
  upstream_rejected: 'Twilio refused the transfer.',
  rate_limited: 'Too many transfers right now. Nothing was sent; try again shortly.',
  misconfigured: 'The transfer service is not set up correctly. Tell your administrator.',
  internal_error: 'The transfer service failed. Tell your administrator.',
  upstream_error: 'Twilio failed while transferring. Check the pending transfers before trying again.',
  upstream_unavailable: 'Twilio could not be reached. Nothing was sent; try again shortly.',
  upstream_timeout: 'Twilio did not answer in time. Check the pending transfers before trying again.',
  network_error: 'The transfer service could not be reached.',
  timeout: 'The transfer service did not answer in time. Check the pending transfers before trying again.',
  unexpected_response: 'The transfer service gave an answer this plugin does not understand.',
};

export const ERROR_CODES: readonly TransferErrorCode[] = [...SERVER_ERROR_CODE_LIST, ...CLIENT_ERROR_CODE_LIST];

const SHORT = 5_000;
const LONG = 10_000;

export const NOTIFICATIONS: readonly NotificationEntry[] = [
  { id: NOTIFICATION_IDS.transferred, kind: 'success', title: 'Transfer sent.', timeoutMs: SHORT },
  {
    id: NOTIFICATION_IDS.awaitingAcceptance,
    kind: 'information',
    title: 'Cold transfer sent. You stay in the conversation until the new agent accepts, then you leave it automatically.',
    timeoutMs: LONG,
  },
  { id: NOTIFICATION_IDS.transferWarning, kind: 'warning', title: 'The transfer was sent, with a warning.', timeoutMs: 0 },
  {
    id: NOTIFICATION_IDS.alreadyInFlight,
    kind: 'warning',
    title: 'A transfer of this conversation is already on its way. Wait for its answer.',
    timeoutMs: SHORT,
  },
  {
    id: NOTIFICATION_IDS.wrapupBlocked,
    kind: 'warning',
    title: 'A transfer of this conversation is still being sent. Wrap up once it has an answer.',
    timeoutMs: SHORT,
  },
  {
    id: NOTIFICATION_IDS.notATarget,
    kind: 'error',
    title: 'A conversation can be transferred only to an agent or a queue.',
    timeoutMs: LONG,
  },
  { id: NOTIFICATION_IDS.canceled, kind: 'success', title: 'Transfer canceled.', timeoutMs: SHORT },
  { id: NOTIFICATION_IDS.failed, kind: 'error', title: 'The transfer could not be sent.', timeoutMs: LONG },
  ...ERROR_CODES.map((code) => ({ id: errorNotificationId(code), kind: 'error' as const, title: ERROR_TITLES[code], timeoutMs: 0 })),
];

export function notificationEntry(id: string): NotificationEntry | undefined {
  return NOTIFICATIONS.find((entry) => entry.id === id);
}
