/** End-to-end tests: the real app against a real Kafka broker started in globalSetup. */
export default {
  rootDir: '..',
  testEnvironment: 'node',
  testRegex: 'test/.*\\.e2e-spec\\.ts$',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }] },
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
  testTimeout: 60_000,
  maxWorkers: 1,
  // A client a test left connecting would keep Jest alive after the last suite, until CI's limit
  // ends the run with no verdict; the teardown names whatever is left instead (see global-teardown).
  forceExit: true,
};
