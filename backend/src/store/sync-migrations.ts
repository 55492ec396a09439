import type { Migration } from './migrations';

const bump = (table: string, event: 'INSERT' | 'UPDATE' | 'DELETE'): string => {
  const row = event === 'DELETE' ? 'OLD' : 'NEW';
  return `CREATE TRIGGER sync_bump_${table}_${event.toLowerCase()} AFTER ${event} ON ${table} BEGIN
  UPDATE sync_run_version SET version = version + 1 WHERE run_uuid = ${row}.run_uuid;
END;`;
};

/**
 * Sync state: remotes (credentials only as environment-variable names), the persistent map of local to remote
 * ids, per-remote watermarks, and the journal of creates in flight (so a resumed push looks before creating).
 *
 * `sync_run_version` is a change counter per run that triggers bump on every write to a run or its
 * params/tags/metrics/inputs/outputs/lineage. A push records the counter it read before sending; a run whose
 * counter still equals the recorded one has nothing new, so a push with nothing to send reads one small table
 * instead of every metric. The trigger costs one indexed upsert per written row.
 */
export const syncMigrations: readonly Migration[] = [
  {
    name: 'sync/001-remotes-and-maps',
    sql: `
CREATE TABLE sync_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sync_remotes (
  name TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  auth TEXT NOT NULL CHECK (auth IN ('none', 'bearer', 'basic')),
  username TEXT,
  secret_env TEXT,
  created_at INTEGER NOT NULL
);
CREATE TABLE sync_id_map (
  remote TEXT NOT NULL REFERENCES sync_remotes(name) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  local_id TEXT NOT NULL,
  remote_id TEXT NOT NULL,
  origin TEXT NOT NULL CHECK (origin IN ('local', 'remote')),
  synced_at INTEGER NOT NULL,
  PRIMARY KEY (remote, kind, local_id),
  UNIQUE (remote, kind, remote_id)
);
CREATE TABLE sync_intents (
  remote TEXT NOT NULL REFERENCES sync_remotes(name) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  local_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (remote, kind, local_id)
) WITHOUT ROWID;
CREATE TABLE sync_run_version (run_uuid TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO sync_run_version (run_uuid, version) SELECT run_uuid, 1 FROM runs;
CREATE TABLE sync_run_state (
  remote TEXT NOT NULL REFERENCES sync_remotes(name) ON DELETE CASCADE,
  run_uuid TEXT NOT NULL,
  pushed_version INTEGER NOT NULL,
  PRIMARY KEY (remote, run_uuid)
) WITHOUT ROWID;
CREATE TABLE sync_metric_state (
  remote TEXT NOT NULL REFERENCES sync_remotes(name) ON DELETE CASCADE,
  run_uuid TEXT NOT NULL,
  key TEXT NOT NULL,
  count INTEGER NOT NULL,
  max_step INTEGER NOT NULL,
  max_ts INTEGER NOT NULL,
  PRIMARY KEY (remote, run_uuid, key)
) WITHOUT ROWID;
CREATE TABLE sync_artifact_state (
  remote TEXT NOT NULL REFERENCES sync_remotes(name) ON DELETE CASCADE,
  path TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime_ms INTEGER NOT NULL,
  PRIMARY KEY (remote, path)
) WITHOUT ROWID;
-- The remote version an alias pointed at after the last sync: the base that tells who moved it.
CREATE TABLE sync_alias_base (
  remote TEXT NOT NULL REFERENCES sync_remotes(name) ON DELETE CASCADE,
  name TEXT NOT NULL,
  alias TEXT NOT NULL,
  remote_version TEXT NOT NULL,
  PRIMARY KEY (remote, name, alias)
) WITHOUT ROWID;
CREATE TABLE sync_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  remote TEXT NOT NULL,
  direction TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  status TEXT NOT NULL,
  summary TEXT
);
CREATE TRIGGER sync_bump_runs_insert AFTER INSERT ON runs BEGIN
  INSERT OR IGNORE INTO sync_run_version (run_uuid, version) VALUES (NEW.run_uuid, 1);
END;
${bump('runs', 'UPDATE')}
${bump('params', 'INSERT')}
${bump('params', 'UPDATE')}
${bump('tags', 'INSERT')}
${bump('tags', 'UPDATE')}
${bump('tags', 'DELETE')}
-- Metric points bump the run through runs.data_version (one UPDATE of runs per batch, caught above), not per row.
${bump('run_inputs', 'INSERT')}
${bump('run_model_io', 'INSERT')}
${bump('run_lineage', 'INSERT')}
${bump('run_lineage', 'UPDATE')}
-- A logged model is pushed with its source run once it is READY: finalizing it marks the run changed.
CREATE TRIGGER sync_bump_logged_models_update AFTER UPDATE OF status ON logged_models WHEN NEW.source_run_id IS NOT NULL BEGIN
  UPDATE sync_run_version SET version = version + 1 WHERE run_uuid = NEW.source_run_id;
END;
`,
  },
  {
    // Creates whose answer was lost or that a killed push left in flight: until their window passes, every push
    // looks for a late duplicate of each and removes it (services/sync/once.ts).
    name: 'sync/002-unsettled-creates',
    sql: `
CREATE TABLE sync_unsettled (
  remote TEXT NOT NULL REFERENCES sync_remotes(name) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  local_id TEXT NOT NULL,
  since INTEGER NOT NULL,
  PRIMARY KEY (remote, kind, local_id)
) WITHOUT ROWID;
`,
  },
];
