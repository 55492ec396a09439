import type { Job } from '../../../backend/src/services/jobs/types';
import type { EventTopic } from '../../../backend/src/api/v1/contract-ui';
import { Emitter } from '../util/emitter';
import { formatDuration } from '../util/format';
import { messageFor, messageView, type MessageNode } from '../vscode/messageNode';
import type { ItemView, TreeModel } from '../vscode/tree';

/** A job as the list shows it; `progress` (0..1) and `name` are optional extras a backend may add. */
export type JobItem = Pick<Job, 'job_id' | 'status' | 'run_id' | 'launcher'> &
  Partial<Pick<Job, 'message' | 'attempt'>> & { created_at?: number; started_at?: number | null; progress?: number | null; name?: string };

export interface JobsSource {
  jobs(): Promise<JobItem[]>;
}

export type JobNode = { kind: 'job'; job: JobItem } | MessageNode;

const ICON: Record<string, { id: string; color?: string }> = {
  queued: { id: 'clock' },
  running: { id: 'sync~spin', color: 'charts.blue' },
  finished: { id: 'pass', color: 'testing.iconPassed' },
  failed: { id: 'error', color: 'testing.iconFailed' },
  cancelled: { id: 'circle-slash' },
};

/** Queued and running jobs first (with progress), then the most recent finished ones. */
export class JobsModel implements TreeModel<JobNode> {
  private readonly changed = new Emitter<JobNode | undefined>();
  readonly onDidChange = this.changed.event;
  private cache: JobItem[] | undefined;

  constructor(
    private readonly source: () => Promise<JobsSource>,
    private readonly now: () => number = Date.now,
  ) {}

  async children(parent: JobNode | undefined): Promise<JobNode[]> {
    if (parent) return [];
    try {
      this.cache ??= await (await this.source()).jobs();
    } catch (e) {
      return [messageFor(e, 'Jobs')];
    }
    if (this.cache.length === 0) return [{ kind: 'message', text: 'No jobs: start one with MLOps: Launch Training.' }];
    const active = (j: JobItem) => (j.status === 'running' ? 0 : j.status === 'queued' ? 1 : 2);
    return [...this.cache].sort((a, b) => active(a) - active(b) || (b.created_at ?? 0) - (a.created_at ?? 0)).slice(0, 200).map((job) => ({ kind: 'job', job }));
  }

  invalidate(topics: readonly EventTopic[]): void {
    if (!topics.includes('jobs')) return;
    this.cache = undefined;
    this.changed.fire(undefined);
  }

  loaded(): JobItem[] {
    return this.cache ?? [];
  }

  view(n: JobNode): ItemView {
    if (n.kind === 'message') return messageView(n);
    const j = n.job;
    const progress = typeof j.progress === 'number' ? `${Math.round(j.progress * 100)}%` : '';
    const elapsed = j.status === 'running' && j.started_at ? formatDuration(this.now() - j.started_at) : '';
    return {
      id: `job:${j.job_id}`,
      label: j.name ?? j.job_id,
      description: [j.status, progress, elapsed].filter(Boolean).join(' · '),
      tooltip: `Job ${j.job_id} (${j.launcher})\nStatus ${j.status}${j.run_id ? `\nRun ${j.run_id}` : ''}${j.message ? `\n${j.message}` : ''}`,
      icon: ICON[j.status] ?? { id: 'circle-outline' },
      contextValue: j.status === 'queued' || j.status === 'running' ? 'job.active' : 'job',
      collapsible: 'none',
    };
  }
}
