import type * as vscode from 'vscode';
import { Extension } from './root';

let ext: Extension | undefined;

export function activate(context: vscode.ExtensionContext): Extension {
  const t0 = performance.now();
  ext = new Extension(context);
  context.subscriptions.push(ext);
  // The backend starts in the background: activation never waits for a process.
  void ext.backend.start();
  ext.output.appendLine(`[activate] ${(performance.now() - t0).toFixed(1)} ms`);
  return ext;
}

export function deactivate(): void {
  ext?.dispose();
  ext = undefined;
}
