import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ApiClient } from '../backend/client';
import * as api from '../backend/features';
import { joinArgs, splitArgs } from '../util/argv';
import { ask, Cancelled, done, pick } from '../vscode/commands';
import { interpreters } from './interpreter';
import { jobLabel } from './label';

export async function pickFile(glob: string, placeHolder: string, active?: vscode.Uri): Promise<vscode.Uri> {
  const files = await vscode.workspace.findFiles(glob, '**/{node_modules,.mlops,.venv,venv}/**', 500);
  if (files.length === 0) throw new Error(`No ${glob} files in this workspace.`);
  const items = files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri }));
  if (active) items.sort((a, b) => Number(b.uri.fsPath === active.fsPath) - Number(a.uri.fsPath === active.fsPath));
  return (await pick(items, { placeHolder })).uri;
}

/** The last choices of Launch Training in this workspace (workspaceState), offered as the defaults next time. */
export interface LastLaunch {
  launcher?: 'local' | 'docker';
  python?: string;
  image?: string;
  experiment?: string;
  cwd?: string;
  /** Arguments per script (workspace-relative path): each script has its own. */
  args?: Record<string, string[]>;
}
export const LAST_LAUNCH_KEY = 'mlops.launchTraining.last';

/** Puts the item that matches `last` first (the quick pick's default), marked as the last used. */
function lastFirst<T extends vscode.QuickPickItem>(items: T[], isLast: (i: T) => boolean): T[] {
  const i = items.findIndex(isLast);
  if (i < 0) return items;
  const [hit] = items.splice(i, 1);
  return [{ ...hit!, description: [hit!.description, 'last used'].filter(Boolean).join(' · ') }, ...items];
}

async function browse(options: vscode.OpenDialogOptions): Promise<string> {
  const r = await vscode.window.showOpenDialog({ canSelectMany: false, ...options });
  if (!r?.[0]) throw new Cancelled();
  return r[0].fsPath;
}

async function chooseInterpreter(folder: vscode.Uri | undefined, last: string | undefined): Promise<string> {
  const list = await interpreters(folder, last);
  const items = [
    ...list.map((i) => ({ label: i.path, description: i.sources.join(' · '), value: i.path })),
    { label: '$(folder-opened) Browse…', description: 'choose a python executable', value: '' },
  ];
  const chosen = await pick(items, { placeHolder: 'Python interpreter to run the script with', matchOnDescription: true });
  return chosen.value || (await browse({ canSelectFiles: true, openLabel: 'Use this interpreter', title: 'Python interpreter' }));
}

async function chooseExperiment(c: ApiClient, last: string | undefined): Promise<string> {
  const { experiments } = await c.experiments();
  const items = experiments.map((e) => ({ label: e.name, description: `${e.run_count} runs`, value: e.name }));
  if (last && !items.some((i) => i.value === last)) items.push({ label: last, description: 'new', value: last });
  const chosen = await pick([...lastFirst(items, (i) => i.value === last), { label: '$(add) New experiment…', description: '', value: '' }], { placeHolder: 'Experiment to log the run into' });
  return chosen.value || (await ask({ prompt: 'New experiment name', validateInput: (v) => (v.trim() ? null : 'A name is needed') }));
}

async function chooseFolder(script: vscode.Uri, last: string | undefined): Promise<string> {
  const root = vscode.workspace.getWorkspaceFolder(script)?.uri.fsPath;
  const options = [...new Set([root, path.dirname(script.fsPath), last].filter((p): p is string => Boolean(p) && existsSync(p!)))];
  const items = options.map((p) => ({ label: p === root ? `${path.basename(p)} (workspace folder)` : vscode.workspace.asRelativePath(p, false), detail: p, value: p }));
  const chosen = await pick([...lastFirst(items, (i) => i.value === last), { label: '$(folder-opened) Browse…', detail: '', value: '' }], { placeHolder: 'Working folder of the job' });
  return chosen.value || (await browse({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Run it here', title: 'Working folder' }));
}

/**
 * Launch Training: script, where (local or Docker), interpreter (or image), experiment, working folder and arguments,
 * each defaulting to what was chosen last in this workspace. The job gets an argv, never a shell line: the arguments
 * are split into words (quotes honoured, nothing expanded) and sent as they are.
 */
export async function launchTraining(client: () => Promise<ApiClient>, state: vscode.Memento, uri?: vscode.Uri): Promise<void> {
  const c = await client();
  const last = state.get<LastLaunch>(LAST_LAUNCH_KEY) ?? {};
  const active = vscode.window.activeTextEditor?.document.uri;
  const script = uri ?? (await pickFile('**/*.py', 'Training script to run as a job', active?.fsPath.endsWith('.py') ? active : undefined));
  const launchers = [
    { label: 'local', detail: 'Run as a process on this machine, with the Python interpreter you choose next', value: 'local' as const },
    { label: 'docker', detail: 'Run in a container of an image you name next', value: 'docker' as const },
  ];
  const launcher = (await pick(lastFirst(launchers, (i) => i.value === last.launcher), { placeHolder: 'Where to run it' })).value;
  const folder = vscode.workspace.getWorkspaceFolder(script)?.uri;
  const python = launcher === 'local' ? await chooseInterpreter(folder, last.python) : 'python';
  const image = launcher === 'docker' ? await ask({ prompt: 'Docker image to run it in (it needs python)', value: last.image ?? '', validateInput: (v) => (v.trim() ? null : 'An image is needed') }) : undefined;
  const experiment = await chooseExperiment(c, last.experiment);
  const cwd = await chooseFolder(script, last.cwd);
  const key = vscode.workspace.asRelativePath(script, false);
  const argLine = await ask({
    prompt: `Arguments for ${path.basename(script.fsPath)} (words split as a shell would, nothing expanded)`,
    value: joinArgs(last.args?.[key] ?? []),
    validateInput: (v) => {
      try {
        splitArgs(v);
        return null;
      } catch (e) {
        return (e as Error).message;
      }
    },
  });
  const args = splitArgs(argLine);
  const rel = path.relative(cwd, script.fsPath);
  const command = [python, rel.startsWith('..') || path.isAbsolute(rel) ? script.fsPath : rel, ...args];
  await state.update(LAST_LAUNCH_KEY, { launcher, python: launcher === 'local' ? python : last.python, image: image ?? last.image, experiment, cwd, args: { ...last.args, [key]: args } } satisfies LastLaunch);
  // Python buffers its output when it writes to a pipe: unbuffered, the log shows each line as it is printed.
  const job = await api.launchJob(c, { command, cwd, launcher, experiment, env: { PYTHONUNBUFFERED: '1' }, ...(image ? { image } : {}) });
  const label = jobLabel({ ...job, spec: { command, experiment } });
  await done(`Job ${label} is ${job.status}.`, {
    'Show Log': () => vscode.commands.executeCommand('mlops.showJobLog', { kind: 'job', job: { ...job, spec: { command, experiment } } }),
    'Show Jobs': () => vscode.commands.executeCommand('mlops.jobs.focus'),
  });
}
