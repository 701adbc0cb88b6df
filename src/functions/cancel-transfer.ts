import { cancelTransferHandler } from '../core/pending-transfers';
import { adaptToRuntime } from '../runtime/adapter';

/** POST /cancel-transfer: cancel a transfer's task before anyone accepts it. */
export const handler = adaptToRuntime('cancel-transfer', cancelTransferHandler);
