/** Unit tests: specs beside the code, no broker (src/, and scripts/ for the scaling model). */
export default {
  rootDir: 'src',
  roots: ['<rootDir>', '<rootDir>/../scripts'],
  testEnvironment: 'node',
  testRegex: '\\.spec\\.ts$',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/../tsconfig.json' }] },
};
