/** Unit tests: specs beside the code, no broker and no browser. */
const esm = {
  testEnvironment: 'node',
  testRegex: '\\.spec\\.ts$',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};

export default {
  projects: [
    {
      // The gateway (src/), scripts/ for the scaling model, and the bench's harness.
      displayName: 'gateway',
      rootDir: 'src',
      roots: ['<rootDir>', '<rootDir>/../scripts', '<rootDir>/../bench'],
      ...esm,
      transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/../tsconfig.json' }] },
    },
    {
      // The browser client, in Node: fetch, streams and BroadcastChannel are Node's own.
      displayName: 'client',
      rootDir: 'client/src',
      ...esm,
      transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/../tsconfig.json' }] },
    },
  ],
};
