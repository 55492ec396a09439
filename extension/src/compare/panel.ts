import type * as vscode from 'vscode';
import type { EventTopic } from '../../../backend/src/api/v1/contract-ui';
import type { CompareData, CompareToHost, CompareToWebview } from '../../../webviews/src/protocol/compare';
import type { ApiClient } from '../backend/client';
import { Disposer } from '../util/disposable';
import { PanelHost } from '../webview/host';

export interface CompareDeps {
  extensionUri: vscode.Uri;
  client: () => Promise<ApiClient>;
  openRun: (runId: string) => Promise<void>;
  /** Receives `compare/rendered` timings (the benchmark and the e2e test read them from the log). */
  log: (line: string) => void;
}

/** The Run Comparison panel: one per set of runs; refetches when shown again and while any run is still running. */
export class ComparePanel implements vscode.Disposable {
  private readonly d = new Disposer();
  private readonly host: PanelHost<CompareToWebview, CompareToHost>;
  private data: CompareData | undefined;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly deps: CompareDeps,
    private readonly runIds: readonly string[],
  ) {
    const title = `Compare ${runIds.length} run${runIds.length === 1 ? '' : 's'}`;
    this.host = this.d.track(new PanelHost(deps.extensionUri, { view: 'compare', viewType: 'mlops.compare', title }, (m) => this.onMessage(m)));
    this.d.track(this.host.onDidDispose(() => this.d.dispose()));
    void this.host.post({ type: 'compare/loading', runCount: runIds.length });
    void this.load();
  }

  get onDidDispose(): vscode.Event<void> {
    return this.host.onDidDispose;
  }

  private load(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const r = await (await this.deps.client()).compare(this.runIds);
        this.data = r;
        await this.host.post({ type: 'compare/data', data: r });
      } catch (e) {
        await this.host.post({ type: 'compare/error', message: `Could not load the runs: ${(e as Error).message}` });
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private async onMessage(m: CompareToHost): Promise<void> {
    switch (m.type) {
      case 'compare/ready':
        if (this.data) await this.host.post({ type: 'compare/data', data: this.data });
        return;
      case 'compare/openRun':
        return this.deps.openRun(m.runId);
      case 'compare/refresh':
        return this.load();
      case 'compare/rendered':
        this.deps.log(`[compare] first paint ${m.ms.toFixed(0)} ms: ${m.charts} charts, ${m.series} series`);
        return;
    }
  }

  onBackendChange(topics: readonly EventTopic[]): void {
    if (topics.includes('runs') && this.host.panel.visible && this.data?.runs.some((r) => r.status === 'RUNNING')) void this.load();
  }

  reveal(): void {
    this.host.panel.reveal();
  }

  dispose(): void {
    this.d.dispose();
  }
}
