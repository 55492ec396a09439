import type { Migration } from './migrations';

/**
 * Reference profiles of model versions (what endpoint drift compares served inputs with). One row per version:
 * `ready` with a profile; `none` when registration found no training data (so it is looked for once, not on every
 * check); `failed` with the reason. `kind` says whether the profile describes the training data or, as a fallback,
 * the first served window of the prediction log (then `log_through_id` is the last log row it used).
 */
export const driftMigrations: readonly Migration[] = [
  {
    name: 'drift/001-model-version-profiles',
    sql: `
CREATE TABLE model_version_profiles (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ready', 'none', 'failed')),
  kind TEXT NOT NULL CHECK (kind IN ('training', 'first_window')),
  profile TEXT,
  source TEXT NOT NULL,
  rows INTEGER,
  message TEXT,
  log_through_id INTEGER,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (name, version),
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version) ON DELETE CASCADE ON UPDATE CASCADE
);
`,
  },
];
