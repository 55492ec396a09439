import { randomBytes } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../../store/db';

export type Auth = 'none' | 'bearer' | 'basic';

export interface RemoteRow {
  name: string;
  url: string;
  auth: Auth;
  username: string | null;
  /** The environment variable that holds the token or password; never the secret itself. */
  secret_env: string | null;
  created_at: number;
}

/** What the map holds: experiments and runs by id, logged models by id, versions as `NAME/V`, markers for done steps. */
export type MapKind = 'experiment' | 'run' | 'run_artifact_uri' | 'logged_model' | 'registered_model' | 'model_version' | 'run_output' | 'run_inputs';

export interface MetricKeyStats {
  key: string;
  count: number;
  last_step: number;
  last_ts: number;
}

/** One metric point as read for a push: a row array, which is cheaper to read than an object per point. */
export type MetricRow = [key: string, step: number, timestamp: number, value: number, is_nan: number, model_id: string | null, dataset_name: string | null, dataset_digest: string | null];

export interface LoggedModelRow {
  model_id: string;
  experiment_id: number;
  name: string;
  artifact_location: string;
  status: string;
  model_type: string | null;
  source_run_id: string | null;
}

/** Every SQL statement of sync: its own tables, and the reads over the core store that pushes need. */
export class SyncRepo {
  private readonly statements = new Map<string, Statement>();
  constructor(readonly db: Db) {}

  /** A prepared statement, prepared once per repo (a push runs some of these once per metric page). */
  private q(sql: string): Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  // ----- identity and remotes -----
  storeId(): string {
    const row = this.q("SELECT value FROM sync_meta WHERE key = 'store_id'").get() as { value: string } | undefined;
    if (row) return row.value;
    const id = randomBytes(8).toString('hex');
    this.q("INSERT OR IGNORE INTO sync_meta (key, value) VALUES ('store_id', ?)").run(id);
    return this.storeId();
  }

