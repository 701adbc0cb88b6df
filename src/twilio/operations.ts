/**
 * The Twilio API operations these functions call, named once: the transport
 * labels its calls, failures and log lines with them, and the stand-in under
 * dev/ names its routes with the same words.
 */
export const TWILIO_OPERATIONS = [
  'token-validate',
  'invite-create',
  'invite-list',
  'participant-list',
  'participant-update',
  'task-fetch',
  'task-update',
  'workspace-fetch',
  'workspace-update',
  'workflow-fetch',
  'sync-create',
  'sync-fetch',
  'sync-update',
  'sync-delete',
] as const;

export type TwilioOperation = (typeof TWILIO_OPERATIONS)[number];

/** Operations that only read: Twilio never acts on them, whatever their failure. */
export const READ_OPERATIONS: ReadonlySet<TwilioOperation> = new Set([
  'token-validate',
  'invite-list',
  'participant-list',
  'task-fetch',
  'workspace-fetch',
  'workflow-fetch',
  'sync-fetch',
]);
