import type { Migration } from './migrations';

/**
 * Tables of the training orchestrator (services/jobs and services/pipelines). A job's MLflow run lives in the
 * core `runs` table; its reproducibility record in `run_lineage`. Queued jobs are picked oldest first, so the
 * status index leads with status.
 */
export const jobsMigrations: readonly Migration[] = [
  {
    name: 'jobs/001-jobs-and-pipelines',
    sql: `
CREATE TABLE jobs (
  job_id TEXT PRIMARY KEY,
  run_uuid TEXT REFERENCES runs(run_uuid) ON DELETE SET NULL,
  launcher TEXT NOT NULL CHECK (launcher IN ('docker', 'local')),
  spec TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'finished', 'failed', 'cancelled')),
  reason TEXT,
  message TEXT,
  exit_code INTEGER,
  attempt INTEGER NOT NULL DEFAULT 0,
  handle TEXT,
  gpus TEXT,
  log_file TEXT NOT NULL,
  pipeline_run_id TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  ended_at INTEGER
);
CREATE INDEX jobs_by_status ON jobs (status, created_at);
CREATE INDEX jobs_by_created ON jobs (created_at DESC);
CREATE TABLE pipeline_runs (
  pipeline_run_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  file TEXT NOT NULL,
  run_uuid TEXT REFERENCES runs(run_uuid) ON DELETE SET NULL,
  status TEXT NOT NULL,
  message TEXT,
  params TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE TABLE pipeline_steps (
  pipeline_run_id TEXT NOT NULL REFERENCES pipeline_runs(pipeline_run_id) ON DELETE CASCADE,
  step TEXT NOT NULL,
  seq INTEGER NOT NULL,
  status TEXT NOT NULL,
  job_id TEXT,
  run_uuid TEXT,
  cache_key TEXT,
  outputs TEXT,
  output_dir TEXT,
  message TEXT,
  started_at INTEGER,
  ended_at INTEGER,
  PRIMARY KEY (pipeline_run_id, step)
) WITHOUT ROWID;
-- A finished step's outputs by cache key (inputs, code, image, command): a later run with the same key reuses them.
CREATE TABLE step_cache (
  cache_key TEXT PRIMARY KEY,
  pipeline TEXT NOT NULL,
  step TEXT NOT NULL,
  run_uuid TEXT,
  outputs TEXT NOT NULL,
  output_dir TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
`,
  },
  {
    name: 'jobs/002-job-limits',
    // How the launcher applied the job's CPU and memory limits (JSON): cgroup, CPU affinity, watchdog or Docker.
    sql: 'ALTER TABLE jobs ADD COLUMN limits TEXT;',
  },
  {
    name: 'jobs/003-job-tokens',
    // Each job's own bearer token, by its sha256 (the token itself is never stored), and what it may write: its
    // run, and the runs and logged models it created. A token is revoked when its job's attempt ends.
    sql: `
CREATE TABLE job_tokens (
  token_hash TEXT PRIMARY KEY,
  job_id TEXT NOT NULL,
  experiment_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
) WITHOUT ROWID;
CREATE INDEX job_tokens_by_job ON job_tokens (job_id);
CREATE TABLE job_token_grants (
  token_hash TEXT NOT NULL REFERENCES job_tokens(token_hash) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('run', 'model')),
  object_id TEXT NOT NULL,
  PRIMARY KEY (token_hash, kind, object_id)
) WITHOUT ROWID;
`,
  },
  {
    name: 'jobs/004-ray-launcher',
    // SQLite cannot alter a CHECK, so the jobs table is rebuilt to allow launcher 'ray' (Ray Jobs API). Every row,
    // column and index is kept; no table references jobs, and jobs' own reference to runs is declared again.
    sql: `
CREATE TABLE jobs_new (
  job_id TEXT PRIMARY KEY,
  run_uuid TEXT REFERENCES runs(run_uuid) ON DELETE SET NULL,
  launcher TEXT NOT NULL CHECK (launcher IN ('docker', 'local', 'ray')),
  spec TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'finished', 'failed', 'cancelled')),
  reason TEXT,
  message TEXT,
  exit_code INTEGER,
  attempt INTEGER NOT NULL DEFAULT 0,
  handle TEXT,
  gpus TEXT,
  log_file TEXT NOT NULL,
  pipeline_run_id TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  ended_at INTEGER,
  limits TEXT
);
INSERT INTO jobs_new (job_id, run_uuid, launcher, spec, status, reason, message, exit_code, attempt, handle, gpus,
  log_file, pipeline_run_id, created_at, started_at, ended_at, limits)
SELECT job_id, run_uuid, launcher, spec, status, reason, message, exit_code, attempt, handle, gpus,
  log_file, pipeline_run_id, created_at, started_at, ended_at, limits FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_by_status ON jobs (status, created_at);
CREATE INDEX jobs_by_created ON jobs (created_at DESC);
`,
  },
];
