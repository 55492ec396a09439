import type { Db } from '../../store/db';
import { notFound } from '../../util/errors';
import type { RetrainPolicy } from './policy';

export type RetrainStatus = 'initiated' | 'collecting' | 'validating' | 'training' | 'evaluating' | 'rolling_out' | 'deployed' | 'rejected' | 'failed' | 'cancelled';
export type RetrainTrigger = 'manual' | 'schedule' | 'drift' | 'performance';
export const TERMINAL: readonly RetrainStatus[] = ['deployed', 'rejected', 'failed', 'cancelled'];

export interface StoredPolicy {
  id: number;
  policy: RetrainPolicy;
  next_scheduled_at: number | null;
  /** An incident whose retrain the cool-down (or the concurrency bound) held back; started when it allows. */
  deferred: { incident_id: string; trigger: RetrainTrigger; evidence: Record<string, unknown> } | null;
  created_at: number;
  updated_at: number;
  updated_by: string;
}

export interface RetrainRecord {
  id: number;
  policy_id: number;
  model: string;
  endpoint: string;
  trigger: RetrainTrigger;
  /** The incident (id, kind, summary), the schedule (due time, interval) or the user who asked. */
  evidence: Record<string, unknown>;
  incident_id: string | null;
  status: RetrainStatus;
  reason: string;
  pipeline_run_id: string | null;
  data_file: string | null;
  challenger_version: number | null;
  champion_version: number | null;
  /** The offline comparison's numbers and the verdict, then the rollout. */
  decision: Record<string, unknown> | null;
  created_at: number;
  updated_at: number;
  ended_at: number | null;
  transitions: { status: RetrainStatus; reason: string; at: number }[];
}

type Row = Omit<RetrainRecord, 'evidence' | 'decision' | 'transitions'> & { evidence: string; decision: string | null };
type PolicyRow = { id: number; config: string; next_scheduled_at: number | null; deferred: string | null; created_at: number; updated_at: number; updated_by: string };

export class RetrainRepo {
  constructor(private readonly db: Db) {}

  private policyOf(r: PolicyRow): StoredPolicy {
    return { id: r.id, policy: JSON.parse(r.config) as RetrainPolicy, next_scheduled_at: r.next_scheduled_at, deferred: r.deferred ? (JSON.parse(r.deferred) as StoredPolicy['deferred']) : null, created_at: r.created_at, updated_at: r.updated_at, updated_by: r.updated_by };
  }

