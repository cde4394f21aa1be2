import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'proto/src/gen/**',
      'data/**',
      'client-app/web/**',
      'client-app/contract/picard-api.ts',
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Type-aware, for the two mistakes the compiler lets through: a promise nobody awaits (its
  // rejection is lost, or it races what follows) and a promise where a plain value is expected
  // (an async callback to an event emitter or Express 4-style API, whose rejection nobody handles).
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        // The web app's contract lies under client-app/server's tsconfig, not the nearest one.
        projectService: { allowDefaultProject: ['client-app/contract/bff-api.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  // A knex query builder is thenable, so every `.where((q) => q.where(...))` callback would count as
  // a promise given where void is expected; knex ignores what those callbacks return.
  {
    files: ['*/src/store/**/*.ts'],
    rules: {
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
    },
  },
);
