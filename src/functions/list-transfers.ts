import { listTransfersHandler } from '../core/pending-transfers';
import { adaptToRuntime } from '../runtime/adapter';

/** POST /list-transfers: the transfers of an interaction channel, newest first. */
export const handler = adaptToRuntime('list-transfers', listTransfersHandler);
