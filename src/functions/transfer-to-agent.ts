import { createTransferHandler } from '../lib/pipeline';

/** POST /transfer-to-agent: invite one specific worker to an interaction channel. */
export const handler = createTransferHandler('transfer-to-agent', 'worker');
