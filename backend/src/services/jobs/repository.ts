import type { Db } from '../../store/db';
import { notFound } from '../../util/errors';
import type { AppliedLimits, EndReason, Job, JobSpec, JobStatus, LauncherKind } from './types';

interface Row {
  job_id: string;
  run_uuid: string | null;
  launcher: LauncherKind;
  spec: string;
  status: JobStatus;
  reason: EndReason | null;
  message: string | null;
  exit_code: number | null;
  attempt: number;
  handle: string | null;
  gpus: string | null;
  limits: string | null;
  log_file: string;
  pipeline_run_id: string | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
}

const toJob = (r: Row): Job => ({
  job_id: r.job_id,
  run_id: r.run_uuid,
  launcher: r.launcher,
  spec: JSON.parse(r.spec) as JobSpec,
  status: r.status,
  reason: r.reason,
  message: r.message,
  exit_code: r.exit_code,
  attempt: r.attempt,
  handle: r.handle,
  gpus: r.gpus ? (JSON.parse(r.gpus) as string[]) : null,
  limits: r.limits ? (JSON.parse(r.limits) as AppliedLimits) : null,
  log_file: r.log_file,
  pipeline_run_id: r.pipeline_run_id,
  created_at: r.created_at,
  started_at: r.started_at,
  ended_at: r.ended_at,
});

export type JobPatch = Partial<Pick<Row, 'status' | 'reason' | 'message' | 'exit_code' | 'attempt' | 'handle' | 'started_at' | 'ended_at'>> & {
  gpus?: string[] | null;
  limits?: AppliedLimits | null;
};

/** SQL for the jobs table. */
export class JobRepo {
  constructor(private readonly db: Db) {}

  insert(j: { job_id: string; run_id: string | null; launcher: LauncherKind; spec: JobSpec; log_file: string; pipeline_run_id?: string | null; created_at: number }): void {
    this.db
      .prepare(
        `INSERT INTO jobs (job_id, run_uuid, launcher, spec, status, attempt, log_file, pipeline_run_id, created_at)
         VALUES (?, ?, ?, ?, 'queued', 0, ?, ?, ?)`,
      )
      .run(j.job_id, j.run_id, j.launcher, JSON.stringify(j.spec), j.log_file, j.pipeline_run_id ?? null, j.created_at);
  }

  get(id: string): Job {
    const r = this.db.prepare('SELECT * FROM jobs WHERE job_id = ?').get(id) as Row | undefined;
    if (!r) throw notFound(`Job '${id}' not found`);
    return toJob(r);
  }

  /** A job by id or unique id prefix (people type the first few characters the list shows). */
  find(idOrPrefix: string): Job {
    const rows = this.db.prepare("SELECT * FROM jobs WHERE job_id = ? OR job_id LIKE ? ESCAPE '\\' LIMIT 2").all(idOrPrefix, `${idOrPrefix.replace(/[\\%_]/g, '\\$&')}%`) as Row[];
    const exact = rows.find((r) => r.job_id === idOrPrefix);
    if (exact) return toJob(exact);
    if (rows.length === 1) return toJob(rows[0]!);
    if (rows.length > 1) throw notFound(`Job id '${idOrPrefix}' is ambiguous; give more characters`);
    throw notFound(`Job '${idOrPrefix}' not found`);
  }

  byRun(runId: string): Job | null {
    const r = this.db.prepare('SELECT * FROM jobs WHERE run_uuid = ? ORDER BY created_at DESC LIMIT 1').get(runId) as Row | undefined;
    return r ? toJob(r) : null;
  }

  list(o: { status?: JobStatus; limit?: number; pipelineRunId?: string } = {}): Job[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (o.status) {
      where.push('status = ?');
      args.push(o.status);
    }
    if (o.pipelineRunId) {
      where.push('pipeline_run_id = ?');
      args.push(o.pipelineRunId);
    }
    const limit = Math.min(Math.max(o.limit ?? 100, 1), 10_000);
    const sql = `SELECT * FROM jobs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, job_id LIMIT ${limit}`;
    return (this.db.prepare(sql).all(...args) as Row[]).map(toJob);
  }

  /** Queued jobs, oldest first: the scheduler's order. */
  queued(): Job[] {
    return (this.db.prepare("SELECT * FROM jobs WHERE status = 'queued' ORDER BY created_at, job_id").all() as Row[]).map(toJob);
  }

  running(): Job[] {
    return (this.db.prepare("SELECT * FROM jobs WHERE status = 'running'").all() as Row[]).map(toJob);
  }

  update(id: string, p: JobPatch): void {
    const sets: string[] = [];
    const args: (string | number | null)[] = [];
    for (const [k, v] of Object.entries(p)) {
      sets.push(`${k} = ?`);
      args.push(k === 'gpus' || k === 'limits' ? (v === null ? null : JSON.stringify(v)) : (v as string | number | null));
    }
    if (sets.length) this.db.prepare(`UPDATE jobs SET ${sets.join(', ')} WHERE job_id = ?`).run(...args, id);
  }
}
