import type { Db } from '../../store/db';
import type { CheckStatus, IncidentView, MonitorConfig, MonitorKind, MonitorResultView } from '../../api/v1/contract-monitors';

export interface MonitorRow {
  id: number;
  endpoint: string;
  kind: MonitorKind;
  config: MonitorConfig;
  paused: boolean;
  nextRunAt: number;
  lastRunAt: number | null;
  lastStatus: CheckStatus | null;
  lastResultId: number | null;
  failures: number;
  passes: number;
  /** What a kind carries from one check to the next (request counters for the error rate). */
  state: Record<string, unknown>;
}

export interface NewResult {
  monitorId: number;
  checkedAt: number;
  status: CheckStatus;
  score: number | null;
  summary: string;
  rows: number;
  windowFrom: number | null;
  windowTo: number | null;
  details: unknown;
}

interface RawMonitor {
  id: number;
  endpoint: string;
  kind: MonitorKind;
  config: string;
  paused: number;
  next_run_at: number;
  last_run_at: number | null;
  last_status: CheckStatus | null;
  last_result_id: number | null;
  failures: number;
  passes: number;
  state: string;
}

interface RawIncident extends Omit<IncidentView, 'evidence'> {
  opened_result_id: number | null;
  last_result_id: number | null;
  evidence: string;
}

/** The monitors' SQL: configuration and schedule, the results history and incidents. */
export class MonitorRepository {
  /**
   * `defaults`: each kind's settings, under a stored config, so a monitor stored before a setting existed reads its
   * default (and its view still matches the contract).
   */
  constructor(
    private readonly db: Db,
    private readonly defaults?: Record<MonitorKind, MonitorConfig>,
  ) {}

  private monitorRow = (r: RawMonitor): MonitorRow => monitorRow(r, this.defaults?.[r.kind]);

  create(endpoint: string, kind: MonitorKind, config: MonitorConfig, nextRunAt: number, now: number): boolean {
    const r = this.db
      .prepare('INSERT INTO monitors (endpoint, kind, config, next_run_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(endpoint, kind) DO NOTHING')
      .run(endpoint, kind, JSON.stringify(config), nextRunAt, now, now);
    return r.changes > 0;
  }

  list(endpoint?: string): MonitorRow[] {
    const rows = (endpoint === undefined
      ? this.db.prepare('SELECT * FROM monitors ORDER BY endpoint, kind').all()
      : this.db.prepare('SELECT * FROM monitors WHERE endpoint = ? ORDER BY kind').all(endpoint)) as RawMonitor[];
    return rows.map(this.monitorRow);
  }

  get(endpoint: string, kind: string): MonitorRow | null {
    const r = this.db.prepare('SELECT * FROM monitors WHERE endpoint = ? AND kind = ?').get(endpoint, kind) as RawMonitor | undefined;
    return r ? this.monitorRow(r) : null;
  }

  byId(id: number): MonitorRow | null {
    const r = this.db.prepare('SELECT * FROM monitors WHERE id = ?').get(id) as RawMonitor | undefined;
    return r ? this.monitorRow(r) : null;
  }

  /** Unpaused monitors whose next run is due, the most overdue first. */
  due(now: number, limit: number): MonitorRow[] {
    return (this.db.prepare('SELECT * FROM monitors WHERE paused = 0 AND next_run_at <= ? ORDER BY next_run_at, id LIMIT ?').all(now, limit) as RawMonitor[]).map(this.monitorRow);
  }

  /** The earliest next run of an unpaused monitor, or null. */
  nextDue(): number | null {
    const r = this.db.prepare('SELECT MIN(next_run_at) AS t FROM monitors WHERE paused = 0').get() as { t: number | null };
    return r.t;
  }

  update(id: number, o: { config?: MonitorConfig; paused?: boolean; nextRunAt?: number }, now: number): void {
    const m = this.byId(id);
    if (!m) return;
    this.db
      .prepare('UPDATE monitors SET config = ?, paused = ?, next_run_at = ?, updated_at = ? WHERE id = ?')
      .run(JSON.stringify(o.config ?? m.config), (o.paused ?? m.paused) ? 1 : 0, o.nextRunAt ?? m.nextRunAt, now, id);
  }

  /** Stores a check's result and the monitor's counters in one transaction; returns the result's id. */
  record(r: NewResult, after: { failures: number; passes: number; nextRunAt: number; state: Record<string, unknown> }): number {
    return this.db.transaction(() => {
      const id = Number(
        this.db
          .prepare('INSERT INTO monitor_results (monitor_id, checked_at, status, score, summary, rows, window_from, window_to, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(r.monitorId, r.checkedAt, r.status, r.score, r.summary, r.rows, r.windowFrom, r.windowTo, JSON.stringify(r.details)).lastInsertRowid,
      );
      this.db
        .prepare('UPDATE monitors SET last_run_at = ?, last_status = ?, last_result_id = ?, failures = ?, passes = ?, next_run_at = ?, state = ?, updated_at = ? WHERE id = ?')
        .run(r.checkedAt, r.status, id, after.failures, after.passes, after.nextRunAt, JSON.stringify(after.state), r.checkedAt, r.monitorId);
      return id;
    })();
  }

  /** Deletes results older than each monitor's retention; returns how many went. */
  prune(now: number): number {
    let n = 0;
    for (const m of this.list()) {
      n += this.db.prepare('DELETE FROM monitor_results WHERE monitor_id = ? AND checked_at < ? AND id != COALESCE(?, 0)').run(m.id, now - m.config.retention_days * 86_400_000, m.lastResultId).changes;
    }
    return n;
  }

