import type { Migration } from './migrations';

/**
 * Monitors of endpoints (issue 12): their configuration and durable schedule (next_run_at survives restarts), the
 * history of their checks, and incidents. At most one unresolved incident per monitor (a partial unique index), so a
 * failing monitor can never open a duplicate.
 */
export const monitorMigrations: readonly Migration[] = [
  {
    name: 'monitors/001-monitors-results-incidents',
    sql: `
CREATE TABLE monitors (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  endpoint TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('data_drift', 'prediction_drift', 'concept_drift', 'performance')),
  config TEXT NOT NULL,
  paused INTEGER NOT NULL DEFAULT 0,
  next_run_at INTEGER NOT NULL,
  last_run_at INTEGER,
  last_status TEXT,
  last_result_id INTEGER,
  failures INTEGER NOT NULL DEFAULT 0,
  passes INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (endpoint, kind)
);
CREATE TABLE monitor_results (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  monitor_id INTEGER NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
  checked_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'insufficient_data', 'error')),
  score REAL,
  summary TEXT NOT NULL,
  rows INTEGER NOT NULL DEFAULT 0,
  window_from INTEGER,
  window_to INTEGER,
  details TEXT NOT NULL
);
CREATE INDEX monitor_results_by_monitor ON monitor_results (monitor_id, id);
CREATE TABLE incidents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  monitor_id INTEGER NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
  endpoint TEXT NOT NULL,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
  status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
  summary TEXT NOT NULL,
  opened_at INTEGER NOT NULL,
  opened_result_id INTEGER,
  last_result_id INTEGER,
  acknowledged_at INTEGER,
  acknowledged_by TEXT,
  ack_reason TEXT,
  resolved_at INTEGER,
  resolved_by TEXT,
  resolve_reason TEXT,
  evidence TEXT NOT NULL
);
CREATE UNIQUE INDEX incidents_one_unresolved ON incidents (monitor_id) WHERE status != 'resolved';
CREATE INDEX incidents_by_status ON incidents (status, id);
`,
  },
  {
    // mlops.yaml's monitoring: section (mlops monitor apply): settings per endpoint and kind, applied to the
    // monitors now and to those an endpoint gets at its first deploy.
    name: 'monitors/002-monitor-specs',
    sql: `
CREATE TABLE monitor_specs (
  endpoint TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('data_drift', 'prediction_drift', 'concept_drift', 'performance')),
  settings TEXT NOT NULL,
  source TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (endpoint, kind)
);
`,
  },
  {
    // Concept drift and accuracy read a version's newest labelled requests: without this they scanned the whole
    // endpoint's log back to its start when few requests carry labels (34 ms per check at 130,000 rows).
    name: 'monitors/003-labelled-log-index',
    sql: `CREATE INDEX prediction_log_labelled ON prediction_log (endpoint, model_name, model_version, id) WHERE label IS NOT NULL;`,
  },
  {
    // Concept drift reads a version's requests labelled since its previous check, in label order.
    name: 'monitors/004-label-order-index',
    sql: `CREATE INDEX prediction_log_label_order ON prediction_log (endpoint, model_name, model_version, label_ts, id) WHERE label IS NOT NULL;`,
  },
];
