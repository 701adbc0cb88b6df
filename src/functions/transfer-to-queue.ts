import { createTransferHandler } from '../lib/pipeline';

/** POST /transfer-to-queue: invite a TaskRouter queue to an interaction channel. */
export const handler = createTransferHandler('transfer-to-queue', 'queue');
