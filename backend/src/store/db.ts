import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { coreMigrations, type Migration } from './migrations';
import { jobsMigrations } from './jobs-migrations';
import { servingMigrations } from './serving-migrations';
import { syncMigrations } from './sync-migrations';
import { driftMigrations } from './drift-migrations';
import { monitorMigrations } from './monitor-migrations';
import { alertMigrations } from './alert-migrations';
import { gatesMigrations } from './gates-migrations';
import { retrainMigrations } from './retrain-migrations';
import { compileLike, likeMatches, type LikePattern } from './search/like';
import { holdSqliteFile } from './files';
import { openSqlite } from './sqlite';
import { privateFile } from './home';

export type Db = Database.Database;

/** Opens (creating if needed) the store at `file`, or an in-memory one for ':memory:', and migrates it. */
export function openDb(file: string): Db {
  if (file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true });
    privateFile(file);
  }
  const db = openSqlite(file);
  holdSqliteFile(file);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a committed transaction survives a process crash (kill -9); only an OS crash
  // can lose the last commits. That is the durability the backend promises for acknowledged writes.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma('cache_size = -65536');
  registerFunctions(db);
  migrate(db);
  return db;
}

/** Every feature's migrations, in the order they apply. Features append their own list here. */
const ALL_MIGRATIONS: readonly Migration[] = [...coreMigrations, ...jobsMigrations, ...servingMigrations, ...syncMigrations, ...driftMigrations, ...monitorMigrations, ...gatesMigrations, ...alertMigrations, ...retrainMigrations];

export function migrate(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const applied = new Set((db.prepare('SELECT name FROM schema_migrations').all() as { name: string }[]).map((r) => r.name));
  const record = db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)');
  for (const m of ALL_MIGRATIONS) {
    if (applied.has(m.name)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.name, Date.now());
    })();
  }
}

/** Milliseconds since the epoch; one place so tests can reason about time. */
export const now = (): number => Date.now();

/** SQL functions the search filters use: MLflow's LIKE is case-sensitive, ILIKE is not (both with % and _). */
function registerFunctions(db: Db): void {
  const cache = new Map<string, LikePattern>();
  const matcher = (ci: boolean) => (value: unknown, pattern: unknown): number => {
    if (typeof value !== 'string' || typeof pattern !== 'string') return 0;
    const k = (ci ? 'i' : 's') + pattern;
    let p = cache.get(k);
    if (!p) {
      if (cache.size > 1000) cache.clear();
      p = compileLike(pattern, ci);
      cache.set(k, p);
    }
    return likeMatches(p, value) ? 1 : 0;
  };
  db.function('mlflow_like', { deterministic: true }, matcher(false));
  db.function('mlflow_ilike', { deterministic: true }, matcher(true));
}
