import { runtimeHandler } from '../runtime/adapter';

/** POST /cancel-transfer: see src/registry.ts. */
export const handler = runtimeHandler('cancel-transfer');