  addRemote(r: Omit<RemoteRow, 'created_at'>): void {
    this.db
      .prepare('INSERT INTO sync_remotes (name, url, auth, username, secret_env, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(r.name, r.url, r.auth, r.username, r.secret_env, Date.now());
  }
  remote(name: string): RemoteRow | undefined {
    return this.q('SELECT * FROM sync_remotes WHERE name = ?').get(name) as RemoteRow | undefined;
  }
  remotes(): RemoteRow[] {
    return this.q('SELECT * FROM sync_remotes ORDER BY name').all() as RemoteRow[];
  }
  removeRemote(name: string): boolean {
    return this.q('DELETE FROM sync_remotes WHERE name = ?').run(name).changes > 0;
  }

  // ----- id map and intents -----
  remoteId(remote: string, kind: MapKind, localId: string): string | undefined {
    const r = this.q('SELECT remote_id FROM sync_id_map WHERE remote = ? AND kind = ? AND local_id = ?').get(remote, kind, localId) as { remote_id: string } | undefined;
    return r?.remote_id;
  }
  mapping(remote: string, kind: MapKind, localId: string): { remote_id: string; origin: 'local' | 'remote' } | undefined {
    return this.q('SELECT remote_id, origin FROM sync_id_map WHERE remote = ? AND kind = ? AND local_id = ?').get(remote, kind, localId) as
      | { remote_id: string; origin: 'local' | 'remote' }
      | undefined;
  }
  localId(remote: string, kind: MapKind, remoteId: string): string | undefined {
    const r = this.q('SELECT local_id FROM sync_id_map WHERE remote = ? AND kind = ? AND remote_id = ?').get(remote, kind, remoteId) as { local_id: string } | undefined;
    return r?.local_id;
  }
  /** Records the pair and clears the create journal entry, in one transaction. */
  setMapping(remote: string, kind: MapKind, localId: string, remoteId: string, origin: 'local' | 'remote'): void {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT OR REPLACE INTO sync_id_map (remote, kind, local_id, remote_id, origin, synced_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(remote, kind, localId, remoteId, origin, Date.now());
      this.q('DELETE FROM sync_intents WHERE remote = ? AND kind = ? AND local_id = ?').run(remote, kind, localId);
    })();
  }
  /** Maps without clearing the journal: the object exists but is not complete yet. */
  mapKeepingIntent(remote: string, kind: MapKind, localId: string, remoteId: string, origin: 'local' | 'remote'): void {
    this.db
      .prepare('INSERT OR REPLACE INTO sync_id_map (remote, kind, local_id, remote_id, origin, synced_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(remote, kind, localId, remoteId, origin, Date.now());
  }
  deleteMapping(remote: string, kind: MapKind, localId: string): void {
    this.q('DELETE FROM sync_id_map WHERE remote = ? AND kind = ? AND local_id = ?').run(remote, kind, localId);
  }
  countMapped(remote: string, kind: MapKind, origin: 'local' | 'remote'): number {
    return (this.q('SELECT count(*) AS n FROM sync_id_map WHERE remote = ? AND kind = ? AND origin = ?').get(remote, kind, origin) as { n: number }).n;
  }
  /** Journals a create before it is sent: a resumed push then looks for the object remotely before creating again. */
  addIntent(remote: string, kind: MapKind, localId: string): void {
    this.q('INSERT OR IGNORE INTO sync_intents (remote, kind, local_id, created_at) VALUES (?, ?, ?, ?)').run(remote, kind, localId, Date.now());
  }
  hasIntent(remote: string, kind: MapKind, localId: string): boolean {
    return !!this.q('SELECT 1 FROM sync_intents WHERE remote = ? AND kind = ? AND local_id = ?').get(remote, kind, localId);
  }
  /** Marks a create that may have a stray duplicate still landing remotely (the time of the mark is kept). */
  markUnsettled(remote: string, kind: MapKind, localId: string): void {
    this.q('INSERT OR REPLACE INTO sync_unsettled (remote, kind, local_id, since) VALUES (?, ?, ?, ?)').run(remote, kind, localId, Date.now());
  }
  unsettled(remote: string): { kind: MapKind; local_id: string; since: number }[] {
    return this.q('SELECT kind, local_id, since FROM sync_unsettled WHERE remote = ? ORDER BY kind, local_id').all(remote) as { kind: MapKind; local_id: string; since: number }[];
  }
  clearUnsettled(remote: string, kind: MapKind, localId: string): void {
    this.q('DELETE FROM sync_unsettled WHERE remote = ? AND kind = ? AND local_id = ?').run(remote, kind, localId);
  }

  // ----- runs: change detection -----
  /** Local runs changed since their last push to `remote` (pulled runs excluded), by id after `after`. */
  dirtyRuns(remote: string, after: string, limit: number): { run_uuid: string; version: number }[] {
    return this.db
      .prepare(
        `SELECT v.run_uuid, v.version FROM sync_run_version v
         LEFT JOIN sync_run_state s ON s.remote = ? AND s.run_uuid = v.run_uuid
         WHERE v.run_uuid > ? AND v.version > coalesce(s.pushed_version, 0)
           AND NOT EXISTS (SELECT 1 FROM sync_id_map m WHERE m.remote = ? AND m.kind = 'run' AND m.local_id = v.run_uuid AND m.origin = 'remote')
         ORDER BY v.run_uuid LIMIT ?`,
      )
      .all(remote, after, remote, limit) as { run_uuid: string; version: number }[];
  }
  countDirtyRuns(remote: string): number {
    return (
      this.db
        .prepare(
          `SELECT count(*) AS n FROM sync_run_version v LEFT JOIN sync_run_state s ON s.remote = ? AND s.run_uuid = v.run_uuid
           WHERE v.version > coalesce(s.pushed_version, 0)
             AND NOT EXISTS (SELECT 1 FROM sync_id_map m WHERE m.remote = ? AND m.kind = 'run' AND m.local_id = v.run_uuid AND m.origin = 'remote')`,
        )
        .get(remote, remote) as { n: number }
    ).n;
  }
  runExperiment(runUuid: string): number | undefined {
    return (this.q('SELECT experiment_id FROM runs WHERE run_uuid = ?').get(runUuid) as { experiment_id: number } | undefined)?.experiment_id;
  }
  runVersion(runUuid: string): number {
    return (this.q('SELECT version FROM sync_run_version WHERE run_uuid = ?').get(runUuid) as { version: number } | undefined)?.version ?? 0;
  }
  pushedVersion(remote: string, runUuid: string): number {
    return (this.q('SELECT pushed_version FROM sync_run_state WHERE remote = ? AND run_uuid = ?').get(remote, runUuid) as { pushed_version: number } | undefined)?.pushed_version ?? 0;
  }
  setPushedVersion(remote: string, runUuid: string, version: number): void {
    this.q('INSERT OR REPLACE INTO sync_run_state (remote, run_uuid, pushed_version) VALUES (?, ?, ?)').run(remote, runUuid, version);
  }

  // ----- metrics -----
  /**
   * Per key: how many points, and the last (step, timestamp) in (step, timestamp) order. One pass over the run's
   * slice of the primary key, then per key one backward probe for the latest timestamp at its last step.
   */
  metricStats(runUuid: string): MetricKeyStats[] {
    const rows = this.q('SELECT key, count(*) AS count, max(step) AS last_step FROM metrics WHERE run_uuid = ? GROUP BY key ORDER BY key').all(runUuid) as Omit<MetricKeyStats, 'last_ts'>[];
    const ts = this.q('SELECT timestamp FROM metrics WHERE run_uuid = ? AND key = ? AND step = ? ORDER BY timestamp DESC LIMIT 1');
    return rows.map((r) => ({ ...r, last_ts: (ts.get(runUuid, r.key, r.last_step) as { timestamp: number }).timestamp }));
  }
  pushedMetricStats(remote: string, runUuid: string): Map<string, MetricKeyStats> {
    const rows = this.q('SELECT key, count, max_step AS last_step, max_ts AS last_ts FROM sync_metric_state WHERE remote = ? AND run_uuid = ?').all(remote, runUuid) as MetricKeyStats[];
    return new Map(rows.map((r) => [r.key, r]));
  }
  /** Records what the remote now has of these keys, in one transaction (one commit, not one per key). */
  setPushedMetricStats(remote: string, runUuid: string, stats: MetricKeyStats[]): void {
    const st = this.q('INSERT OR REPLACE INTO sync_metric_state (remote, run_uuid, key, count, max_step, max_ts) VALUES (?, ?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const s of stats) st.run(remote, runUuid, s.key, s.count, s.last_step, s.last_ts);
    })();
  }
  countAbove(runUuid: string, key: string, step: number, ts: number): number {
    return (this.q('SELECT count(*) AS n FROM metrics WHERE run_uuid = ? AND key = ? AND (step, timestamp) > (?, ?)').get(runUuid, key, step, ts) as { n: number }).n;
  }
  /**
   * One page of a key's points in primary-key order (timestamp, step, value, is_nan), after the cursor: keyset
   * paging along the index, so memory and the cost of a page stay flat however long the history. `above` limits
   * it to points after a (step, timestamp) watermark.
   */
  metricPage(runUuid: string, key: string, cursor: MetricRow | null, above: { step: number; ts: number } | null, limit: number): MetricRow[] {
    const cols = 'key, step, timestamp, value, is_nan, model_id, dataset_name, dataset_digest';
    const where = ['run_uuid = ?', 'key = ?'];
    const args: (string | number)[] = [runUuid, key];
    if (cursor) {
      where.push('(timestamp, step, value, is_nan) > (?, ?, ?, ?)');
      args.push(cursor[2], cursor[1], cursor[3], cursor[4]);
    }
    if (above) {
      where.push('(step, timestamp) > (?, ?)');
      args.push(above.step, above.ts);
    }
    return this.q(`SELECT ${cols} FROM metrics WHERE ${where.join(' AND ')} ORDER BY timestamp, step, value, is_nan LIMIT ?`).raw(true).all(...args, limit) as MetricRow[];
  }

