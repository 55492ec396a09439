import type { Db } from '../../store/db';

export interface FixRow {
  retrain_id: number;
  incident_id: string;
  endpoint: string;
  fixed_at: number;
  opened_at: number | null;
  onset_at: number | null;
}

export interface AuditRow {
  ts: number;
  object_id: string;
  actor: string;
  reason: string | null;
}

/** The reads behind the success-metrics report: every figure counts records in [from, to). */
export class ReportRepo {
  constructor(private readonly db: Db) {}

  private has(table: string): boolean {
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
  }

  /** Deployments (endpoint.deploy audit events) per calendar month (UTC). */
  deploymentsByMonth(from: number, to: number): { month: string; deployments: number }[] {
    return this.db
      .prepare(
        `SELECT strftime('%Y-%m', ts / 1000, 'unixepoch') AS month, COUNT(*) AS deployments FROM audit_log
         WHERE action = 'endpoint.deploy' AND ts >= ? AND ts < ? GROUP BY month ORDER BY month`,
      )
      .all(from, to) as { month: string; deployments: number }[];
  }

  /** Active runs started in the window, and those with a recorded commit and at least one param. */
  runs(from: number, to: number): { total: number; tracked: number } {
    return this.db
      .prepare(
        `SELECT COUNT(*) AS total, IFNULL(SUM(
           EXISTS (SELECT 1 FROM tags t WHERE t.run_uuid = r.run_uuid AND t.key = 'mlflow.source.git.commit' AND t.value != '')
           AND EXISTS (SELECT 1 FROM params p WHERE p.run_uuid = r.run_uuid)), 0) AS tracked
         FROM runs r WHERE r.lifecycle_stage = 'active' AND r.start_time >= ? AND r.start_time < ?`,
      )
      .get(from, to) as { total: number; tracked: number };
  }

  /** Jobs that finished in the window, and those that left a run. */
  jobs(from: number, to: number): { finished: number; with_run: number } {
    return this.db
      .prepare(`SELECT COUNT(*) AS finished, IFNULL(SUM(run_uuid IS NOT NULL), 0) AS with_run FROM jobs WHERE status = 'finished' AND ended_at >= ? AND ended_at < ?`)
      .get(from, to) as { finished: number; with_run: number };
  }

  /** Online A/B experiments that ended in the window by outcome (running: started in it); null before they exist. */
  experiments(from: number, to: number): Record<'promoted' | 'rejected' | 'inconclusive' | 'stopped' | 'running', number> | null {
    if (!this.has('ab_experiments')) return null;
    const rows = this.db
      .prepare(
        `SELECT status, COUNT(*) AS n FROM ab_experiments
         WHERE (status = 'running' AND started_at >= ? AND started_at < ?) OR (status != 'running' AND ended_at >= ? AND ended_at < ?) GROUP BY status`,
      )
      .all(from, to, from, to) as { status: string; n: number }[];
    const out = { promoted: 0, rejected: 0, inconclusive: 0, stopped: 0, running: 0 };
    for (const r of rows) if (r.status in out) out[r.status as keyof typeof out] = r.n;
    return out;
  }

  retrainsByTrigger(from: number, to: number): Record<'manual' | 'schedule' | 'drift' | 'performance', number> {
    const rows = this.db.prepare('SELECT trigger, COUNT(*) AS n FROM retrains WHERE created_at >= ? AND created_at < ? GROUP BY trigger').all(from, to) as { trigger: string; n: number }[];
    const out = { manual: 0, schedule: 0, drift: 0, performance: 0 };
    for (const r of rows) if (r.trigger in out) out[r.trigger as keyof typeof out] = r.n;
    return out;
  }

  /** Retrains started for an incident that reached deployed in the window, with the incident's opening and its window start. */
  fixes(from: number, to: number): FixRow[] {
    return this.db
      .prepare(
        `SELECT r.id AS retrain_id, r.incident_id, r.endpoint, MIN(t.at) AS fixed_at, i.opened_at,
                json_extract(i.evidence, '$.window.from_ts') AS onset_at
         FROM retrains r JOIN retrain_transitions t ON t.retrain_id = r.id AND t.status = 'deployed'
         LEFT JOIN incidents i ON CAST(i.id AS TEXT) = r.incident_id
         WHERE r.incident_id IS NOT NULL GROUP BY r.id HAVING fixed_at >= ? AND fixed_at < ? ORDER BY fixed_at`,
      )
      .all(from, to) as FixRow[];
  }

  /** Rollbacks in the window, each with the time of its endpoint's previous deployment (null: none recorded). */
  rollbacks(from: number, to: number): (AuditRow & { deployed_at: number | null })[] {
    return this.db
      .prepare(
        `SELECT a.ts, a.object_id, a.actor, a.reason,
                (SELECT MAX(d.ts) FROM audit_log d WHERE d.action = 'endpoint.deploy' AND d.object_id = a.object_id AND d.id < a.id) AS deployed_at
         FROM audit_log a WHERE a.action = 'endpoint.rollback' AND a.ts >= ? AND a.ts < ? ORDER BY a.id`,
      )
      .all(from, to) as (AuditRow & { deployed_at: number | null })[];
  }
}
