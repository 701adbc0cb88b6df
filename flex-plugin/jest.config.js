/**
 * `flex-plugin test` (what `twilio flex:plugins:test` runs) builds Jest's configuration from the
 * @twilio/flex-plugin-test preset (jsdom, Babel with babel-preset-react-app, tests under src/) and passes it here.
 */
module.exports = (config) => ({
  ...config,
  // jsdom lacks crypto.randomUUID, which browsers running Flex have: give the tests Node's Web Crypto.
  setupFiles: [...(config.setupFiles || []), '<rootDir>/jest.setup.js'],
  // Some suites wait on real timers (the client's retries, the pending view's refresh interval).
  testTimeout: 15000,
});
