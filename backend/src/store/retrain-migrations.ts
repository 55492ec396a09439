import type { Migration } from './migrations';

/**
 * Retraining (issue 13): one policy per registered model and endpoint (its settings as JSON, its durable schedule and
 * an incident deferred by the cool-down), the ledger of retrains, and each retrain's transitions with their reasons.
 * A retrain started by an incident is unique per policy and incident (the debounce survives restarts).
 */
export const retrainMigrations: readonly Migration[] = [
  {
    name: 'retrain/001-policies-ledger',
    sql: `
CREATE TABLE retrain_policies (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  model TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  config TEXT NOT NULL,
  next_scheduled_at INTEGER,
  deferred TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL,
  UNIQUE (model, endpoint)
);
CREATE TABLE retrains (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  policy_id INTEGER NOT NULL REFERENCES retrain_policies (id) ON DELETE CASCADE,
  model TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  trigger TEXT NOT NULL CHECK (trigger IN ('manual', 'schedule', 'drift', 'performance')),
  evidence TEXT NOT NULL,
  incident_id TEXT,
  status TEXT NOT NULL,
  reason TEXT NOT NULL,
  pipeline_run_id TEXT,
  data_file TEXT,
  challenger_version INTEGER,
  champion_version INTEGER,
  decision TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE UNIQUE INDEX retrains_one_per_incident ON retrains (policy_id, incident_id) WHERE incident_id IS NOT NULL;
CREATE INDEX retrains_by_policy ON retrains (policy_id, created_at);
CREATE TABLE retrain_transitions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  retrain_id INTEGER NOT NULL REFERENCES retrains (id) ON DELETE CASCADE,
  status TEXT NOT NULL,
  reason TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX retrain_transitions_by_retrain ON retrain_transitions (retrain_id, id);
`,
  },
  {
    // Online A/B experiments (issue 13): champion vs challenger on one endpoint, analysed continuously with the
    // always-valid sequential test; each look is kept so the confidence sequence can be drawn over time.
    name: 'retrain/002-ab-experiments',
    sql: `
CREATE TABLE ab_experiments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  endpoint TEXT NOT NULL,
  model TEXT NOT NULL,
  control TEXT NOT NULL,
  treatment TEXT NOT NULL,
  retrain_id INTEGER REFERENCES retrains (id) ON DELETE SET NULL,
  config TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'promoted', 'rejected', 'inconclusive', 'stopped')),
  reason TEXT NOT NULL,
  analysis TEXT,
  started_at INTEGER NOT NULL,
  log_since INTEGER NOT NULL,
  deadline INTEGER NOT NULL,
  ended_at INTEGER,
  created_by TEXT NOT NULL
);
CREATE UNIQUE INDEX ab_experiments_one_running ON ab_experiments (endpoint) WHERE status = 'running';
CREATE TABLE ab_looks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  experiment_id INTEGER NOT NULL REFERENCES ab_experiments (id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  n_control INTEGER NOT NULL,
  n_treatment INTEGER NOT NULL,
  difference REAL NOT NULL,
  low REAL,
  high REAL,
  p_value REAL NOT NULL
);
CREATE INDEX ab_looks_by_experiment ON ab_looks (experiment_id, id);
`,
  },
];
