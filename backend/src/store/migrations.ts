/**
 * Schema migrations of the core store. Each feature keeps its own list (named `<feature>/<NNN>-<what>`) and
 * adds it to ALL_MIGRATIONS in store/db.ts; the table schema_migrations records which names were applied.
 * Indexes follow the queries in the repositories: run search by experiment and start time, latest-metric
 * filters and sorts by (key, value), metric history by (run, key, step), registry lookups by name.
 */
export interface Migration {
  /** Unique and never changed once released: `<feature>/<NNN>-<what>`. */
  readonly name: string;
  readonly sql: string;
}

export const coreMigrations: readonly Migration[] = [
  {
    name: 'core/001-tracking',
    sql: `
CREATE TABLE experiments (
  experiment_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active',
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL
);
CREATE TABLE experiment_tags (
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;
CREATE TABLE runs (
  run_uuid TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  name TEXT NOT NULL,
  user_id TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  artifact_uri TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active',
  deleted_time INTEGER,
  -- Bumped once per logged batch that wrote metric points: one row write per batch tells watchers (sync) the run
  -- changed, where a per-row trigger on metrics would cost a write per point.
  data_version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time DESC, run_uuid);
CREATE TABLE params (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;
CREATE INDEX params_by_key ON params (key, value);
CREATE TABLE tags (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;
CREATE INDEX tags_by_key ON tags (key, value);
-- Full history, keyed in the order history is read (timestamp, step, value). NaN is stored as value 0 with
-- is_nan 1; the key makes exact duplicates a no-op, as MLflow does.
CREATE TABLE metrics (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  value REAL NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  model_id TEXT,
  dataset_name TEXT,
  dataset_digest TEXT,
  PRIMARY KEY (run_uuid, key, timestamp, step, value, is_nan)
) WITHOUT ROWID;
-- Latest value per key: max of (step, timestamp, value), MLflow's rule. Searched by (key, value).
CREATE TABLE latest_metrics (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value REAL NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL,
  PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;
CREATE INDEX latest_metrics_by_key ON latest_metrics (key, is_nan, value);
CREATE TABLE datasets (
  dataset_uuid TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source TEXT NOT NULL,
  schema TEXT,
  profile TEXT,
  UNIQUE (experiment_id, name, digest)
);
CREATE TABLE run_inputs (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
  dataset_uuid TEXT NOT NULL REFERENCES datasets(dataset_uuid),
  tags TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (run_uuid, dataset_uuid)
) WITHOUT ROWID;
CREATE TABLE run_model_io (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
  direction TEXT NOT NULL CHECK (direction IN ('input', 'output')),
  model_id TEXT NOT NULL,
  step INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_uuid, direction, model_id)
) WITHOUT ROWID;
-- What reproduces a run beyond MLflow's tags: written by our launchers (code state, image, environment).
CREATE TABLE run_lineage (
  run_uuid TEXT PRIMARY KEY REFERENCES runs(run_uuid) ON DELETE CASCADE,
  code_commit TEXT,
  code_dirty INTEGER,
  code_diff_digest TEXT,
  image_digest TEXT,
  command TEXT,
  environment TEXT
);
CREATE TABLE logged_models (
  model_id TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  name TEXT NOT NULL,
  artifact_location TEXT NOT NULL,
  creation_timestamp_ms INTEGER NOT NULL,
  last_updated_timestamp_ms INTEGER NOT NULL,
  status TEXT NOT NULL,
  status_message TEXT,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active',
  model_type TEXT,
  source_run_id TEXT
);
CREATE INDEX logged_models_by_experiment ON logged_models (experiment_id, creation_timestamp_ms DESC);
CREATE INDEX logged_models_by_run ON logged_models (source_run_id);
CREATE TABLE logged_model_params (
  model_id TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
CREATE TABLE logged_model_tags (
  model_id TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
`,
  },
  {
    name: 'core/002-registry-and-audit',
    sql: `
CREATE TABLE registered_models (
  name TEXT PRIMARY KEY,
  creation_time INTEGER NOT NULL,
  last_updated_time INTEGER NOT NULL,
  description TEXT,
  user_id TEXT
);
CREATE INDEX registered_models_by_update ON registered_models (last_updated_time);
CREATE TABLE registered_model_tags (
  name TEXT NOT NULL REFERENCES registered_models(name) ON DELETE CASCADE ON UPDATE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (name, key)
) WITHOUT ROWID;
CREATE TABLE model_versions (
  name TEXT NOT NULL REFERENCES registered_models(name) ON DELETE CASCADE ON UPDATE CASCADE,
  version INTEGER NOT NULL,
  creation_time INTEGER NOT NULL,
  last_updated_time INTEGER NOT NULL,
  description TEXT,
  user_id TEXT,
  current_stage TEXT NOT NULL DEFAULT 'None',
  source TEXT NOT NULL,
  storage_location TEXT,
  run_id TEXT,
  run_link TEXT,
  status TEXT NOT NULL DEFAULT 'READY',
  status_message TEXT,
  model_id TEXT,
  PRIMARY KEY (name, version)
);
CREATE INDEX model_versions_by_run ON model_versions (run_id);
CREATE TABLE model_version_tags (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (name, version, key),
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version) ON DELETE CASCADE ON UPDATE CASCADE
) WITHOUT ROWID;
CREATE TABLE registered_model_aliases (
  name TEXT NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (name, alias),
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version) ON DELETE CASCADE ON UPDATE CASCADE
) WITHOUT ROWID;
-- Append-only: the triggers refuse any change to a written event.
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ts INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  object_type TEXT NOT NULL,
  object_id TEXT NOT NULL,
  before TEXT,
  after TEXT,
  reason TEXT
);
CREATE INDEX audit_by_object ON audit_log (object_type, object_id, id);
CREATE INDEX audit_by_action ON audit_log (action, id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
`,
  },
];
