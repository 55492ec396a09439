// Lint enforces the layout's boundaries and a few hygiene rules (see ../shared/docs/style.md).
import tseslint from 'typescript-eslint';


export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/.out/**', '**/*.mjs', '**/*.js'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-warning-comments': ['error', { terms: ['todo', 'fixme', 'xxx'] }],
    },
  },
  {
    files: ['backend/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'The backend never imports vscode.' }], patterns: [{ group: ['**/extension/**', '**/webviews/**'], allowTypeImports: true, message: 'Only `import type` may cross top-level folders.' }] }],
    },
  },
  {
    files: ['extension/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [{ name: 'better-sqlite3', message: 'Native modules live in the backend.' }, { name: 'onnxruntime-node', message: 'Native modules live in the backend.' }], patterns: [{ group: ['**/backend/src/**', '**/webviews/**'], allowTypeImports: true, message: 'Only `import type` may cross top-level folders.' }] }],
    },
  },
  {
    files: ['webviews/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'Webviews are browser code.' }], patterns: [{ group: ['node:*', '**/backend/**', '**/extension/**'], allowTypeImports: true, message: 'Webviews are browser code; only `import type` may cross top-level folders.' }] }],
    },
  },
);
