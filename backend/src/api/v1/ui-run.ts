import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CoreContext } from '../../context';
import { artifactPathOf } from '../../artifacts/store';
import { runLineage } from '../../services/lineage';
import { locateModel } from '../../services/serving/resolver';
import { parseMlModel } from '../../services/serving/signature';
import { notFound } from '../../util/errors';
import type { UiRunDetail, UiRunModel } from './contract-ui';

const MAX_KEYS = 500;
const MAX_POINTS = 1000;
const MAX_FILES = 1000;
/** Folders walked for the artifact list, so a run with a million files costs a bounded scan. */
const MAX_DIRS = 2000;

export type RunDetailCtx = Pick<CoreContext, 'db' | 'tracking' | 'artifacts'>;

/** One metric's history as parallel arrays, the last value per step kept (as MLflow's charts do); rows ordered by step. */
export function lastPerStep(rows: readonly (readonly [number, number] | readonly [number, number, number])[]): { steps: number[]; values: number[]; times: number[] } {
  const steps: number[] = [];
  const values: number[] = [];
  // The timestamp of the value kept (rows of [step, value, timestamp]); empty for [step, value] rows.
  const times: number[] = [];
  for (const [step, value, ts] of rows) {
    const same = steps.length > 0 && steps[steps.length - 1] === step;
    if (same) values[values.length - 1] = value;
    else {
      steps.push(step);
      values.push(value);
    }
    if (ts !== undefined) {
      if (same) times[times.length - 1] = ts;
      else times.push(ts);
    }
  }
  return { steps, values, times };
}

/** Keeps the last value per step, then thins evenly to at most MAX_POINTS (the last point always kept). */
export function thin(rows: readonly [number, number][]): { steps: number[]; values: number[]; points: number } {
  const { steps, values } = lastPerStep(rows);
  const n = steps.length;
  if (n <= MAX_POINTS) return { steps, values, points: n };
  const idx = Array.from({ length: MAX_POINTS }, (_, i) => Math.round((i * (n - 1)) / (MAX_POINTS - 1)));
  return { steps: idx.map((i) => steps[i]!), values: idx.map((i) => values[i]!), points: n };
}

/** Everything the read-only run page shows, in one round trip. */
export async function runDetail(ctx: RunDetailCtx, runId: string): Promise<UiRunDetail> {
  const r = ctx.db
    .prepare(
      `SELECT r.run_uuid, r.name, r.experiment_id, e.name AS experiment_name, r.status, r.start_time, r.end_time, r.artifact_uri, r.user_id
       FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id WHERE r.run_uuid = ? AND r.lifecycle_stage = 'active'`,
    )
    .get(runId) as
    | { run_uuid: string; name: string; experiment_id: number; experiment_name: string; status: string; start_time: number; end_time: number | null; artifact_uri: string; user_id: string | null }
    | undefined;
  if (!r) throw notFound(`Run with id=${runId} not found`);
  const kv = (sql: string) => Object.fromEntries((ctx.db.prepare(sql).raw().all(runId) as [string, string][]).map(([k, v]) => [k, v]));
  const params = kv('SELECT key, value FROM params WHERE run_uuid = ? ORDER BY key');
  const tags = kv('SELECT key, value FROM tags WHERE run_uuid = ? ORDER BY key');
  const latest = ctx.db.prepare('SELECT key, value FROM latest_metrics WHERE run_uuid = ? AND is_nan = 0 ORDER BY key LIMIT ?').raw().all(runId, MAX_KEYS) as [string, number][];
  const history = ctx.db.prepare('SELECT step, value FROM metrics WHERE run_uuid = ? AND key = ? AND is_nan = 0 ORDER BY step, timestamp').raw();
  const metrics = latest.map(([key, value]) => ({ key, latest: value, ...thin(history.all(runId, key) as [number, number][]) }));
  const l = runLineage(ctx, runId);
  const rel = artifactPathOf(r.artifact_uri);
  const { files, truncated } = rel === null ? { files: [], truncated: false } : await listBounded(ctx, rel);
  return {
    run: {
      run_id: r.run_uuid,
      name: r.name,
      experiment_id: String(r.experiment_id),
      experiment_name: r.experiment_name,
      status: r.status,
      start_time: r.start_time,
      end_time: r.end_time,
      artifact_uri: r.artifact_uri,
      user: r.user_id ?? '',
    },
    params,
    tags,
    metrics,
    lineage: {
      code_commit: l.lineage.code_commit ?? null,
      code_dirty: l.lineage.code_dirty ?? null,
      image_digest: l.lineage.image_digest ?? null,
      command: l.lineage.command ?? null,
      environment: l.lineage.environment ?? {},
      source_name: l.source.name ?? null,
      datasets: l.datasets.map((d) => ({ name: d.name, digest: d.digest, source: d.source })),
    },
    artifacts: files,
    artifacts_truncated: truncated,
    models: [...(await loggedModels(ctx, runId)), ...(rel === null ? [] : await artifactModels(ctx, runId, rel, files))],
    job: jobOf(ctx, runId),
  };
}

