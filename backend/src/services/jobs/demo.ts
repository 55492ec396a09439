import { resolve } from 'node:path';
import type { JobService } from './service';
import type { Job, JobSpec } from './types';
import { DEFAULT_TIMEOUT_MS } from './spec';

export interface DemoTrainOptions {
  /** The Python that has mlflow, scikit-learn and pandas (the demo's venv). */
  python: string;
  /** examples/iris of this repository. */
  exampleDir: string;
  experiment?: string;
  /** Run in this Docker image instead of a local process (the example folder is mounted at /app). */
  image?: string;
}

/**
 * Trains the example model through a launcher, exactly as `mlops train` would: its own MLflow run, live logs,
 * lineage. For `mlops demo`: `trainDemoModel(app.runtime.jobs, {...})` once the app is listening (jobs log to
 * it over HTTP); resolves when the job ends.
 */
export async function trainDemoModel(jobs: JobService, o: DemoTrainOptions): Promise<Job> {
  const dir = resolve(o.exampleDir);
  const spec: JobSpec = {
    command: [o.python, 'train.py', '--n-estimators', '50'],
    env: {},
    cwd: o.image ? '/app' : dir,
    mounts: o.image ? [{ source: dir, target: '/app', readOnly: false }] : [],
    resources: {},
    timeoutMs: DEFAULT_TIMEOUT_MS,
    retries: 0,
    experiment: o.experiment ?? 'iris',
    runName: 'demo-train',
    params: { n_estimators: '50' },
    tags: { 'mlops.demo': 'true' },
    data: [resolve(dir, 'data/iris.csv')],
    codeDir: dir,
    stopGraceS: 10,
  };
  if (o.image) spec.image = o.image;
  const job = await jobs.submit(o.image ? 'docker' : 'local', spec);
  return jobs.waitFor(job.job_id);
}
