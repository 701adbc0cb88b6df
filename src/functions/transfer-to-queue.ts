import { runtimeHandler } from '../runtime/adapter';

/** POST /transfer-to-queue: see src/registry.ts. */
export const handler = runtimeHandler('transfer-to-queue');
