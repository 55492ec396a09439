import type { CoreContext } from '../context';
import type { RunLineage } from '../api/v1/contract';

/** What reproduces a run: our launcher's record plus what the MLflow client put in tags and inputs. */
export function runLineage(ctx: Pick<CoreContext, 'tracking'>, runId: string): RunLineage {
  const run = ctx.tracking.runs.get(runId);
  const tag = (k: string) => run.data.tags?.find((t) => t.key === k)?.value;
  const source: RunLineage['source'] = {};
  const set = (k: keyof RunLineage['source'], v: string | undefined) => {
    if (v) source[k] = v;
  };
  set('name', tag('mlflow.source.name'));
  set('type', tag('mlflow.source.type'));
  set('git_commit', tag('mlflow.source.git.commit'));
  set('user', tag('mlflow.user'));
  const lineage = ctx.tracking.runs.lineage(runId);
  if (!lineage.code_commit && source.git_commit) lineage.code_commit = source.git_commit;
  return {
    run_id: run.info.run_id,
    lineage,
    source,
    datasets: (run.inputs.dataset_inputs ?? []).map((d) => ({ name: d.dataset.name, digest: d.dataset.digest, source_type: d.dataset.source_type, source: d.dataset.source })),
  };
}
