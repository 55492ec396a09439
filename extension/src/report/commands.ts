import type * as vscode from 'vscode';
import type { ReportView } from '../../../backend/src/api/v1/contract-report';
import type { ReportToHost, ReportToWebview, ReportWindow } from '../../../webviews/src/protocol/report';
import type { ApiClient } from '../backend/client';
import { DataPanel } from '../panels/dataPanel';
import type { Disposer } from '../util/disposable';
import { registerCommand } from '../vscode/commands';

/** MLOps: Show Report: the success metrics (GET /api/v1/report) over the window the webview asks for. */
export function registerReportCommands(d: Disposer, client: () => Promise<ApiClient>, extensionUri: vscode.Uri): void {
  registerCommand(d, 'mlops.showReport', () => {
    let since: ReportWindow = '30d';
    new DataPanel<ReportToWebview, ReportToHost>(
      extensionUri,
      { view: 'report', viewType: 'mlops.report', title: 'MLOps Report' },
      async () => ({ type: 'report/data', since, report: await (await client()).get<ReportView>('/api/v1/report', { since }) }),
      (message) => ({ type: 'report/error', message }),
      async (m, reload) => {
        if (m.type === 'report/since') since = m.since;
        await reload();
      },
    );
  });
}
