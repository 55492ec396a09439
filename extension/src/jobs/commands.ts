import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ApiClient } from '../backend/client';
import * as api from '../backend/features';
import type { Disposer } from '../util/disposable';
import { confirm, done, pick, registerCommand, withProgress } from '../vscode/commands';
import type { JobNode } from './model';

async function pickFile(glob: string, placeHolder: string, active?: vscode.Uri): Promise<vscode.Uri> {
  const files = await vscode.workspace.findFiles(glob, '**/{node_modules,.mlops,.venv,venv}/**', 500);
  if (files.length === 0) throw new Error(`No ${glob} files in this workspace.`);
  const items = files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri }));
  if (active) items.sort((a, b) => Number(b.uri.fsPath === active.fsPath) - Number(a.uri.fsPath === active.fsPath));
  return (await pick(items, { placeHolder })).uri;
}

export function registerJobCommands(d: Disposer, client: () => Promise<ApiClient>): void {
  registerCommand(d, 'mlops.launchTraining', async (uri?: vscode.Uri) => {
    const c = await client();
    const active = vscode.window.activeTextEditor?.document.uri;
    const script = uri ?? (await pickFile('**/*.py', 'Training script to run as a job', active?.fsPath.endsWith('.py') ? active : undefined));
    const launcher = (await pick([{ label: 'local', detail: 'Run with the workspace Python' }, { label: 'docker', detail: 'Run in a container' }], { placeHolder: 'Where to run it' })).label as 'local' | 'docker';
    const cwd = vscode.workspace.getWorkspaceFolder(script)?.uri.fsPath ?? path.dirname(script.fsPath);
    const job = await withProgress(`Queuing ${path.basename(script.fsPath)}`, () => api.launchJob(c, { command: ['python', path.relative(cwd, script.fsPath)], cwd, launcher }));
    await done(`Job ${job.job_id} is ${job.status}.`, { 'Show Jobs': () => vscode.commands.executeCommand('mlops.jobs.focus') });
  });
  registerCommand(d, 'mlops.runPipeline', async () => {
    const c = await client();
    const file = await pickFile('**/*.{yaml,yml}', 'Pipeline file');
    const r = await withProgress(`Starting ${vscode.workspace.asRelativePath(file)}`, () => api.runPipeline(c, file.fsPath));
    await done(`Pipeline ${r.pipeline_run_id ?? ''} started.`, { 'Show Jobs': () => vscode.commands.executeCommand('mlops.jobs.focus') });
  });
  registerCommand(d, 'mlops.cancelJob', async (node?: JobNode) => {
    const c = await client();
    let jobId = node?.kind === 'job' ? node.job.job_id : undefined;
    if (!jobId) {
      const active = (await api.jobs(c)).filter((j) => j.status === 'queued' || j.status === 'running');
      if (active.length === 0) throw new Error('No queued or running jobs to cancel.');
      jobId = (await pick(active.map((j) => ({ label: j.job_id, description: j.status })), { placeHolder: 'Job to cancel' })).label;
    }
    await confirm(`Cancel job ${jobId}? Its process is stopped and its run marked KILLED.`, 'Cancel Job');
    await withProgress(`Cancelling ${jobId}`, () => api.cancelJob(c, jobId));
    void vscode.window.showInformationMessage(`MLOps: job ${jobId} cancelled.`);
  });
}
