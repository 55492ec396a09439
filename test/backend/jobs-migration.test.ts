import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../backend/src/store/db';
import { openSqlite } from '../../backend/src/store/sqlite';
import { coreMigrations } from '../../backend/src/store/migrations';
import { jobsMigrations } from '../../backend/src/store/jobs-migrations';

void test('a store from before jobs/004 migrates: rows, indexes and the runs reference kept, launcher ray allowed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jobs-mig-'));
  try {
    const file = join(dir, 'mlops.db');
    // The old store: core and jobs migrations up to 003, applied as db.ts applies them.
    const old = openSqlite(file);
    old.pragma('foreign_keys = ON');
    old.exec('CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
    for (const m of [...coreMigrations, ...jobsMigrations.filter((j) => j.name < 'jobs/004')]) {
      old.exec(m.sql);
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(m.name, 1);
    }
    old.exec(`INSERT INTO experiments (experiment_id, name, artifact_location, creation_time, last_update_time)
      VALUES (1, 'e', '/a', 1, 1)`);
    old.exec(`INSERT INTO runs (run_uuid, experiment_id, name, status, start_time, artifact_uri) VALUES ('r1', 1, 'n', 'FINISHED', 1, '/a')`);
    old.exec(`INSERT INTO jobs (job_id, run_uuid, launcher, spec, status, exit_code, log_file, created_at, limits)
      VALUES ('j1', 'r1', 'docker', '{}', 'finished', 0, '/l1', 5, '{"cpus":1}'),
             ('j2', NULL, 'local', '{"x":1}', 'running', NULL, '/l2', 6, NULL)`);
    assert.throws(() => old.exec(`INSERT INTO jobs (job_id, launcher, spec, status, log_file, created_at) VALUES ('j3', 'ray', '{}', 'queued', '/l3', 7)`), /CHECK/);
    old.close();

    const db = openDb(file);
    const rows = db.prepare('SELECT job_id, run_uuid, launcher, spec, status, exit_code, log_file, created_at, limits FROM jobs ORDER BY job_id').all();
    assert.deepEqual(rows, [
      { job_id: 'j1', run_uuid: 'r1', launcher: 'docker', spec: '{}', status: 'finished', exit_code: 0, log_file: '/l1', created_at: 5, limits: '{"cpus":1}' },
      { job_id: 'j2', run_uuid: null, launcher: 'local', spec: '{"x":1}', status: 'running', exit_code: null, log_file: '/l2', created_at: 6, limits: null },
    ]);
    const idx = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    assert.deepEqual(idx, ['jobs_by_created', 'jobs_by_status']);
    db.exec(`INSERT INTO jobs (job_id, launcher, spec, status, log_file, created_at) VALUES ('j3', 'ray', '{}', 'queued', '/l3', 7)`);
    assert.throws(() => db.exec(`INSERT INTO jobs (job_id, launcher, spec, status, log_file, created_at) VALUES ('j4', 'k8s', '{}', 'queued', '/l4', 8)`), /CHECK/);
    // The reference to runs survives the rebuild: ON DELETE SET NULL still applies, and an unknown run is refused.
    db.exec("DELETE FROM runs WHERE run_uuid = 'r1'");
    assert.equal((db.prepare("SELECT run_uuid FROM jobs WHERE job_id = 'j1'").get() as { run_uuid: string | null }).run_uuid, null);
    assert.throws(() => db.exec("UPDATE jobs SET run_uuid = 'nope' WHERE job_id = 'j2'"), /FOREIGN KEY/);
    assert.deepEqual(db.pragma('foreign_key_check'), []);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
