import type { PipelineRunView, PipelineStep } from '../../../backend/src/api/v1/contract';
import type { EventTopic } from '../../../backend/src/api/v1/contract-ui';
import { Emitter } from '../util/emitter';
import { formatDuration } from '../util/format';
import { messageFor, messageView, type MessageNode } from '../vscode/messageNode';
import type { ItemView, TreeModel } from '../vscode/tree';
import { isActive, jobLabel, outcome, type JobItem } from './label';

export type { JobItem } from './label';

export interface JobsSource {
  jobs(): Promise<JobItem[]>;
  /** Pipeline runs with their steps; a backend without pipelines answers []. */
  pipelines(): Promise<PipelineRunView[]>;
}

export type JobNode =
  | { kind: 'job'; job: JobItem }
  | { kind: 'pipeline'; run: PipelineRunView }
  | { kind: 'step'; run: PipelineRunView; step: PipelineStep }
  | MessageNode;

const ICON: Record<string, { id: string; color?: string }> = {
  queued: { id: 'clock' },
  pending: { id: 'clock' },
  running: { id: 'sync~spin', color: 'charts.blue' },
  finished: { id: 'pass', color: 'testing.iconPassed' },
  cached: { id: 'pass-filled', color: 'testing.iconPassed' },
  failed: { id: 'error', color: 'testing.iconFailed' },
  cancelled: { id: 'circle-slash' },
  skipped: { id: 'debug-step-over' },
};

/** Timers the ticker uses (injectable: the unit tests drive them by hand). */
export interface Ticker {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}
const realTicker: Ticker = { set: (fn, ms) => setInterval(fn, ms), clear: (h) => clearInterval(h as NodeJS.Timeout) };

const TICK_MS = 1000;

/**
 * Jobs and pipeline runs (their steps as children), running and queued first, then the most recent. While something
 * runs, its row alone is refreshed once a second so its elapsed time ticks; nothing ticks when nothing runs.
 */
export class JobsModel implements TreeModel<JobNode> {
  private readonly changed = new Emitter<JobNode | undefined>();
  readonly onDidChange = this.changed.event;
  private cache: { jobs: JobItem[]; pipelines: PipelineRunView[] } | undefined;
  /** The running rows the tree was last given (the same objects: VS Code refreshes a row by identity). */
  private readonly ticking = new Map<string, JobNode>();
  private timer: unknown;

  constructor(
    private readonly source: () => Promise<JobsSource>,
    private readonly now: () => number = Date.now,
    private readonly ticker: Ticker = realTicker,
  ) {}

  async children(parent: JobNode | undefined): Promise<JobNode[]> {
    if (parent?.kind === 'pipeline') return this.track(parent.run.steps.map((step) => ({ kind: 'step', run: parent.run, step })));
    if (parent) return [];
    try {
      if (!this.cache) {
        const s = await this.source();
        const [jobs, pipelines] = await Promise.all([s.jobs(), s.pipelines().catch(() => [])]);
        this.cache = { jobs, pipelines };
      }
    } catch (e) {
      return [messageFor(e, 'Jobs')];
    }
    const { jobs, pipelines } = this.cache;
    if (jobs.length === 0 && pipelines.length === 0) return [{ kind: 'message', text: 'No jobs: start one with MLOps: Launch Training.' }];
    const rows: { node: JobNode; active: number; at: number }[] = [
      ...pipelines.map((run) => ({ node: { kind: 'pipeline' as const, run }, active: run.status === 'running' ? 0 : 2, at: run.created_at })),
      // A pipeline's jobs show as its steps.
      ...jobs.filter((j) => !j.pipeline_run_id).map((job) => ({ node: { kind: 'job' as const, job }, active: job.status === 'running' ? 0 : job.status === 'queued' ? 1 : 2, at: job.created_at ?? 0 })),
    ];
    rows.sort((a, b) => a.active - b.active || b.at - a.at);
    return this.track(rows.slice(0, 200).map((r) => r.node), true);
  }

  invalidate(topics: readonly EventTopic[]): void {
    if (!topics.includes('jobs')) return;
    this.cache = undefined;
    this.ticking.clear();
    this.stopTicking();
    this.changed.fire(undefined);
  }

  loaded(): JobItem[] {
    return this.cache?.jobs ?? [];
  }

