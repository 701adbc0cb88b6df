import { runtimeHandler } from '../runtime/adapter';

/** POST /transfer-events: see src/registry.ts. */
export const handler = runtimeHandler('transfer-events');
