import type { Job } from '../../../backend/src/services/jobs/types';

/** A job as the list shows it; `progress` (0..1) and `name` are optional extras a backend may add. */
export type JobItem = Pick<Job, 'job_id' | 'status' | 'run_id' | 'launcher'> &
  Partial<Pick<Job, 'message' | 'attempt' | 'exit_code' | 'reason' | 'pipeline_run_id' | 'ended_at'>> & {
    created_at?: number;
    started_at?: number | null;
    progress?: number | null;
    name?: string;
    spec?: Partial<Pick<Job['spec'], 'command' | 'experiment' | 'image' | 'runName'>>;
  };

const SCRIPT = /\.(py|ipynb|r|jl|sh)$/i;
const base = (p: string): string => p.split(/[\\/]/).filter(Boolean).pop() ?? p;

/** What a job runs, in a word: the script (`train.py`), the module (`-m pkg.train` → `pkg.train`), else the program. */
export function jobScript(j: JobItem): string {
  const argv = j.spec?.command ?? [];
  const script = argv.find((a) => SCRIPT.test(a));
  if (script) return base(script);
  const m = argv.indexOf('-m');
  if (m >= 0 && argv[m + 1]) return argv[m + 1]!;
  if (argv[0]) return base(argv[0]);
  return j.spec?.image ?? j.job_id;
}

/** `train.py · churn`: the script and the experiment it logs into. */
export function jobLabel(j: JobItem): string {
  if (j.name) return j.name;
  const exp = j.spec?.experiment;
  return exp ? `${jobScript(j)} · ${exp}` : jobScript(j);
}

export const isActive = (status: string): boolean => status === 'queued' || status === 'running';

/** How it ended, in words: `finished`, `failed (exit 3)`, `cancelled`, `failed (oom: …)`. */
export function outcome(j: JobItem): string {
  if (j.status !== 'failed') return j.status;
  if (j.reason && j.reason !== 'exit') return `failed (${j.reason}${j.message ? `: ${j.message}` : ''})`;
  return typeof j.exit_code === 'number' ? `failed (exit ${j.exit_code})` : 'failed';
}
