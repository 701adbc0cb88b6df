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
  'sync-create',
  'sync-fetch',
  'sync-update',
  'sync-delete',
] as const;

export type TwilioOperation = (typeof TWILIO_OPERATIONS)[number];