  /** One page of all of a run's points in primary-key order (key, timestamp, step, value, is_nan), after the cursor. */
  runMetricPage(runUuid: string, cursor: MetricRow | null, limit: number): MetricRow[] {
    const cols = 'key, step, timestamp, value, is_nan, model_id, dataset_name, dataset_digest';
    if (!cursor) return this.q(`SELECT ${cols} FROM metrics WHERE run_uuid = ? ORDER BY key, timestamp, step, value, is_nan LIMIT ?`).raw(true).all(runUuid, limit) as MetricRow[];
    return this.q(`SELECT ${cols} FROM metrics WHERE run_uuid = ? AND (key, timestamp, step, value, is_nan) > (?, ?, ?, ?, ?) ORDER BY key, timestamp, step, value, is_nan LIMIT ?`)
      .raw(true)
      .all(runUuid, cursor[0], cursor[2], cursor[1], cursor[3], cursor[4], limit) as MetricRow[];
  }

  // ----- logged models and artifacts -----
  loggedModelsOfRun(runUuid: string): LoggedModelRow[] {
    return this.q("SELECT * FROM logged_models WHERE source_run_id = ? AND lifecycle_stage = 'active' ORDER BY creation_timestamp_ms").all(runUuid) as LoggedModelRow[];
  }
  loggedModel(id: string): LoggedModelRow | undefined {
    return this.q('SELECT * FROM logged_models WHERE model_id = ?').get(id) as LoggedModelRow | undefined;
  }
  loggedModelKVs(table: 'logged_model_params' | 'logged_model_tags', id: string): { key: string; value: string }[] {
    return this.q(`SELECT key, value FROM ${table} WHERE model_id = ? ORDER BY key`).all(id) as { key: string; value: string }[];
  }
  artifactState(remote: string, path: string): { size: number; mtime_ms: number } | undefined {
    return this.q('SELECT size, mtime_ms FROM sync_artifact_state WHERE remote = ? AND path = ?').get(remote, path) as { size: number; mtime_ms: number } | undefined;
  }
  setArtifactState(remote: string, path: string, size: number, mtimeMs: number): void {
    this.q('INSERT OR REPLACE INTO sync_artifact_state (remote, path, size, mtime_ms) VALUES (?, ?, ?, ?)').run(remote, path, size, mtimeMs);
  }

