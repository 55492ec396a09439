import type { UiRunDetail } from '../../../backend/src/api/v1/contract-ui';

/** The read-only run page's messages (webviews/src/run ↔ extension/src/experiments/runPage.ts). */
export interface RunPageData {
  detail: UiRunDetail;
  /** The log of the job that produced the run (its last 256 KB), when a job did. */
  jobLog: { job_id: string; status: string; text: string; truncated: boolean } | null;
}

export type RunToWebview = { type: 'run/data'; data: RunPageData } | { type: 'run/error'; message: string };

export type RunToHost =
  | { type: 'run/ready' }
  | { type: 'run/refresh' }
  /** Register Model with this logged model's source (`runs:/<run>/<path>` or `models:/<id>`). */
  | { type: 'run/register'; source: string }
  /** After the charts are drawn (and again after a theme change redrew them). */
  | { type: 'run/rendered'; charts: number; theme: string };
