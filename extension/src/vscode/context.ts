import * as vscode from 'vscode';
import type { ContextKeys } from '../ids';

/** The one typed way to set a context key used in `when` clauses. */
export function setContext<K extends keyof ContextKeys>(key: K, value: ContextKeys[K]): Thenable<unknown> {
  return vscode.commands.executeCommand('setContext', key, value);
}