  upsertPolicy(p: RetrainPolicy, nextAt: number | null, actor: string, now: number): StoredPolicy {
    this.db
      .prepare(
        `INSERT INTO retrain_policies (model, endpoint, config, next_scheduled_at, created_at, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (model, endpoint) DO UPDATE SET config = excluded.config, next_scheduled_at = excluded.next_scheduled_at, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      )
      .run(p.model, p.endpoint, JSON.stringify(p), nextAt, now, now, actor);
    return this.findPolicy(p.model, p.endpoint)!;
  }

  findPolicy(model: string, endpoint: string): StoredPolicy | null {
    const r = this.db.prepare('SELECT * FROM retrain_policies WHERE model = ? AND endpoint = ?').get(model, endpoint) as PolicyRow | undefined;
    return r ? this.policyOf(r) : null;
  }

  policy(id: number): StoredPolicy {
    const r = this.db.prepare('SELECT * FROM retrain_policies WHERE id = ?').get(id) as PolicyRow | undefined;
    if (!r) throw notFound(`Retrain policy ${id} not found`);
    return this.policyOf(r);
  }

  policies(endpoint?: string): StoredPolicy[] {
    const rows = (endpoint ? this.db.prepare('SELECT * FROM retrain_policies WHERE endpoint = ? ORDER BY id').all(endpoint) : this.db.prepare('SELECT * FROM retrain_policies ORDER BY id').all()) as PolicyRow[];
    return rows.map((r) => this.policyOf(r));
  }

  deletePolicy(id: number): void {
    this.db.prepare('DELETE FROM retrain_policies WHERE id = ?').run(id);
  }

  setNextScheduled(id: number, at: number | null): void {
    this.db.prepare('UPDATE retrain_policies SET next_scheduled_at = ? WHERE id = ?').run(at, id);
  }

  setDeferred(id: number, d: StoredPolicy['deferred']): void {
    this.db.prepare('UPDATE retrain_policies SET deferred = ? WHERE id = ?').run(d ? JSON.stringify(d) : null, id);
  }

  /** A new ledger record in `initiated`; null when this policy already has a retrain for the incident (debounce). */
  insert(p: StoredPolicy, trigger: RetrainTrigger, evidence: Record<string, unknown>, incidentId: string | null, reason: string, now: number): RetrainRecord | null {
    const id = this.db.transaction(() => {
      const r = this.db
        .prepare(
          `INSERT INTO retrains (policy_id, model, endpoint, trigger, evidence, incident_id, status, reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'initiated', ?, ?, ?)
           ON CONFLICT DO NOTHING`,
        )
        .run(p.id, p.policy.model, p.policy.endpoint, trigger, JSON.stringify(evidence), incidentId, reason, now, now);
      if (r.changes === 0) return null;
      const rid = Number(r.lastInsertRowid);
      this.db.prepare('INSERT INTO retrain_transitions (retrain_id, status, reason, at) VALUES (?, ?, ?, ?)').run(rid, 'initiated', reason, now);
      return rid;
    })();
    return id === null ? null : this.get(id);
  }

  transition(id: number, status: RetrainStatus, reason: string, now: number, set: Partial<Pick<RetrainRecord, 'pipeline_run_id' | 'data_file' | 'challenger_version' | 'champion_version' | 'decision'>> = {}): RetrainRecord {
    this.db.transaction(() => {
      const cols = Object.keys(set);
      const vals = Object.values(set).map((v) => (v !== null && typeof v === 'object' ? JSON.stringify(v) : v));
      this.db
        .prepare(`UPDATE retrains SET status = ?, reason = ?, updated_at = ?, ended_at = ?${cols.map((c) => `, ${c} = ?`).join('')} WHERE id = ?`)
        .run(status, reason, now, TERMINAL.includes(status) ? now : null, ...vals, id);
      this.db.prepare('INSERT INTO retrain_transitions (retrain_id, status, reason, at) VALUES (?, ?, ?, ?)').run(id, status, reason, now);
    })();
    return this.get(id);
  }

  /** A rolling-out retrain's current state, without a transition. */
  annotate(id: number, reason: string, decision: Record<string, unknown>, now: number): void {
    this.db.prepare('UPDATE retrains SET reason = ?, decision = ?, updated_at = ? WHERE id = ?').run(reason, JSON.stringify(decision), now, id);
  }

  get(id: number): RetrainRecord {
    const r = this.db.prepare('SELECT * FROM retrains WHERE id = ?').get(id) as Row | undefined;
    if (!r) throw notFound(`Retrain ${id} not found`);
    const transitions = this.db.prepare('SELECT status, reason, at FROM retrain_transitions WHERE retrain_id = ? ORDER BY id').all(id) as RetrainRecord['transitions'];
    return { ...r, evidence: JSON.parse(r.evidence) as Record<string, unknown>, decision: r.decision ? (JSON.parse(r.decision) as Record<string, unknown>) : null, transitions };
  }

  list(o: { model?: string; endpoint?: string; status?: string; limit?: number } = {}): RetrainRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    for (const k of ['model', 'endpoint', 'status'] as const) {
      if (o[k]) {
        where.push(`${k} = ?`);
        args.push(o[k]);
      }
    }
    const ids = this.db.prepare(`SELECT id FROM retrains ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`).all(...args, o.limit ?? 100) as { id: number }[];
    return ids.map((r) => this.get(r.id));
  }

  active(policyId: number): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM retrains WHERE policy_id = ? AND status NOT IN (${TERMINAL.map(() => '?').join(', ')})`).get(policyId, ...TERMINAL) as { n: number }).n;
  }

  startedSince(policyId: number, since: number, automatedOnly = false): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM retrains WHERE policy_id = ? AND created_at >= ?${automatedOnly ? " AND trigger != 'manual'" : ''}`).get(policyId, since) as { n: number }).n;
  }

  lastAutomated(policyId: number): number | null {
    return (this.db.prepare("SELECT MAX(created_at) AS t FROM retrains WHERE policy_id = ? AND trigger != 'manual'").get(policyId) as { t: number | null }).t;
  }

  /** Retrains a stopped backend left in progress. */
  abandonRunning(reason: string, now: number): void {
    const ids = this.db.prepare(`SELECT id FROM retrains WHERE status NOT IN (${TERMINAL.map(() => '?').join(', ')}, 'rolling_out')`).all(...TERMINAL) as { id: number }[];
    for (const r of ids) this.transition(r.id, 'failed', reason, now);
  }
}
