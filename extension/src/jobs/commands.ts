import * as vscode from 'vscode';
import type { ApiClient } from '../backend/client';
import * as api from '../backend/features';
import { BackendDownError } from '../backend/state';
import type { Disposer } from '../util/disposable';
import { Cancelled, done, pick, registerCommand, withProgress } from '../vscode/commands';
import { isActive, jobLabel, outcome, type JobItem } from './label';
import { launchTraining, pickFile } from './launch';
import type { JobLogChannels } from './logs';
import type { JobNode, JobsModel } from './model';
import { JobEndWatcher } from './watcher';

export interface JobCommandDeps {
  client: () => Promise<ApiClient>;
  model: JobsModel;
  logs: JobLogChannels;
  state: vscode.Memento;
  /** The Jobs view's selected row: a click whose row was re-rendered by the ticking clock in between (its command's
   * arguments are released with the old row) still acts on the row it selected. */
  selection: () => JobNode | undefined;
}

/** The job behind a tree row, else one picked from the backend's list (the palette passes no row). */
async function chooseJob(deps: JobCommandDeps, node: JobNode | undefined, placeHolder: string, filter: (j: JobItem) => boolean = () => true): Promise<{ jobId: string; label: string; runId: string | null }> {
  const fromRow = deps.model.jobOf(node ?? deps.selection());
  if (fromRow) return fromRow;
  const jobs = (await api.jobs(await deps.client())).filter(filter);
  if (jobs.length === 0) throw new Error('There are no such jobs.');
  const chosen = await pick(
    jobs.map((j) => ({ label: jobLabel(j), description: `${outcome(j)} · ${j.job_id.slice(0, 8)}`, job: j })),
    { placeHolder, matchOnDescription: true },
  );
  return { jobId: chosen.job.job_id, label: jobLabel(chosen.job), runId: chosen.job.run_id };
}

/** Cancel asks in a modal whose buttons say what they do; Escape and "Keep Running" leave the job alone. */
async function confirmCancel(label: string, jobId: string): Promise<void> {
  const cancel = { title: 'Cancel Job' };
  const keep = { title: 'Keep Running', isCloseAffordance: true };
  const r = await vscode.window.showWarningMessage(`Cancel job ${label}?`, { modal: true, detail: `Job ${jobId}: its process is stopped and its run marked KILLED.` }, cancel, keep);
  if (r !== cancel) throw new Cancelled();
}

export function registerJobCommands(d: Disposer, deps: JobCommandDeps): void {
  const { client } = deps;
  registerCommand(d, 'mlops.launchTraining', (uri?: vscode.Uri) => launchTraining(client, deps.state, uri));
  registerCommand(d, 'mlops.runPipeline', async () => {
    const c = await client();
    const file = await pickFile('**/*.{yaml,yml}', 'Pipeline file');
    const r = await withProgress(`Starting ${vscode.workspace.asRelativePath(file)}`, () => api.runPipeline(c, file.fsPath));
    await done(`Pipeline ${r.pipeline_run_id ?? ''} started.`, { 'Show Jobs': () => vscode.commands.executeCommand('mlops.jobs.focus') });
  });
  registerCommand(d, 'mlops.showJobLog', async (node?: JobNode) => {
    const j = await chooseJob(deps, node, 'Job whose log to show');
    await deps.logs.show(j.jobId, j.label);
  });
  registerCommand(d, 'mlops.views.jobs.openRun', async (node?: JobNode) => {
    const j = await chooseJob(deps, node, 'Job whose run to open', (x) => Boolean(x.run_id));
    if (!j.runId) throw new Error(`Job ${j.label} has no run yet (it has not started).`);
    await vscode.commands.executeCommand('mlops.openRun', j.runId);
  });
  registerCommand(d, 'mlops.cancelJob', async (node?: JobNode) => {
    const c = await client();
    const j = await chooseJob(deps, node, 'Job to cancel', (x) => isActive(x.status));
    await confirmCancel(j.label, j.jobId);
    await withProgress(`Cancelling ${j.label}`, () => api.cancelJob(c, j.jobId));
    void vscode.window.showInformationMessage(`MLOps: job ${j.label} cancelled.`);
  });
}

/**
 * Tells when a job finishes or fails (not when you cancelled it), with Show Log and Open Run. Looks at the job list
 * whenever the backend publishes a change to jobs, whether or not the Jobs view is open.
 */
export function watchJobEnds(deps: JobCommandDeps, log: (line: string) => void): (topics: readonly string[]) => void {
  const watcher = new JobEndWatcher(Date.now());
  let busy: Promise<void> = Promise.resolve();
  const look = async () => {
    const ended = watcher.update(await api.jobs(await deps.client()));
    // A pipeline's steps are not news one by one; you cancelled a cancelled job yourself.
    for (const j of ended) if (j.status !== 'cancelled' && !j.pipeline_run_id) void notify(deps, j);
  };
  return (topics) => {
    if (!topics.includes('jobs')) return;
    busy = busy.then(look).catch((e: unknown) => {
      if (!(e instanceof BackendDownError)) log(`[jobs] could not read the job list: ${(e as Error).message}`);
    });
  };
}

async function notify(deps: JobCommandDeps, j: JobItem): Promise<void> {
  const label = jobLabel(j);
  const actions = ['Show Log', ...(j.run_id ? ['Open Run'] : [])];
  const r =
    j.status === 'failed'
      ? await vscode.window.showErrorMessage(`MLOps: job ${label} ${outcome(j)}.`, ...actions)
      : await vscode.window.showInformationMessage(`MLOps: job ${label} finished.`, ...actions);
  if (r === 'Show Log') await deps.logs.show(j.job_id, label);
  if (r === 'Open Run' && j.run_id) await vscode.commands.executeCommand('mlops.openRun', j.run_id);
}
