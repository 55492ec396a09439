import * as vscode from 'vscode';
import type { UiTableColumns, UiTablePage } from '../../../backend/src/api/v1/contract-table';
import type { UiExperiment } from '../../../backend/src/api/v1/contract-ui';
import type { TableQuery, TableToHost, TableToWebview } from '../../../webviews/src/protocol/table';
import type { ApiClient } from '../backend/client';
import type { Disposer } from '../util/disposable';
import { pickMany, registerCommand } from '../vscode/commands';
import { PanelHost } from '../webview/host';
import type { ExperimentNode } from './model';

/** Rows a table loads at most (the count still says how many match); sorting beyond them goes to the server. */
const MAX_ROWS = 50_000;
/** A small first page paints at once; later pages are as large as the backend allows (it shrinks them to fit). */
const FIRST_PAGE = 300;
const PAGE = 5000;

export interface TableDeps {
  extensionUri: vscode.Uri;
  client: () => Promise<ApiClient>;
  /** Receives first-paint timings (the benchmark and the e2e test read them from the output channel). */
  log: (line: string) => void;
}

/**
 * The experiments table of one or more experiments: the webview asks for rows (filter, order, columns), this
 * host pages them from /api/v1/ui/runs/table and passes each page on; a newer query stops an older one.
 */
export class ExperimentsTable {
  readonly host: PanelHost<TableToWebview, TableToHost>;
  private seq = 0;
  private readonly opened = Date.now();
  private firstPaint = true;

  constructor(
    private readonly deps: TableDeps,
    private readonly experiments: readonly UiExperiment[],
  ) {
    const title = experiments.length === 1 ? `Runs: ${experiments[0]!.name}` : `Runs: ${experiments.length} experiments`;
    this.host = new PanelHost(deps.extensionUri, { view: 'table', viewType: 'mlops.experimentsTable', title }, (m) => this.onMessage(m, title));
  }

  private get ids(): string[] {
    return this.experiments.map((e) => e.experiment_id);
  }

  private async onMessage(m: TableToHost, title: string): Promise<void> {
    switch (m.type) {
      case 'table/ready': {
        const available = await (await this.deps.client()).post<UiTableColumns>('/api/v1/ui/runs/table/columns', { experiment_ids: this.ids });
        return this.host.post({ type: 'table/init', title, available });
      }
      case 'table/query':
        return this.load(m.seq, m.query);
      case 'table/compare':
        await vscode.commands.executeCommand('mlops.compareRuns', m.runIds);
        return;
      case 'table/openRun':
        await vscode.commands.executeCommand('mlops.openRun', m.runId);
        return;
      case 'table/rendered': {
        const since = this.firstPaint ? `, ${Date.now() - this.opened} ms after the command` : '';
        this.firstPaint = false;
        this.deps.log(`[table] ${m.complete ? 'all rows' : 'first paint'} ${m.ms.toFixed(0)} ms after the query${since}: ${m.rows} runs × ${m.columns} columns, ${m.domRows} rows in the DOM`);
        return;
      }
    }
  }

  private async load(seq: number, q: TableQuery): Promise<void> {
    this.seq = seq;
    const c = await this.deps.client();
    const base = { experiment_ids: this.ids, filter: q.filter, order_by: [q.orderBy], columns: q.columns };
    let token: string | undefined;
    let loaded = 0;
    try {
      do {
        const page: UiTablePage = await c.post('/api/v1/ui/runs/table', { ...base, max_results: loaded ? PAGE : FIRST_PAGE, ...(token ? { page_token: token } : {}) });
        if (seq !== this.seq) return;
        token = page.next_page_token;
        const done = !token || loaded + page.runs.length >= MAX_ROWS;
        await this.host.post({ type: 'table/rows', rows: { seq, columns: page.columns, runs: page.runs, append: loaded > 0, total: page.total, done } });
        loaded += page.runs.length;
        if (done) return;
      } while (seq === this.seq);
    } catch (e) {
      if (seq !== this.seq) return;
      const err = e as { status?: number; message?: string };
      await this.host.post({ type: 'table/error', seq, message: err.message ?? String(e), filter: err.status === 400 });
    }
  }
}

/** "MLOps: Open Experiments Table": for the experiment item clicked, the view's selected experiments, or a pick. */
export function registerTableCommand(d: Disposer, deps: TableDeps & { selection: () => readonly ExperimentNode[] }): void {
  const open = new Map<string, ExperimentsTable>();
  registerCommand(d, 'mlops.openExperimentsTable', async (node?: ExperimentNode, nodes?: ExperimentNode[]) => {
    let exps = (nodes ?? (node ? [node] : deps.selection())).flatMap((n) => (n.kind === 'experiment' ? [n.exp] : []));
    if (exps.length === 0) {
      const { experiments } = await (await deps.client()).experiments();
      if (experiments.length === 1) exps = experiments;
      else exps = (await pickMany(experiments.map((e) => ({ label: e.name, description: `${e.run_count} runs`, e })), { placeHolder: 'Experiments whose runs to show in the table' })).map((p) => p.e);
    }
    const key = exps.map((e) => e.experiment_id).sort().join(',');
    const existing = open.get(key);
    if (existing) return existing.host.panel.reveal();
    const table = new ExperimentsTable(deps, exps);
    open.set(key, table);
    table.host.onDidDispose(() => open.delete(key));
  });
  d.onDispose(() => {
    for (const t of open.values()) t.host.dispose();
  });
}
