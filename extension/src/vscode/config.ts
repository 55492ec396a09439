import * as vscode from 'vscode';
import type { Settings } from '../ids';

const DEFAULTS: Settings = { nodePath: '', backendUrl: '', token: '', runsPageSize: 500, pythonPath: '' };

export function setting<K extends keyof Settings>(key: K): Settings[K] {
  return vscode.workspace.getConfiguration('mlopsStudio').get<Settings[K]>(key) ?? DEFAULTS[key];
}
