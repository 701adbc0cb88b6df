import { transferHandler } from '../core/transfer';
import { adaptToRuntime } from '../runtime/adapter';

/** POST /transfer-to-agent: invite one specific worker to an interaction channel. */
export const handler = adaptToRuntime('transfer-to-agent', transferHandler('transfer-to-agent', 'worker'));
