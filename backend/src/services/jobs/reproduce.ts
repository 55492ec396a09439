import type { CoreContext } from '../../context';
import { invalid } from '../../util/errors';
import { codeState, dataDigests } from './lineage';
import type { JobService } from './service';
import type { Job, JobSpec } from './types';

export interface ReproducePlan {
  run_id: string;
  /** What is not as it was; each line says what and how. */
  differences: string[];
  /** True when the job can run again exactly as recorded. */
  exact: boolean;
  job?: Job;
}

/**
 * Re-launches the job behind a run with what it recorded: the same image (by id, not by tag), command, env,
 * mounts, resources and params. It refuses, saying why, when the code or the data changed or the image is gone,
 * unless `force` is set.
 */
export async function reproduceRun(ctx: CoreContext, jobs: JobService, runId: string, force: boolean): Promise<ReproducePlan> {
  const original = jobs.repo.byRun(runId);
  if (!original) throw invalid(`Run ${runId} was not started by a job (mlops train or a pipeline), so there is no recipe to reproduce it`);
  const lineage = ctx.tracking.runs.lineage(runId);
  const run = ctx.tracking.runs.get(runId);
  const tag = (k: string) => run.data.tags?.find((t) => t.key === k)?.value;
  const spec: JobSpec = { ...original.spec, tags: { ...original.spec.tags, 'mlops.reproduces': runId } };
  delete spec.runName;
  const differences: string[] = [];
  let blocked = false;

  const codeDir = spec.codeDir ?? (original.launcher === 'local' ? spec.cwd : undefined);
  if (lineage.code_commit) {
    const now = await codeState(codeDir);
    if (now.commit !== lineage.code_commit) {
      differences.push(`code: the run used commit ${lineage.code_commit.slice(0, 12)}; ${codeDir} is at ${now.commit?.slice(0, 12) ?? 'no commit'} (check it out first)`);
      blocked = true;
    } else if ((now.diffDigest ?? null) !== (lineage.code_diff_digest ?? null)) {
      differences.push(lineage.code_diff_digest ? 'code: the uncommitted changes differ from those the run had' : 'code: the folder has uncommitted changes the run did not have');
      blocked = true;
    }
  }
  if (original.launcher === 'docker') {
    const recorded = tag('mlops.image_id') ?? lineage.image_digest;
    if (!recorded) {
      differences.push('image: the run recorded no image digest');
      blocked = true;
    } else {
      const img = await jobs.docker.getImage(recorded).inspect().catch(() => null);
      if (!img) {
        differences.push(`image: ${recorded} is no longer on the Docker host (rebuild it or pull ${lineage.image_digest ?? spec.image})`);
        blocked = true;
      } else {
        const current = await jobs.docker.getImage(spec.image!).inspect().catch(() => null);
        if (current && current.Id !== img.Id) differences.push(`image: tag ${spec.image} now points to ${current.Id.slice(0, 19)}; using the recorded ${img.Id.slice(0, 19)}`);
        spec.image = img.Id;
      }
    }
  }
  const recordedData = tag('mlops.data_digests');
  if (recordedData) {
    const was = JSON.parse(recordedData) as Record<string, string>;
    const now = await dataDigests(Object.keys(was)).catch((err: Error) => {
      differences.push(`data: ${err.message}`);
      blocked = true;
      return null;
    });
    for (const [p, d] of Object.entries(now ?? {})) {
      if (was[p] !== d) {
        differences.push(`data: ${p} changed (sha256 ${was[p]?.slice(0, 12)} → ${d.slice(0, 12)})`);
        blocked = true;
      }
    }
  }
  const plan: ReproducePlan = { run_id: runId, differences, exact: !blocked };
  if (blocked && !force) return plan;
  plan.job = await jobs.submit(original.launcher, spec);
  return plan;
}
