import { transferHandler } from '../core/transfer';
import { adaptToRuntime } from '../runtime/adapter';

/** POST /transfer-to-queue: invite a TaskRouter queue to an interaction channel. */
export const handler = adaptToRuntime('transfer-to-queue', transferHandler('transfer-to-queue', 'queue'));
