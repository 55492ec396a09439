import * as vscode from 'vscode';
import type { UiRunDetail } from '../../../backend/src/api/v1/contract-ui';
import type { RunPageData, RunToHost, RunToWebview } from '../../../webviews/src/protocol/run';
import type { ApiClient } from '../backend/client';
import { enc } from '../backend/features';
import { DataPanel } from '../panels/dataPanel';

/** The end of a job's log the run page shows (a long training log is mostly progress lines). */
const LOG_TAIL = 256 * 1024;

export interface RunPageDeps {
  extensionUri: vscode.Uri;
  client: () => Promise<ApiClient>;
  log: (line: string) => void;
}

/** Read-only run pages, one per run: opening a run that is already open brings its page forward. */
export class RunPages implements vscode.Disposable {
  private readonly open = new Map<string, DataPanel<RunToWebview, RunToHost>>();

  constructor(private readonly deps: RunPageDeps) {}

  show(runId: string, name?: string): void {
    const existing = this.open.get(runId);
    if (existing) {
      existing.host.panel.reveal();
      void existing.reload();
      return;
    }
    const panel = new DataPanel<RunToWebview, RunToHost>(
      this.deps.extensionUri,
      { view: 'run', viewType: 'mlops.run', title: `Run ${name ?? runId.slice(0, 8)}` },
      async () => {
        const data = await this.load(runId);
        panel.host.panel.title = `Run ${data.detail.run.name}`;
        return { type: 'run/data', data };
      },
      (message) => ({ type: 'run/error', message }),
      async (m) => {
        if (m.type === 'run/register') await vscode.commands.executeCommand('mlops.registerModel', { kind: 'runModel', runId, source: m.source });
        else if (m.type === 'run/rendered') this.deps.log(`[run] ${runId} rendered ${m.charts} charts (${m.theme})`);
      },
    );
    this.open.set(runId, panel);
    panel.host.onDidDispose(() => this.open.delete(runId));
  }

  private async load(runId: string): Promise<RunPageData> {
    const c = await this.deps.client();
    const detail = await c.get<UiRunDetail>(`/api/v1/ui/runs/${enc(runId)}`);
    if (!detail.job) return { detail, jobLog: null };
    const text = await c.get<string>(`/api/v1/jobs/${enc(detail.job.job_id)}/logs`).catch((e: Error) => `(the log could not be read: ${e.message})`);
    const s = typeof text === 'string' ? text : JSON.stringify(text);
    return { detail, jobLog: { ...detail.job, text: s.length > LOG_TAIL ? s.slice(-LOG_TAIL) : s, truncated: s.length > LOG_TAIL } };
  }

  dispose(): void {
    for (const p of this.open.values()) p.host.dispose();
    this.open.clear();
  }
}
