import type { Migration } from './migrations';

/**
 * Promotion gates: per registered model, what a version must show before `@champion` may point at it. The
 * conditions are JSON lists (metric conditions on the version's source run, required version tags); the
 * data-validation rule says whether the validate step of the run's pipeline must have passed.
 */
export const gatesMigrations: readonly Migration[] = [
  {
    name: 'gates/001-promotion-gates',
    sql: `
CREATE TABLE promotion_gates (
  name TEXT PRIMARY KEY REFERENCES registered_models(name) ON DELETE CASCADE ON UPDATE CASCADE,
  metrics TEXT NOT NULL DEFAULT '[]',
  tags TEXT NOT NULL DEFAULT '[]',
  data_validation TEXT NOT NULL DEFAULT 'if_recorded' CHECK (data_validation IN ('if_recorded', 'required', 'off')),
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL
);
`,
  },
  {
    // Champion/challenger comparisons (the offline evaluator): the numbers and the verdict, kept as evidence.
    name: 'gates/002-model-comparisons',
    sql: `
CREATE TABLE model_comparisons (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  champion TEXT NOT NULL,
  challenger TEXT NOT NULL,
  verdict TEXT NOT NULL,
  result TEXT NOT NULL
);
`,
  },
];