  // ----- registry -----
  registeredModelNames(): string[] {
    return (this.q('SELECT name FROM registered_models ORDER BY name').all() as { name: string }[]).map((r) => r.name);
  }
  versionNumbers(name: string): number[] {
    return (this.q('SELECT version FROM model_versions WHERE name = ? ORDER BY version').all(name) as { version: number }[]).map((r) => r.version);
  }
  localAliases(name: string): { alias: string; version: number }[] {
    return this.q('SELECT alias, version FROM registered_model_aliases WHERE name = ? ORDER BY alias').all(name) as { alias: string; version: number }[];
  }
  aliasBase(remote: string, name: string, alias: string): string | undefined {
    return (this.q('SELECT remote_version FROM sync_alias_base WHERE remote = ? AND name = ? AND alias = ?').get(remote, name, alias) as { remote_version: string } | undefined)?.remote_version;
  }
  setAliasBase(remote: string, name: string, alias: string, remoteVersion: string): void {
    this.q('INSERT OR REPLACE INTO sync_alias_base (remote, name, alias, remote_version) VALUES (?, ?, ?, ?)').run(remote, name, alias, remoteVersion);
  }
  countUnpushedVersions(remote: string): number {
    return (
      this.db
        .prepare(
          `SELECT count(*) AS n FROM model_versions v WHERE NOT EXISTS
             (SELECT 1 FROM sync_id_map m WHERE m.remote = ? AND m.kind = 'model_version' AND m.local_id = v.name || '/' || v.version)`,
        )
        .get(remote) as { n: number }
    ).n;
  }

  // ----- history -----
  startHistory(remote: string, direction: 'push' | 'pull'): number {
    return Number(this.q("INSERT INTO sync_history (remote, direction, started_at, status) VALUES (?, ?, ?, 'running')").run(remote, direction, Date.now()).lastInsertRowid);
  }
  finishHistory(id: number, status: 'ok' | 'failed', summary: unknown): void {
    this.q('UPDATE sync_history SET finished_at = ?, status = ?, summary = ? WHERE id = ?').run(Date.now(), status, JSON.stringify(summary), id);
  }
  lastHistory(remote: string): { direction: string; started_at: number; finished_at: number | null; status: string; summary: string | null }[] {
    return this.db
      .prepare(
        `SELECT direction, started_at, finished_at, status, summary FROM sync_history h WHERE remote = ?
           AND id = (SELECT max(id) FROM sync_history h2 WHERE h2.remote = h.remote AND h2.direction = h.direction) ORDER BY direction`,
      )
      .all(remote) as { direction: string; started_at: number; finished_at: number | null; status: string; summary: string | null }[];
  }
}
