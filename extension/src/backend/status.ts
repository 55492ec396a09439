import * as vscode from 'vscode';
import { Disposer } from '../util/disposable';
import type { BackendManager } from './process';
import { statusView, type BackendState } from './state';

/** The backend's health in one status-bar item, with Restart / Show Logs / Stop in its tooltip and on click. */
export class BackendStatusItem implements vscode.Disposable {
  private readonly d = new Disposer();
  private readonly item = this.d.track(vscode.window.createStatusBarItem('mlops.backend', vscode.StatusBarAlignment.Left, 10));

  constructor(backend: BackendManager) {
    this.item.name = 'MLOps Backend';
    this.item.command = 'mlops.showLogs';
    this.render(backend.state);
    this.item.show();
    this.d.track(backend.onDidChangeState((s) => this.render(s)));
  }

  private render(s: BackendState): void {
    const v = statusView(s);
    this.item.text = v.text;
    const md = new vscode.MarkdownString(`**MLOps backend**: ${v.tooltip}\n\n[Restart](command:mlops.restartBackend) · [Show Logs](command:mlops.showLogs) · [Stop](command:mlops.stopBackend)`);
    md.isTrusted = true;
    this.item.tooltip = md;
    this.item.backgroundColor = v.error ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.accessibilityInformation = { label: `MLOps backend ${s.kind}: ${v.tooltip}` };
  }

  dispose(): void {
    this.d.dispose();
  }
}
