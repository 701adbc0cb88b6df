import { runtimeHandler } from '../runtime/adapter';

/** POST /list-transfers: see src/registry.ts. */
export const handler = runtimeHandler('list-transfers');
