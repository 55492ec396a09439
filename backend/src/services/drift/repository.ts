import type { Db } from '../../store/db';
import { FEATURES_SQL } from '../monitors/reads';
import { parseProfile, serializeProfile, type ReferenceProfile } from '../stats';

export type ProfileStatus = 'ready' | 'none' | 'failed';
export type ProfileKind = 'training' | 'first_window';

export interface StoredProfile {
  name: string;
  version: number;
  status: ProfileStatus;
  kind: ProfileKind;
  profile: ReferenceProfile | null;
  source: string;
  rows: number | null;
  message: string | null;
  logThroughId: number | null;
  createdAt: number;
}

export interface LoggedFeatures {
  id: number;
  ts: number;
  /** `{columns, rows}` as the serving engine logs it, or null for raw-tensor models. */
  features: unknown;
}

interface Row {
  name: string;
  version: number;
  status: ProfileStatus;
  kind: ProfileKind;
  profile: string | null;
  source: string;
  rows: number | null;
  message: string | null;
  log_through_id: number | null;
  created_at: number;
}

/** SQL of endpoint drift: model version profiles, and the prediction-log reads a drift check needs. */
export class DriftRepository {
  /** Parsed profiles by `name/version/created_at`, so a check does not re-parse a 2,048-point sketch per feature. */
  private readonly parsed = new Map<string, ReferenceProfile>();

  constructor(private readonly db: Db) {}

  get(name: string, version: number): StoredProfile | null {
    const r = this.db.prepare('SELECT * FROM model_version_profiles WHERE name = ? AND version = ?').get(name, version) as Row | undefined;
    if (!r) return null;
    let profile: ReferenceProfile | null = null;
    if (r.profile !== null) {
      const key = `${r.name}\u0000${r.version}\u0000${r.created_at}`;
      profile = this.parsed.get(key) ?? null;
      if (!profile) {
        profile = parseProfile(r.profile);
        if (this.parsed.size > 256) this.parsed.clear();
        this.parsed.set(key, profile);
      }
    }
    return { name: r.name, version: r.version, status: r.status, kind: r.kind, profile, source: r.source, rows: r.rows, message: r.message, logThroughId: r.log_through_id, createdAt: r.created_at };
  }

  /** The stored row without its profile (whether it has one), for a caller that has the profile read elsewhere. */
  meta(name: string, version: number): (Omit<StoredProfile, 'profile'> & { hasProfile: boolean }) | null {
    const r = this.db
      .prepare('SELECT name, version, status, kind, source, rows, message, log_through_id, created_at, profile IS NOT NULL AS has FROM model_version_profiles WHERE name = ? AND version = ?')
      .get(name, version) as (Omit<Row, 'profile'> & { has: number }) | undefined;
    return r ? { name: r.name, version: r.version, status: r.status, kind: r.kind, source: r.source, rows: r.rows, message: r.message, logThroughId: r.log_through_id, createdAt: r.created_at, hasProfile: r.has === 1 } : null;
  }

  put(p: Omit<StoredProfile, 'createdAt' | 'logThroughId'> & { logThroughId?: number | null }): StoredProfile {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO model_version_profiles (name, version, status, kind, profile, source, rows, message, log_through_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(p.name, p.version, p.status, p.kind, p.profile ? serializeProfile(p.profile) : null, p.source, p.rows, p.message, p.logThroughId ?? null, Date.now());
    return this.get(p.name, p.version)!;
  }

  /** Model versions registered without a profile row yet (newest first). */
  unprofiled(limit = 100): { name: string; version: number }[] {
    return this.db
      .prepare(
        `SELECT v.name, v.version FROM model_versions v
         LEFT JOIN model_version_profiles p ON p.name = v.name AND p.version = v.version
         WHERE p.name IS NULL ORDER BY v.creation_time DESC LIMIT ?`,
      )
      .all(limit) as { name: string; version: number }[];
  }

  /** The endpoint's stored configuration (serving_endpoints), or null when there is no such endpoint. */
  endpoint(name: string): { variants: { id: string; role: string; weight: number }[] } | null {
    const r = this.db.prepare('SELECT config FROM serving_endpoints WHERE name = ?').get(name) as { config: string } | undefined;
    return r ? (JSON.parse(r.config) as { variants: { id: string; role: string; weight: number }[] }) : null;
  }

  endpointNames(): string[] {
    return (this.db.prepare('SELECT name FROM serving_endpoints ORDER BY name').all() as { name: string }[]).map((r) => r.name);
  }

  /** Newest logged requests of one version on one endpoint, after `afterId`, newest first. */
  recent(endpoint: string, model: string, version: number, limit: number, afterId = 0): LoggedFeatures[] {
    return this.decode(this.recentRaw(endpoint, model, version, limit, afterId));
  }

  /** Newest logged requests of one version on one endpoint, after `afterId`, newest first, features as stored (JSON text). */
  recentRaw(endpoint: string, model: string, version: number, limit: number, afterId = 0): { id: number; ts: number; features: string }[] {
    return this.db
      .prepare(FEATURES_SQL)
      .all(endpoint, afterId, model, version, limit) as { id: number; ts: number; features: string }[];
  }

  /** Logged requests of one version on one endpoint since `since` (ms), after `afterId`, oldest first, at most `limit`. */
  since(endpoint: string, model: string, version: number, since: number, afterId: number, limit: number): LoggedFeatures[] {
    return this.decode(
      this.db
        .prepare('SELECT id, ts, features FROM prediction_log WHERE endpoint = ? AND id > ? AND model_name = ? AND model_version = ? AND ts >= ? ORDER BY id DESC LIMIT ?')
        .all(endpoint, afterId, model, version, since, limit) as { id: number; ts: number; features: string }[],
    ).reverse();
  }

  /** Oldest logged requests of one version (any endpoint): its first served window. */
  first(model: string, version: number, limit: number): LoggedFeatures[] {
    return this.decode(
      this.db.prepare('SELECT id, ts, features FROM prediction_log WHERE model_name = ? AND model_version = ? ORDER BY id LIMIT ?').all(model, version, limit) as { id: number; ts: number; features: string }[],
    );
  }

  private decode(rows: { id: number; ts: number; features: string }[]): LoggedFeatures[] {
    return rows.map((r) => ({ id: r.id, ts: r.ts, features: JSON.parse(r.features) as unknown }));
  }
}