async function listBounded(ctx: RunDetailCtx, rel: string): Promise<{ files: { path: string; size: number }[]; truncated: boolean }> {
  const files: { path: string; size: number }[] = [];
  const queue = [''];
  let dirs = 0;
  while (queue.length > 0) {
    const sub = queue.shift()!;
    if (++dirs > MAX_DIRS) return { files, truncated: true };
    for (const e of await ctx.artifacts.list(sub ? `${rel}/${sub}` : rel)) {
      const p = sub ? `${sub}/${e.path}` : e.path;
      if (e.is_dir) queue.push(p);
      else if (files.length >= MAX_FILES) return { files, truncated: true };
      else files.push({ path: p, size: e.file_size ?? 0 });
    }
  }
  files.sort((a, b) => a.path.localeCompare(b.path));
  return { files, truncated: false };
}

/** What a model folder holds: its flavours (from MLmodel) and whether the serving engine can load an ONNX file from it. */
export async function inspectModelDir(dir: string): Promise<{ flavors: string[]; onnx: boolean }> {
  const text = await readFile(join(dir, 'MLmodel'), 'utf8').catch(() => null);
  let flavors: string[] = [];
  try {
    flavors = text === null ? [] : [...parseMlModel(text).flavors];
  } catch {
    // An unreadable MLmodel: no flavours, and locateModel below refuses it.
  }
  const onnx = await locateModel(dir, dir).then(
    () => true,
    () => false,
  );
  return { flavors, onnx };
}

async function loggedModels(ctx: RunDetailCtx, runId: string): Promise<UiRunModel[]> {
  const rows = ctx.db
    .prepare(`SELECT model_id, name, artifact_location FROM logged_models WHERE source_run_id = ? AND lifecycle_stage = 'active' ORDER BY creation_timestamp_ms LIMIT 100`)
    .all(runId) as { model_id: string; name: string; artifact_location: string }[];
  const out: UiRunModel[] = [];
  for (const m of rows) {
    const rel = artifactPathOf(m.artifact_location);
    const info = rel === null ? { flavors: [], onnx: false } : await inspectModelDir(ctx.artifacts.resolve(rel));
    out.push({ name: m.name, source: `models:/${m.model_id}`, kind: 'logged_model', ...info });
  }
  return out;
}

/** Folders of the run's artifacts that hold a model: an MLmodel file, or an ONNX file. */
async function artifactModels(ctx: RunDetailCtx, runId: string, rel: string, files: readonly { path: string }[]): Promise<UiRunModel[]> {
  const dirs = new Set<string>();
  for (const f of files) {
    const slash = f.path.lastIndexOf('/');
    const base = f.path.slice(slash + 1);
    if (base === 'MLmodel' || base.endsWith('.onnx')) dirs.add(slash < 0 ? '' : f.path.slice(0, slash));
  }
  // A model folder inside another model folder (e.g. an ONNX file under model/data) counts once, as the outer one.
  const top = [...dirs].filter((d) => ![...dirs].some((o) => o !== d && (o === '' || d.startsWith(`${o}/`)))).sort();
  const out: UiRunModel[] = [];
  for (const d of top) {
    const info = await inspectModelDir(ctx.artifacts.resolve(d ? `${rel}/${d}` : rel));
    out.push({ name: d || '(artifact root)', source: d ? `runs:/${runId}/${d}` : `runs:/${runId}`, kind: 'artifact', ...info });
  }
  return out;
}

function jobOf(ctx: RunDetailCtx, runId: string): UiRunDetail['job'] {
  const hasJobs = ctx.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'`).get();
  if (!hasJobs) return null;
  const j = ctx.db.prepare('SELECT job_id, status FROM jobs WHERE run_uuid = ? ORDER BY created_at DESC LIMIT 1').get(runId) as { job_id: string; status: string } | undefined;
  return j ?? null;
}
