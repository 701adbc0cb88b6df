// Browsers that run Flex have crypto.randomUUID (Flex is served over https); jsdom does not. Use Node's Web Crypto.
const { webcrypto } = require('crypto');

if (typeof globalThis.crypto === 'undefined' || typeof globalThis.crypto.randomUUID !== 'function') {
  Object.defineProperty(globalThis, 'crypto', { value: webcrypto, configurable: true });
}
