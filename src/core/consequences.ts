import type { Failure } from '../errors';
import type { TwilioOperation } from '../twilio/operations';

/**
 * What a failed call to Twilio means for the transfer or the cancel it was
 * part of, told to the caller after the failure itself: whether it was
 * certainly not sent, or may have been carried out.
 */
export interface Consequences {
  notSent: string;
  uncertain: string;
}

function uncertain(operation: TwilioOperation): string {
  switch (operation) {
    case 'invite-create':
      return 'The invite may have been created: repeat the request with the same Idempotency-Key (or list the transfers) rather than sending a new one.';
    case 'participant-update':
      return 'The invite was created; the transferring participant may not be closed.';
    case 'task-update':
      return 'The transfer may have been canceled: list the transfers to see.';
    case 'sync-update':
      return 'The transfer was made.';
    default:
      return 'Nothing was created.';
  }
}

function notSent(operation: TwilioOperation): string {
  if (operation === 'participant-update') return 'The invite was created; the transferring participant is not closed.';
  if (operation === 'task-update') return 'Nothing was canceled.';
  return 'Nothing was created.';
}

export function consequencesOf(operation: TwilioOperation): Consequences {
  return { notSent: notSent(operation), uncertain: uncertain(operation) };
}

/** Gives an upstream failure the consequences of its operation, unless the step that threw it said its own. */
export function withConsequences(failure: Failure): Failure {
  if ('operation' in failure && failure.consequences === undefined) failure.consequences = consequencesOf(failure.operation);
  return failure;
}
