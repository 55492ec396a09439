import type { Migration } from './migrations';

/**
 * The serving engine's tables: endpoint configurations (restored when the backend restarts) and the prediction
 * log (sampled, bounded by row count; joined with feedback labels by request id).
 */
export const servingMigrations: readonly Migration[] = [
  {
    name: 'serving/001-endpoints-and-prediction-log',
    sql: `
CREATE TABLE serving_endpoints (
  name TEXT PRIMARY KEY,
  config TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE prediction_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  variant TEXT NOT NULL,
  model_name TEXT NOT NULL,
  model_version INTEGER NOT NULL,
  features TEXT NOT NULL,
  prediction TEXT NOT NULL,
  latency_ms REAL NOT NULL,
  ts INTEGER NOT NULL,
  label TEXT,
  label_ts INTEGER
);
CREATE INDEX prediction_log_by_request ON prediction_log (request_id);
CREATE INDEX prediction_log_by_endpoint ON prediction_log (endpoint, id);
`,
  },
];
