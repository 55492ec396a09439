import { join } from 'node:path';
import type { CoreContext } from '../../context';
import type { Lineage, RunStatus } from '../../store/types';
import { artifactPathOf } from '../../artifacts/store';
import { ApiError } from '../../util/errors';

/** The job's view of the tracking store: one MLflow run per job, created before it starts. */
export function experimentIdFor(ctx: CoreContext, name: string): string {
  try {
    return ctx.tracking.experiments.getByName(name).experiment_id;
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== 'RESOURCE_DOES_NOT_EXIST') throw err;
    return ctx.tracking.experiments.create(name);
  }
}

export function createJobRun(
  ctx: CoreContext,
  o: { experiment: string; runName?: string; tags: Record<string, string>; params: Record<string, string>; parentRunId?: string },
): { runId: string; artifactUri: string } {
  const experimentId = experimentIdFor(ctx, o.experiment);
  const tags = Object.entries(o.tags).map(([key, value]) => ({ key, value }));
  if (o.parentRunId) tags.push({ key: 'mlflow.parentRunId', value: o.parentRunId });
  const run = ctx.tracking.runs.create({ experimentId, userId: ctx.defaultActor, ...(o.runName ? { runName: o.runName } : {}), tags });
  ctx.tracking.runs.update(run.info.run_id, { status: 'SCHEDULED' });
  const params = Object.entries(o.params).map(([key, value]) => ({ key, value }));
  if (params.length) ctx.tracking.runs.logBatch(run.info.run_id, [], params, []);
  return { runId: run.info.run_id, artifactUri: run.info.artifact_uri };
}

/** The local folder of a run's artifacts, when the run stores them in this backend's artifact root. */
export function runArtifactDir(ctx: CoreContext, artifactUri: string): string | null {
  const rel = artifactPathOf(artifactUri);
  return rel === null ? null : ctx.artifacts.resolve(rel);
}

export function setRunStatus(ctx: CoreContext, runId: string, status: RunStatus, ended: boolean): void {
  ctx.tracking.runs.update(runId, { status, ...(ended ? { endTime: Date.now() } : {}) });
}

export function setRunTags(ctx: CoreContext, runId: string, tags: Record<string, string>): void {
  const kv = Object.entries(tags).map(([key, value]) => ({ key, value }));
  if (kv.length) ctx.tracking.runs.logBatch(runId, [], [], kv);
}

export function setLineage(ctx: CoreContext, runId: string, l: Lineage): void {
  ctx.tracking.runs.setLineage(runId, l);
}

export function logDataInputs(ctx: CoreContext, runId: string, digests: Record<string, string>): void {
  const datasets = Object.entries(digests).map(([path, digest]) => ({
    dataset: { name: path.split('/').pop() || path, digest: digest.slice(0, 32), source_type: 'local', source: path },
    tags: [],
  }));
  if (datasets.length) ctx.tracking.runs.logInputs(runId, datasets, []);
}

/** Latest metrics of a run, by key (pipelines read them in `when` conditions). */
export function latestMetrics(ctx: CoreContext, runId: string): Record<string, number> {
  const run = ctx.tracking.runs.get(runId);
  return Object.fromEntries((run.data.metrics ?? []).map((m) => [m.key, m.value]));
}

export const logFileIn = (dir: string): string => join(dir, 'logs', 'job.log');
