/**
 * The client moved into the Flex plugin: flex-plugin/src/transfer-client.ts. This re-export keeps the old import
 * path working (test/browser/cors.test.ts bundles the client from here).
 */
export * from '../../flex-plugin/src/transfer-client';
