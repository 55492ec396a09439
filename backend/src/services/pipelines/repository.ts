import type { Db } from '../../store/db';
import { notFound } from '../../util/errors';

export type StepStatus = 'pending' | 'running' | 'finished' | 'failed' | 'skipped' | 'cached' | 'cancelled';
export type PipelineStatus = 'running' | 'finished' | 'failed' | 'cancelled';

export interface StepRecord {
  step: string;
  status: StepStatus;
  job_id: string | null;
  run_id: string | null;
  cache_key: string | null;
  outputs: Record<string, unknown> | null;
  output_dir: string | null;
  message: string | null;
  started_at: number | null;
  ended_at: number | null;
}

export interface PipelineRun {
  pipeline_run_id: string;
  name: string;
  file: string;
  run_id: string | null;
  status: PipelineStatus;
  message: string | null;
  params: Record<string, unknown>;
  created_at: number;
  ended_at: number | null;
  steps: StepRecord[];
}

/** "failed: step 'x' failed", "cancelled: wrong data": the status, and the message unless it already says it. */
export const outcome = (r: Pick<PipelineRun, 'status' | 'message'>): string => (r.message?.startsWith(r.status) ? r.message : `${r.status}${r.message ? `: ${r.message}` : ''}`);

interface RunRow extends Omit<PipelineRun, 'params' | 'steps' | 'run_id'> {
  params: string;
  run_uuid: string | null;
}
interface StepRow extends Omit<StepRecord, 'outputs' | 'run_id'> {
  seq: number;
  outputs: string | null;
  run_uuid: string | null;
}

export interface CacheEntry {
  run_uuid: string | null;
  outputs: Record<string, unknown>;
  output_dir: string;
}

/** SQL for pipeline runs, their steps, and the step cache. */
export class PipelineRepo {
  constructor(private readonly db: Db) {}

  insert(r: { id: string; name: string; file: string; runId: string | null; params: Record<string, unknown>; steps: string[] }): void {
    this.db.transaction(() => {
      this.db
        .prepare("INSERT INTO pipeline_runs (pipeline_run_id, name, file, run_uuid, status, params, created_at) VALUES (?, ?, ?, ?, 'running', ?, ?)")
        .run(r.id, r.name, r.file, r.runId, JSON.stringify(r.params), Date.now());
      const ins = this.db.prepare("INSERT INTO pipeline_steps (pipeline_run_id, step, seq, status) VALUES (?, ?, ?, 'pending')");
      r.steps.forEach((s, i) => ins.run(r.id, s, i));
    })();
  }

  get(id: string): PipelineRun {
    const r = this.db.prepare('SELECT * FROM pipeline_runs WHERE pipeline_run_id = ?').get(id) as RunRow | undefined;
    if (!r) throw notFound(`Pipeline run '${id}' not found`);
    const steps = (this.db.prepare('SELECT * FROM pipeline_steps WHERE pipeline_run_id = ? ORDER BY seq').all(id) as StepRow[]).map(
      ({ run_uuid, outputs, seq: _seq, ...s }): StepRecord => ({ ...s, run_id: run_uuid, outputs: outputs ? (JSON.parse(outputs) as Record<string, unknown>) : null }),
    );
    const { run_uuid, params, ...rest } = r;
    return { ...rest, run_id: run_uuid, params: JSON.parse(params) as Record<string, unknown>, steps };
  }

  /** A pipeline run by id or unique id prefix, like jobs. */
  find(idOrPrefix: string): PipelineRun {
    if (!/^[0-9a-f]{1,64}$/.test(idOrPrefix)) throw notFound(`Pipeline run '${idOrPrefix}' not found (ids are hexadecimal)`);
    const ids = this.db.prepare('SELECT pipeline_run_id FROM pipeline_runs WHERE pipeline_run_id LIKE ? LIMIT 2').pluck().all(`${idOrPrefix}%`) as string[];
    if (ids.includes(idOrPrefix)) return this.get(idOrPrefix);
    if (ids.length > 1) throw notFound(`Pipeline run id '${idOrPrefix}' is ambiguous; give more characters`);
    if (!ids.length) throw notFound(`Pipeline run '${idOrPrefix}' not found`);
    return this.get(ids[0]!);
  }

  list(limit = 50): PipelineRun[] {
    const ids = this.db.prepare('SELECT pipeline_run_id FROM pipeline_runs ORDER BY created_at DESC LIMIT ?').pluck().all(limit) as string[];
    return ids.map((id) => this.get(id));
  }

  finish(id: string, status: PipelineStatus, message: string): void {
    this.db.prepare('UPDATE pipeline_runs SET status = ?, message = ?, ended_at = ? WHERE pipeline_run_id = ?').run(status, message, Date.now(), id);
  }

  setMessage(id: string, message: string): void {
    this.db.prepare('UPDATE pipeline_runs SET message = ? WHERE pipeline_run_id = ?').run(message, id);
  }

  /** Pipeline runs a previous backend left running: they cannot resume, so they end as failed. */
  abandonRunning(message: string): void {
    this.db.prepare("UPDATE pipeline_steps SET status = 'failed', message = ? WHERE status IN ('running', 'pending') AND pipeline_run_id IN (SELECT pipeline_run_id FROM pipeline_runs WHERE status = 'running')").run(message);
    this.db.prepare("UPDATE pipeline_runs SET status = 'failed', message = ?, ended_at = ? WHERE status = 'running'").run(message, Date.now());
  }

  updateStep(id: string, step: string, p: Partial<Omit<StepRecord, 'step' | 'run_id' | 'outputs'>> & { run_id?: string | null; outputs?: Record<string, unknown> | null }): void {
    const sets: string[] = [];
    const args: (string | number | null)[] = [];
    for (const [k, v] of Object.entries(p)) {
      sets.push(`${k === 'run_id' ? 'run_uuid' : k} = ?`);
      args.push(k === 'outputs' ? (v === null ? null : JSON.stringify(v)) : (v as string | number | null));
    }
    if (sets.length) this.db.prepare(`UPDATE pipeline_steps SET ${sets.join(', ')} WHERE pipeline_run_id = ? AND step = ?`).run(...args, id, step);
  }

  cached(key: string): CacheEntry | null {
    const r = this.db.prepare('SELECT run_uuid, outputs, output_dir FROM step_cache WHERE cache_key = ?').get(key) as { run_uuid: string | null; outputs: string; output_dir: string } | undefined;
    return r ? { run_uuid: r.run_uuid, outputs: JSON.parse(r.outputs) as Record<string, unknown>, output_dir: r.output_dir } : null;
  }

  remember(key: string, pipeline: string, step: string, e: CacheEntry): void {
    this.db
      .prepare('INSERT OR REPLACE INTO step_cache (cache_key, pipeline, step, run_uuid, outputs, output_dir, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(key, pipeline, step, e.run_uuid, JSON.stringify(e.outputs), e.output_dir, Date.now());
  }

  forget(key: string): void {
    this.db.prepare('DELETE FROM step_cache WHERE cache_key = ?').run(key);
  }
}
