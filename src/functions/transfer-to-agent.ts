import { runtimeHandler } from '../runtime/adapter';

/** POST /transfer-to-agent: see src/registry.ts. */
export const handler = runtimeHandler('transfer-to-agent');
