import { existsSync, realpathSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { PythonExtension } from '@vscode/python-extension';
import * as vscode from 'vscode';
import { setting } from '../vscode/config';

/** The Python extension's id (`PVSC_EXTENSION_ID` in `@vscode/python-extension`, whose runtime part is not bundled). */
const PVSC_EXTENSION_ID = 'ms-python.python';

/** A Python interpreter Launch Training can offer, and where it was found. */
export interface Interpreter {
  path: string;
  sources: string[];
}

/**
 * The Python extension's active environment for `folder`, when that extension (ms-python.python) is installed; else
 * undefined. Typed by its published API (`@vscode/python-extension`, types only): the active environment's path may be
 * an environment folder or an executable, so the executable comes from resolveEnvironment when it resolves.
 */
export async function pythonExtensionInterpreter(folder: vscode.Uri | undefined): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtension>(PVSC_EXTENSION_ID);
  if (!ext) return undefined;
  try {
    const api = ext.isActive ? ext.exports : await ext.activate();
    const active = api?.environments?.getActiveEnvironmentPath(folder);
    if (!active?.path) return undefined;
    const resolved = await api.environments.resolveEnvironment(active);
    // Unresolved, the path is used only when it is a file (an environment folder cannot run a script).
    return resolved?.executable.uri?.fsPath ?? (statSync(active.path, { throwIfNoEntry: false })?.isFile() ? active.path : undefined);
  } catch {
    return undefined;
  }
}

const exe = process.platform === 'win32' ? ['Scripts', 'python.exe'] : ['bin', 'python'];

/** Interpreters on this machine: the workspace's virtual environments, then python3/python on PATH. */
function found(folder: string | undefined): string[] {
  const out: string[] = [];
  if (folder) for (const v of ['.venv', 'venv', 'env']) out.push(path.join(folder, v, ...exe));
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean))
    for (const name of process.platform === 'win32' ? ['python.exe'] : ['python3', 'python']) out.push(path.join(dir, name));
  // One entry per file: /bin/python3 and /usr/bin/python3 are often the same.
  const seen = new Set<string>();
  return out.filter((p) => {
    if (!existsSync(p)) return false;
    const real = realpathSync(p);
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}

/**
 * What to offer, best first: the last one used here, the Python extension's active environment, the
 * `mlopsStudio.pythonPath` setting, then what is on this machine (at most 8). One entry per path, naming each source.
 */
export async function interpreters(folder: vscode.Uri | undefined, last: string | undefined): Promise<Interpreter[]> {
  const list: Interpreter[] = [];
  const add = (p: string | undefined, source: string) => {
    if (!p) return;
    const hit = list.find((i) => i.path === p);
    if (hit) hit.sources.push(source);
    else list.push({ path: p, sources: [source] });
  };
  add(last && (!path.isAbsolute(last) || existsSync(last)) ? last : undefined, 'last used');
  add(await pythonExtensionInterpreter(folder), "Python extension's active environment");
  add(setting('pythonPath') || undefined, 'mlopsStudio.pythonPath');
  for (const p of found(folder?.fsPath).slice(0, 8)) add(p, 'found on this machine');
  return list;
}
