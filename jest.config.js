/** One jest run covers every workspace; suites start real services (see TESTING.md). */
export default {
  testEnvironment: 'node',
  testEnvironmentOptions: { customExportConditions: ['picard-source', 'node', 'node-addons'] },
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' } }],
  },
  testMatch: ['<rootDir>/*/src/**/*.spec.ts', '<rootDir>/*/test/**/*.spec.ts', '<rootDir>/e2e/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/client-app/'],
  testTimeout: 60000,
  maxWorkers: 2,
};
