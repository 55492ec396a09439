import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ApiClient } from '../backend/client';
import * as api from '../backend/features';
import { done, pick, withProgress } from '../vscode/commands';

export async function pickFile(glob: string, placeHolder: string, active?: vscode.Uri): Promise<vscode.Uri> {
  const files = await vscode.workspace.findFiles(glob, '**/{node_modules,.mlops,.venv,venv}/**', 500);
  if (files.length === 0) throw new Error(`No ${glob} files in this workspace.`);
  const items = files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri }));
  if (active) items.sort((a, b) => Number(b.uri.fsPath === active.fsPath) - Number(a.uri.fsPath === active.fsPath));
  return (await pick(items, { placeHolder })).uri;
}

export async function launchTraining(client: () => Promise<ApiClient>, _state: vscode.Memento, uri?: vscode.Uri): Promise<void> {
  const c = await client();
  const active = vscode.window.activeTextEditor?.document.uri;
  const script = uri ?? (await pickFile('**/*.py', 'Training script to run as a job', active?.fsPath.endsWith('.py') ? active : undefined));
  const launcher = (await pick([{ label: 'local', detail: 'Run with the workspace Python' }, { label: 'docker', detail: 'Run in a container' }], { placeHolder: 'Where to run it' })).label as 'local' | 'docker';
  const cwd = vscode.workspace.getWorkspaceFolder(script)?.uri.fsPath ?? path.dirname(script.fsPath);
  const job = await withProgress(`Queuing ${path.basename(script.fsPath)}`, () => api.launchJob(c, { command: ['python', path.relative(cwd, script.fsPath)], cwd, launcher }));
  await done(`Job ${job.job_id} is ${job.status}.`, { 'Show Jobs': () => vscode.commands.executeCommand('mlops.jobs.focus') });
}
