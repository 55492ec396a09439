import type { EventTopic, UiExperiment, UiRun, UiRunPage, UiExperimentList } from '../../../backend/src/api/v1/contract-ui';
import { Emitter } from '../util/emitter';
import { formatDuration, formatMetric } from '../util/format';
import { messageFor, messageView, type MessageNode } from '../vscode/messageNode';
import type { ItemView, TreeModel } from '../vscode/tree';

export interface ExperimentsSource {
  experiments(): Promise<UiExperimentList>;
  runs(experimentId: string, offset: number, limit: number): Promise<UiRunPage>;
}

export type ExperimentNode =
  | { kind: 'experiment'; exp: UiExperiment }
  | { kind: 'run'; run: UiRun; experimentId: string }
  | { kind: 'more'; experimentId: string; loaded: number; total: number }
  | MessageNode;

interface Loaded {
  runs: UiRun[];
  total: number;
  next: number | null;
}

/** The largest page the backend serves; a refresh re-reads what was loaded in pages of this size. */
const MAX_PAGE = 5000;

const STATUS_ICON: Record<string, { id: string; color?: string }> = {
  RUNNING: { id: 'sync~spin', color: 'charts.blue' },
  SCHEDULED: { id: 'clock' },
  FINISHED: { id: 'pass', color: 'testing.iconPassed' },
  FAILED: { id: 'error', color: 'testing.iconFailed' },
  KILLED: { id: 'circle-slash', color: 'disabledForeground' },
};

/**
 * Experiments → runs, loaded a page at a time (a "Load more" item ends a partial list), so an experiment with
 * 10,000 runs shows its newest page at once. Cached pages are dropped when the backend reports run changes.
 */
export class ExperimentsModel implements TreeModel<ExperimentNode> {
  private readonly changed = new Emitter<ExperimentNode | undefined>();
  readonly onDidChange = this.changed.event;
  private roots: ExperimentNode[] | undefined;
  private readonly pages = new Map<string, Loaded>();
  private readonly wanted = new Map<string, number>();

  constructor(
    private readonly source: () => Promise<ExperimentsSource>,
    private readonly pageSize: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  async children(parent: ExperimentNode | undefined): Promise<ExperimentNode[]> {
    if (!parent) return (this.roots ??= await this.loadRoots());
    if (parent.kind !== 'experiment') return [];
    const id = parent.exp.experiment_id;
    let loaded = this.pages.get(id);
    if (!loaded) {
      try {
        loaded = await this.fetch(id, this.wanted.get(id) ?? this.pageSize());
      } catch (e) {
        return [messageFor(e, 'Runs')];
      }
      this.pages.set(id, loaded);
    }
    if (loaded.runs.length === 0) return [{ kind: 'message', text: 'No runs yet: log one with mlflow.start_run() or MLOps: Launch Training.' }];
    const nodes: ExperimentNode[] = loaded.runs.map((run) => ({ kind: 'run', run, experimentId: id }));
    if (loaded.next !== null) nodes.push({ kind: 'more', experimentId: id, loaded: loaded.runs.length, total: loaded.total });
    return nodes;
  }

  private async loadRoots(): Promise<ExperimentNode[]> {
    try {
      const { experiments } = await (await this.source()).experiments();
      // A fresh store (nothing, or MLflow's empty Default experiment, id 0): no items, so the view's welcome (package.json viewsWelcome) shows.
      if (experiments.every((e) => e.experiment_id === '0' && e.run_count === 0)) return [];
      return experiments.map((exp) => ({ kind: 'experiment', exp }));
    } catch (e) {
      return [messageFor(e, 'Experiments')];
    }
  }

  private async fetch(id: string, count: number): Promise<Loaded> {
    const src = await this.source();
    const out: Loaded = { runs: [], total: 0, next: 0 };
    while (out.next !== null && out.runs.length < count) {
      const page = await src.runs(id, out.next, Math.min(MAX_PAGE, count - out.runs.length));
      out.runs.push(...page.runs);
      out.total = page.total;
      out.next = page.next_offset;
    }
    return out;
  }

  /** Appends the next page of an experiment's runs. */
  async loadMore(experimentId: string): Promise<void> {
    const loaded = this.pages.get(experimentId);
    if (!loaded || loaded.next === null) return;
    const page = await (await this.source()).runs(experimentId, loaded.next, this.pageSize());
    loaded.runs.push(...page.runs);
    loaded.total = page.total;
    loaded.next = page.next_offset;
    this.wanted.set(experimentId, loaded.runs.length);
    const parent = this.roots?.find((n) => n.kind === 'experiment' && n.exp.experiment_id === experimentId);
    this.changed.fire(parent);
  }

  invalidate(topics: readonly EventTopic[]): void {
    if (!topics.includes('runs') && !topics.includes('experiments')) return;
    this.roots = undefined;
    this.pages.clear();
    this.changed.fire(undefined);
  }

  /** The runs currently loaded (for pickers: Compare Runs, Open Run). */
  loadedRuns(): { run: UiRun; experiment: UiExperiment }[] {
    const exps = (this.roots ?? []).flatMap((n) => (n.kind === 'experiment' ? [n.exp] : []));
    return exps.flatMap((experiment) => (this.pages.get(experiment.experiment_id)?.runs ?? []).map((run) => ({ run, experiment })));
  }

  view(n: ExperimentNode): ItemView {
    switch (n.kind) {
      case 'experiment': {
        const pm = n.exp.primary_metric;
        return {
          id: `exp:${n.exp.experiment_id}`,
          label: n.exp.name,
          description: `${n.exp.run_count} run${n.exp.run_count === 1 ? '' : 's'}${pm ? ` · ${pm.goal === 'min' ? '↓' : '↑'}${pm.key}` : ''}`,
          tooltip: `Experiment ${n.exp.experiment_id}${pm ? `\nPrimary metric: ${pm.key} (${pm.goal === 'min' ? 'lower' : 'higher'} is better)` : ''}`,
          icon: { id: 'beaker' },
          contextValue: 'experiment',
          collapsible: 'collapsed',
        };
      }
      case 'run':
        return runView(n.run, this.now());
      case 'more':
        return {
          id: `more:${n.experimentId}:${n.loaded}`,
          label: `Load more… (${n.loaded} of ${n.total})`,
          icon: { id: 'ellipsis' },
          contextValue: 'loadMore',
          collapsible: 'none',
          command: { command: 'mlops.views.experiments.loadMore', title: 'Load More Runs', arguments: [n.experimentId] },
        };
      case 'message':
        return messageView(n);
    }
  }
}

export function runView(r: UiRun, now: number): ItemView {
  const end = r.end_time ?? (r.status === 'RUNNING' ? now : null);
  const duration = end === null ? '' : formatDuration(end - r.start_time);
  const metric = r.metric ? `${r.metric.key} ${formatMetric(r.metric.value)}` : '';
  return {
    id: `run:${r.run_id}`,
    label: r.name || r.run_id.slice(0, 8),
    description: [metric, duration].filter(Boolean).join(' · '),
    tooltip: `${r.name}\nRun ${r.run_id}\nStatus ${r.status}\nStarted ${new Date(r.start_time).toISOString()}${duration ? `\nDuration ${duration}` : ''}`,
    icon: STATUS_ICON[r.status] ?? { id: 'circle-outline' },
    contextValue: r.status === 'RUNNING' ? 'run.running' : 'run',
    collapsible: 'none',
  };
}
