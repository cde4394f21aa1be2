/**
 * The Angular app's jest project (jest-preset-angular, jsdom, zoneless). The root jest.config.js
 * lists it in `projects`; run it alone with `npm test -- --selectProjects web`.
 */
const { createCjsPreset } = require('jest-preset-angular/presets');

const preset = createCjsPreset({ tsconfig: '<rootDir>/tsconfig.spec.json' });

module.exports = {
  ...preset,
  displayName: 'web',
  rootDir: __dirname,
  setupFilesAfterEnv: ['<rootDir>/src/test-setup.ts'],
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  transformIgnorePatterns: ['node_modules/(?!(.*\\.mjs$|marked/|@angular/common/locales/.*\\.js$))'],
  moduleNameMapper: {
    '^@contract/(.*)$': '<rootDir>/../contract/$1',
  },
};
