import type { Db } from '../../store/db';
import type { CompareResult } from './compare';
import type { DataValidationRule, GateConfig, MetricCondition, TagCondition, ValidationRecord } from './conditions';

export interface StoredGate extends GateConfig {
  name: string;
  updated_at: number;
  updated_by: string;
}

interface GateRow {
  name: string;
  metrics: string;
  tags: string;
  data_validation: DataValidationRule;
  updated_at: number;
  updated_by: string;
}

/** SQL of the promotion gates, and the evidence a check reads: the run's latest metrics and its pipeline's validate steps. */
export class GateRepo {
  constructor(private readonly db: Db) {}

  get(name: string): StoredGate | null {
    const r = this.db.prepare('SELECT * FROM promotion_gates WHERE name = ?').get(name) as GateRow | undefined;
    if (!r) return null;
    return {
      name: r.name,
      metrics: JSON.parse(r.metrics) as MetricCondition[],
      tags: JSON.parse(r.tags) as TagCondition[],
      data_validation: r.data_validation,
      updated_at: r.updated_at,
      updated_by: r.updated_by,
    };
  }

  put(name: string, c: GateConfig, by: string, at: number): void {
    this.db
      .prepare('INSERT OR REPLACE INTO promotion_gates (name, metrics, tags, data_validation, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)')
      .run(name, JSON.stringify(c.metrics), JSON.stringify(c.tags), c.data_validation, at, by);
  }

  delete(name: string): boolean {
    return this.db.prepare('DELETE FROM promotion_gates WHERE name = ?').run(name).changes > 0;
  }

  /** Latest value per metric key of an active run; null when the run is not in this store (or deleted). */
  runMetrics(runId: string): Map<string, number> | null {
    const run = this.db.prepare("SELECT 1 FROM runs WHERE run_uuid = ? AND lifecycle_stage = 'active'").get(runId);
    if (!run) return null;
    const rows = this.db.prepare('SELECT key, value, is_nan FROM latest_metrics WHERE run_uuid = ?').all(runId) as { key: string; value: number; is_nan: number }[];
    return new Map(rows.map((r) => [r.key, r.is_nan ? NaN : r.value]));
  }

  /** The pipeline run the run belongs to: its own `mlops.pipeline_run_id` tag, else its parent run's. */
  pipelineRunOf(runId: string): string | null {
    const tag = this.db.prepare('SELECT value FROM tags WHERE run_uuid = ? AND key = ?').pluck();
    const own = tag.get(runId, 'mlops.pipeline_run_id') as string | undefined;
    if (own) return own;
    const parent = tag.get(runId, 'mlflow.parentRunId') as string | undefined;
    return parent ? ((tag.get(parent, 'mlops.pipeline_run_id') as string | undefined) ?? null) : null;
  }

  /** The validate steps of a pipeline run, from the runs the pipeline runner created for them. */
  validations(pipelineRunId: string): ValidationRecord[] {
    return this.db
      .prepare(
        `SELECT r.run_uuid AS run_id, r.status AS status, COALESCE(s.value, '') AS step,
                (SELECT CASE WHEN m.is_nan THEN NULL ELSE m.value END FROM latest_metrics m WHERE m.run_uuid = r.run_uuid AND m.key = 'failed_checks') AS failed_checks
         FROM tags p
         JOIN tags k ON k.run_uuid = p.run_uuid AND k.key = 'mlops.step.kind' AND k.value = 'validate'
         JOIN runs r ON r.run_uuid = p.run_uuid AND r.lifecycle_stage = 'active'
         LEFT JOIN tags s ON s.run_uuid = p.run_uuid AND s.key = 'mlops.step'
         WHERE p.key = 'mlops.pipeline_run_id' AND p.value = ?
         ORDER BY r.start_time, r.run_uuid`,
      )
      .all(pipelineRunId) as ValidationRecord[];
  }
}

export interface StoredComparison extends CompareResult {
  id: number;
  created_at: number;
  actor: string;
}

/** Offline champion/challenger comparisons, kept with their numbers. */
export class ComparisonRepo {
  constructor(private readonly db: Db) {}

  insert(r: CompareResult, actor: string, at: number): StoredComparison {
    const id = Number(
      this.db.prepare('INSERT INTO model_comparisons (created_at, actor, champion, challenger, verdict, result) VALUES (?, ?, ?, ?, ?, ?)').run(at, actor, r.champion.model, r.challenger.model, r.verdict, JSON.stringify(r)).lastInsertRowid,
    );
    return { id, created_at: at, actor, ...r };
  }

  get(id: number): StoredComparison | null {
    const r = this.db.prepare('SELECT id, created_at, actor, result FROM model_comparisons WHERE id = ?').get(id) as { id: number; created_at: number; actor: string; result: string } | undefined;
    return r ? { id: r.id, created_at: r.created_at, actor: r.actor, ...(JSON.parse(r.result) as CompareResult) } : null;
  }
}
