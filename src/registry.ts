import type { CoreHandler } from './core/engine';
import { cancelTransferHandler } from './core/cancel-transfer';
import { listTransfersHandler } from './core/list-transfers';
import { transferEventsHandler } from './core/transfer-events';
import { transferHandler } from './core/transfer';

export interface FunctionEntry {
  /** The deployed path, `/` + the function's name (and its file name under src/functions). */
  path: string;
  /** One line for people: deploy's and the sandbox's listings. */
  purpose: string;
  handler: CoreHandler;
  /** Who may call: any of the three credentials, or only a Twilio signature (TaskRouter's event callback). */
  callers: 'flex-signed-or-basic' | 'signed-only';
}

/**
 * Every function the service deploys, in one place: the runtime adapters,
 * `npm run deploy`'s URLs, the sandbox banner and the test harness read it,
 * and a test checks it against the files in src/functions.
 */
export const FUNCTIONS = {
  'transfer-to-agent': {
    path: '/transfer-to-agent',
    purpose: 'invite one specific worker to an interaction channel',
    handler: transferHandler('transfer-to-agent', 'worker'),
    callers: 'flex-signed-or-basic',
  },
  'transfer-to-queue': {
    path: '/transfer-to-queue',
    purpose: 'invite a TaskRouter queue to an interaction channel',
    handler: transferHandler('transfer-to-queue', 'queue'),
    callers: 'flex-signed-or-basic',
  },
  'list-transfers': {
    path: '/list-transfers',
    purpose: "the channel's transfers, newest first",
    handler: listTransfersHandler,
    callers: 'flex-signed-or-basic',
  },
  'cancel-transfer': {
    path: '/cancel-transfer',
    purpose: 'cancel a transfer nobody has accepted yet',
    handler: cancelTransferHandler,
    callers: 'flex-signed-or-basic',
  },
  'transfer-events': {
    path: '/transfer-events',
    purpose: "TaskRouter's workspace event callback: closes a cold transfer's agent when the new agent accepts",
    handler: transferEventsHandler,
    callers: 'signed-only',
  },
} as const satisfies Record<string, FunctionEntry>;

export type FunctionName = keyof typeof FUNCTIONS;

export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];
