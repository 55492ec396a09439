import * as vscode from 'vscode';
import { Disposer } from '../util/disposable';
import type { BackendManager } from './process';
import type { BackendState } from './state';

export interface StatusView {
  text: string;
  tooltip: string;
  error: boolean;
}

/** What the one status-bar item says for each backend state (pure, unit-tested). */
export function statusView(s: BackendState): StatusView {
  switch (s.kind) {
    case 'starting':
      return { text: '$(sync~spin) MLOps: starting', tooltip: s.detail, error: false };
    case 'running':
      return { text: '$(pulse) MLOps', tooltip: `Backend running at ${s.url}${s.pid ? ` (pid ${s.pid})` : ''}${s.external ? ' (connected)' : ''}`, error: false };
    case 'stopped':
      return { text: '$(circle-slash) MLOps: stopped', tooltip: `Backend stopped: ${s.detail}`, error: false };
    case 'error':
      return { text: s.retryInMs === null ? '$(error) MLOps: error' : '$(sync~spin) MLOps: restarting', tooltip: s.detail, error: true };
  }
}

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
