import * as vscode from 'vscode';
import type { UiRun } from '../../../backend/src/api/v1/contract-ui';
import type { ApiClient } from '../backend/client';
import { ComparePanel, type CompareDeps } from '../compare/panel';
import type { Disposer } from '../util/disposable';
import { formatMetric } from '../util/format';
import { ask, Cancelled, pick, registerCommand } from '../vscode/commands';
import type { ExperimentNode, ExperimentsModel } from './model';
import type { RunPages } from './runPage';

export interface ExperimentCommandDeps {
  model: ExperimentsModel;
  client: () => Promise<ApiClient>;
  compare: Omit<CompareDeps, 'openRun'>;
  panels: Set<ComparePanel>;
  pages: RunPages;
  /** The Experiments view's current selection (the palette and the view title button pass no arguments). */
  selection: () => readonly ExperimentNode[];
}

const runIdsOf = (nodes: readonly (ExperimentNode | undefined)[]): string[] => nodes.flatMap((n) => (n?.kind === 'run' ? [n.run.run_id] : []));

/** Run ids to compare: the tree selection, ids passed by a code lens, or a multi-select picker. */
async function chooseRuns(deps: ExperimentCommandDeps, args: unknown[]): Promise<string[]> {
  const [first, second] = args;
  if (Array.isArray(first) && first.every((x) => typeof x === 'string')) return first as string[];
  const selected = runIdsOf(Array.isArray(second) ? (second as ExperimentNode[]) : [first as ExperimentNode | undefined]);
  if (selected.length > 0) return selected;
  const inView = runIdsOf(deps.selection());
  if (inView.length > 0) return inView;
  // Accepting an empty pick is answered (below); dismissing the picker ends quietly.
  const picked = await vscode.window.showQuickPick(runItems(deps), { placeHolder: 'Runs to compare (select two or more)', matchOnDescription: true, canPickMany: true, ignoreFocusOut: true });
  if (!picked) throw new Cancelled();
  return picked.map((p) => p.runId);
}

export async function runItems(deps: Pick<ExperimentCommandDeps, 'model' | 'client'>): Promise<(vscode.QuickPickItem & { runId: string })[]> {
  let loaded = deps.model.loadedRuns();
  if (loaded.length === 0) {
    const c = await deps.client();
    const { experiments } = await c.experiments();
    const pages = await Promise.all(experiments.slice(0, 20).map(async (experiment) => ({ experiment, page: await c.runs(experiment.experiment_id, 0, 200) })));
    loaded = pages.flatMap(({ experiment, page }) => page.runs.map((run: UiRun) => ({ run, experiment })));
  }
  return loaded.map(({ run, experiment }) => ({
    label: run.name || run.run_id.slice(0, 8),
    description: `${experiment.name}${run.metric ? ` · ${run.metric.key} ${formatMetric(run.metric.value)}` : ''}`,
    detail: run.run_id,
    runId: run.run_id,
  }));
}

/** Opens the run's read-only page; a run that no longer exists says so (and offers a refresh). */
export async function openRun(client: () => Promise<ApiClient>, pages: RunPages, runId: string, name?: string): Promise<void> {
  const { runs, missing } = await (await client()).compare([runId]);
  if (!runs[0] || missing.length) {
    void vscode.window.showWarningMessage(`MLOps: run ${runId} no longer exists (it was deleted).`, 'Refresh Views').then((p) => p && vscode.commands.executeCommand('mlops.refresh'));
    return;
  }
  pages.show(runId, name ?? runs[0].name);
}

export function registerExperimentCommands(d: Disposer, deps: ExperimentCommandDeps): void {
  const open = (runId: string) => openRun(deps.client, deps.pages, runId);
  registerCommand(d, 'mlops.compareRuns', async (...args: unknown[]) => {
    const ids = [...new Set(await chooseRuns(deps, args))];
    if (ids.length < 2) {
      const msg = ids.length ? 'MLOps: Compare Runs needs at least two runs; only one is selected (Ctrl+click or Shift+click more runs in the Experiments view).' : 'MLOps: Compare Runs needs at least two runs; none is selected.';
      const r = await vscode.window.showInformationMessage(msg, ...(ids.length ? ['Open This Run'] : []));
      if (r) await open(ids[0]!);
      return;
    }
    const panel = new ComparePanel({ ...deps.compare, openRun: open }, ids);
    deps.panels.add(panel);
    d.track(panel.onDidDispose(() => deps.panels.delete(panel)));
  });
  registerCommand(d, 'mlops.openRun', async (node?: ExperimentNode | string) => {
    if (typeof node === 'string') return open(node);
    if (node?.kind === 'run') return open(node.run.run_id);
    const items = await runItems(deps);
    const manual = { label: '$(edit) Enter a run id…', runId: '' };
    const chosen = await pick([...items, manual], { placeHolder: 'Run to open', matchOnDescription: true, matchOnDetail: true });
    return open(chosen.runId || (await ask({ prompt: 'Run id', validateInput: (v) => (/^[0-9a-f]{8,64}$/i.test(v.trim()) ? null : 'A run id is 32 hex characters') })));
  });
  registerCommand(d, 'mlops.views.experiments.loadMore', (experimentId: string) => deps.model.loadMore(experimentId));
  registerCommand(d, 'mlops.views.experiments.copyRunId', async (node?: ExperimentNode) => {
    if (node?.kind !== 'run') return;
    await vscode.env.clipboard.writeText(node.run.run_id);
    void vscode.window.setStatusBarMessage(`Copied run id ${node.run.run_id}`, 3000);
  });
}
