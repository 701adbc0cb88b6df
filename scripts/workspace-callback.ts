/**
 * `npm run deploy`'s last step: point the Flex workspace's TaskRouter event
 * callback at the deployed /transfer-events, so that cold transfers close the
 * transferring agent when the new agent accepts. It never replaces a callback
 * that belongs to something else: a workspace has only one.
 */
import { type Settings } from '../src/config';
import { Deadline } from '../src/core/deadline';
import { fetchWorkspaceCallback, updateWorkspaceCallback } from '../src/twilio/taskrouter';
import type { HttpSender } from '../src/twilio/sender';
import { TwilioTransport } from '../src/twilio/transport';

/** The events /transfer-events acts on; a filter must let at least these through. */
export const REQUIRED_EVENTS = ['reservation.accepted', 'task.canceled', 'task.deleted', 'workflow.timeout'] as const;

export type CallbackAction = 'set' | 'kept' | 'left-alone';

export interface CallbackReport {
  action: CallbackAction;
  /** What to tell the person deploying. */
  message: string;
}

export async function ensureWorkspaceCallback(options: {
  settings: Pick<Settings, 'accountSid' | 'authToken' | 'workspaceSid'> & Partial<Pick<Settings, 'region' | 'edge'>>;
  /** The deployed function's URL, e.g. https://example-1234.twil.io/transfer-events. */
  callbackUrl: string;
  sender: HttpSender;
}): Promise<CallbackReport> {
  const { settings, callbackUrl } = options;
  const transport = new TwilioTransport({
    accountSid: settings.accountSid,
    authToken: settings.authToken,
    deadline: Deadline.after(20_000),
    sender: options.sender,
    region: settings.region,
    edge: settings.edge,
  });
  try {
    const current = await fetchWorkspaceCallback(transport, { workspaceSid: settings.workspaceSid });
    const { eventCallbackUrl, eventsFilter } = current;
    if (eventCallbackUrl === undefined) {
      await updateWorkspaceCallback(transport, {
        workspaceSid: settings.workspaceSid,
        eventCallbackUrl: callbackUrl,
        eventsFilter: [...REQUIRED_EVENTS],
      });
      return {
        action: 'set',
        message: `Workspace ${settings.workspaceSid}: EventCallbackUrl set to ${callbackUrl} (events: ${REQUIRED_EVENTS.join(', ')}). Cold transfers now close the transferring agent when the new agent accepts.`,
      };
    }
    // TaskRouter signs the exact URL it posts to: only that URL, to the letter, is this service's.
    if (eventCallbackUrl === callbackUrl) {
      const missing = eventsFilter === undefined ? [] : REQUIRED_EVENTS.filter((event) => !eventsFilter.includes(event));
      if (missing.length === 0) {
        return { action: 'kept', message: `Workspace ${settings.workspaceSid}: EventCallbackUrl is already ${callbackUrl}; kept.` };
      }
      await updateWorkspaceCallback(transport, {
        workspaceSid: settings.workspaceSid,
        eventCallbackUrl: callbackUrl,
        eventsFilter: [...(eventsFilter ?? []), ...missing],
      });
      return {
        action: 'set',
        message: `Workspace ${settings.workspaceSid}: EventCallbackUrl kept; its EventsFilter now includes ${missing.join(', ')}.`,
      };
    }
    return {
      action: 'left-alone',
      message:
        `Workspace ${settings.workspaceSid} already sends its TaskRouter events to ${eventCallbackUrl}, which is not this service: nothing was changed (a workspace has one callback). ` +
        `Until ${callbackUrl} receives reservation.accepted, task.canceled, task.deleted and workflow.timeout (forward them from your callback, or make this one the callback), ` +
        'cold transfers close the transferring agent at once and answer a warning naming TRANSFER_COLD_CLOSE; set TRANSFER_COLD_CLOSE=immediate to silence it. See "Setting up the workspace callback" in the README.',
    };
  } finally {
    transport.close();
  }
}
