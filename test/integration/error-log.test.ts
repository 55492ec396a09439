import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { api, startBackend } from '../helpers/backend';

void test('a 500 is logged to <home>/logs/backend.log without --log: request id, method, url and stack', { timeout: 60_000 }, async () => {
  const b = await startBackend();
  const db = new Database(join(b.home, 'mlops.db'));
  try {
    // A writer that never lets go: the backend's insert gives up after its 5 s busy timeout (a real 500).
    db.exec('BEGIN IMMEDIATE');
    const r = await api<{ error_code: string; message: string }>(b, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'blocked' });
    db.exec('ROLLBACK');
    assert.equal(r.status, 500);
    const id = /request (\w+)/.exec(r.body.message)![1]!;
    const file = join(b.home, 'logs', 'backend.log');
    const log = readFileSync(file, 'utf8');
    assert.match(log, new RegExp(`^\\S+Z ERROR req=${id} POST /api/2\\.0/mlflow/experiments/create 500\\n    SqliteError: database is locked\\n    +at `, 'm'));
    assert.equal((statSync(file).mode & 0o777).toString(8), '600');
  } finally {
    db.close();
    await b.stop();
    rmSync(b.home, { recursive: true, force: true });
  }
});