  /** The job behind a row: a job, or a pipeline step that ran one. */
  jobOf(n: JobNode | undefined): { jobId: string; label: string; runId: string | null } | undefined {
    if (n?.kind === 'job') return { jobId: n.job.job_id, label: jobLabel(n.job), runId: n.job.run_id };
    if (n?.kind === 'step' && n.step.job_id) return { jobId: n.step.job_id, label: `${n.run.name} › ${n.step.step}`, runId: n.step.run_id };
    return undefined;
  }

  view(n: JobNode): ItemView {
    if (n.kind === 'message') return messageView(n);
    if (n.kind === 'pipeline') {
      const r = n.run;
      return {
        id: `pipeline:${r.pipeline_run_id}`,
        label: `${r.name} (pipeline)`,
        description: [r.status, this.elapsed(r.status, r.created_at, r.ended_at), `${r.steps.filter((s) => s.status === 'finished' || s.status === 'cached').length}/${r.steps.length} steps`].filter(Boolean).join(' · '),
        tooltip: `Pipeline run ${r.pipeline_run_id} of ${r.file}\nStatus ${r.status}${r.message ? `\n${r.message}` : ''}`,
        icon: ICON[r.status] ?? { id: 'circle-outline' },
        contextValue: r.status === 'running' ? 'pipeline.active' : 'pipeline',
        collapsible: r.status === 'running' ? 'expanded' : 'collapsed',
      };
    }
    if (n.kind === 'step') {
      const s = n.step;
      const job = this.jobOf(n);
      return {
        id: `pipeline:${n.run.pipeline_run_id}:${s.step}`,
        label: s.step,
        description: [s.status, this.elapsed(s.status, s.started_at, s.ended_at)].filter(Boolean).join(' · '),
        tooltip: `Step ${s.step}: ${s.status}${s.job_id ? `\nJob ${s.job_id}` : ''}${s.message ? `\n${s.message}` : ''}`,
        icon: ICON[s.status] ?? { id: 'circle-outline' },
        contextValue: job ? (s.status === 'running' ? 'job.active' : 'job') : 'pipelineStep',
        collapsible: 'none',
        ...(job ? { command: { command: 'mlops.showJobLog' as const, title: 'Show Log', arguments: [n] } } : {}),
      };
    }
    const j = n.job;
    const progress = typeof j.progress === 'number' ? `${Math.round(j.progress * 100)}%` : '';
    return {
      id: `job:${j.job_id}`,
      label: jobLabel(j),
      description: [j.status === 'failed' ? outcome(j) : j.status, progress, this.elapsed(j.status, j.started_at, j.ended_at)].filter(Boolean).join(' · '),
      tooltip: `Job ${j.job_id} (${j.launcher})\n${(j.spec?.command ?? []).join(' ')}\nStatus ${outcome(j)}${j.run_id ? `\nRun ${j.run_id}` : ''}${j.message ? `\n${j.message}` : ''}`,
      icon: ICON[j.status] ?? { id: 'circle-outline' },
      contextValue: isActive(j.status) ? 'job.active' : 'job',
      collapsible: 'none',
      command: { command: 'mlops.showJobLog', title: 'Show Log', arguments: [n] },
    };
  }

  dispose(): void {
    this.stopTicking();
  }

  private elapsed(status: string, start: number | null | undefined, end: number | null | undefined): string {
    if (!start) return '';
    if (status === 'running') return formatDuration(Math.max(0, this.now() - start));
    return end ? formatDuration(end - start) : '';
  }

  private track(nodes: JobNode[], root = false): JobNode[] {
    if (root) this.ticking.clear();
    for (const n of nodes) {
      const running = (n.kind === 'job' && n.job.status === 'running') || (n.kind === 'pipeline' && n.run.status === 'running') || (n.kind === 'step' && n.step.status === 'running');
      if (running) this.ticking.set(this.view(n).id!, n);
    }
    if (this.ticking.size > 0) this.timer ??= this.ticker.set(() => this.tick(), TICK_MS);
    else this.stopTicking();
    return nodes;
  }

  private tick(): void {
    if (this.ticking.size === 0) return this.stopTicking();
    for (const n of this.ticking.values()) this.changed.fire(n);
  }

  private stopTicking(): void {
    if (this.timer !== undefined) this.ticker.clear(this.timer);
    this.timer = undefined;
  }
}