  result(id: number): MonitorResultView | null {
    const r = this.db
      .prepare('SELECT r.*, m.endpoint, m.kind FROM monitor_results r JOIN monitors m ON m.id = r.monitor_id WHERE r.id = ?')
      .get(id) as RawResult | undefined;
    return r ? resultView(r) : null;
  }

  results(monitorId: number, limit: number, beforeId?: number): MonitorResultView[] {
    return (
      this.db
        .prepare('SELECT r.*, m.endpoint, m.kind FROM monitor_results r JOIN monitors m ON m.id = r.monitor_id WHERE r.monitor_id = ? AND r.id < ? ORDER BY r.id DESC LIMIT ?')
        .all(monitorId, beforeId ?? Number.MAX_SAFE_INTEGER, limit) as RawResult[]
    ).map(resultView);
  }

  /** The monitor's unresolved incident (open or acknowledged), if any. */
  unresolved(monitorId: number): IncidentView | null {
    const r = this.db.prepare("SELECT * FROM incidents WHERE monitor_id = ? AND status != 'resolved'").get(monitorId) as RawIncident | undefined;
    return r ? incidentView(r) : null;
  }

  incident(id: number): IncidentView | null {
    const r = this.db.prepare('SELECT * FROM incidents WHERE id = ?').get(id) as RawIncident | undefined;
    return r ? incidentView(r) : null;
  }

  incidents(o: { status?: string; endpoint?: string; limit: number }): IncidentView[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (o.status === 'unresolved') where.push("status != 'resolved'");
    else if (o.status && o.status !== 'all') {
      where.push('status = ?');
      args.push(o.status);
    }
    if (o.endpoint !== undefined) {
      where.push('endpoint = ?');
      args.push(o.endpoint);
    }
    const sql = `SELECT * FROM incidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY (status = 'resolved'), id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, o.limit) as RawIncident[]).map(incidentView);
  }

  openIncident(m: MonitorRow, severity: IncidentView['severity'], summary: string, resultId: number, now: number, evidence: { window: unknown; features: string[]; figures?: unknown }): IncidentView {
    const id = Number(
      this.db
        .prepare(
          "INSERT INTO incidents (monitor_id, endpoint, kind, severity, status, summary, opened_at, opened_result_id, last_result_id, evidence) VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)",
        )
        .run(m.id, m.endpoint, m.kind, severity, summary, now, resultId, resultId, JSON.stringify(evidence)).lastInsertRowid,
    );
    return this.incident(id)!;
  }

  touchIncident(id: number, resultId: number): void {
    this.db.prepare('UPDATE incidents SET last_result_id = ? WHERE id = ?').run(resultId, id);
  }

  acknowledge(id: number, by: string, reason: string, now: number): void {
    this.db.prepare("UPDATE incidents SET status = 'acknowledged', acknowledged_at = ?, acknowledged_by = ?, ack_reason = ? WHERE id = ? AND status = 'open'").run(now, by, reason, id);
  }

  resolve(id: number, by: string, reason: string, now: number): void {
    this.db.prepare("UPDATE incidents SET status = 'resolved', resolved_at = ?, resolved_by = ?, resolve_reason = ? WHERE id = ? AND status != 'resolved'").run(now, by, reason, id);
  }

  /** Counters back to zero (after a manual resolve: a new incident needs new failures). */
  resetCounters(monitorId: number): void {
    this.db.prepare('UPDATE monitors SET failures = 0, passes = 0 WHERE id = ?').run(monitorId);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}

interface RawResult {
  id: number;
  monitor_id: number;
  endpoint: string;
  kind: MonitorKind;
  checked_at: number;
  status: CheckStatus;
  score: number | null;
  summary: string;
  rows: number;
  window_from: number | null;
  window_to: number | null;
  details: string;
}

function monitorRow(r: RawMonitor, defaults: MonitorConfig | undefined): MonitorRow {
  return {
    id: r.id,
    endpoint: r.endpoint,
    kind: r.kind,
    config: { ...defaults, ...(JSON.parse(r.config) as MonitorConfig) },
    paused: r.paused === 1,
    nextRunAt: r.next_run_at,
    lastRunAt: r.last_run_at,
    lastStatus: r.last_status,
    lastResultId: r.last_result_id,
    failures: r.failures,
    passes: r.passes,
    state: JSON.parse(r.state) as Record<string, unknown>,
  };
}

function resultView(r: RawResult): MonitorResultView {
  return { ...r, details: JSON.parse(r.details) as unknown };
}

function incidentView(r: RawIncident): IncidentView {
  const ev = JSON.parse(r.evidence) as { window?: unknown; features?: string[]; figures?: unknown };
  return {
    id: r.id,
    monitor_id: r.monitor_id,
    endpoint: r.endpoint,
    kind: r.kind,
    severity: r.severity,
    status: r.status,
    summary: r.summary,
    opened_at: r.opened_at,
    acknowledged_at: r.acknowledged_at,
    acknowledged_by: r.acknowledged_by,
    ack_reason: r.ack_reason,
    resolved_at: r.resolved_at,
    resolved_by: r.resolved_by,
    resolve_reason: r.resolve_reason,
    evidence: { opened_result_id: r.opened_result_id, last_result_id: r.last_result_id, window: ev.window ?? null, features: ev.features ?? [], ...(ev.figures !== undefined ? { figures: ev.figures } : {}) },
  };
}
