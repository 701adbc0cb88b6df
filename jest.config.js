/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/examples'],
  testMatch: ['**/*.test.ts'],
  // Type-checking is `npm run typecheck`'s job; tsconfig's isolatedModules makes ts-jest transpile only.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Most suites spend their time waiting (retry backoff, child processes, a browser), not computing:
  // more workers than the 2 cores overlap those waits.
  maxWorkers: 4,
  testTimeout: 30000,
  collectCoverageFrom: ['src/**/*.ts'],
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
};
