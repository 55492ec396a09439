import * as vscode from 'vscode';
import type { UiTableColumns, UiTablePage } from '../../../backend/src/api/v1/contract-table';
import type { EventTopic, UiExperiment } from '../../../backend/src/api/v1/contract-ui';
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
/** Backend events for runs are gathered for this long before the table asks again, and never longer than the max. */
const REFRESH_QUIET_MS = 1000;
const REFRESH_MAX_WAIT_MS = 5000;

export interface TableDeps {
  extensionUri: vscode.Uri;
  client: () => Promise<ApiClient>;
  /** The backend's event stream (topics changed): open tables follow it. */
  onBackendChange: vscode.Event<readonly EventTopic[]>;
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
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private firstEvent = 0;

  constructor(
    private readonly deps: TableDeps,
    private readonly experiments: readonly UiExperiment[],
  ) {
    const title = experiments.length === 1 ? `Runs: ${experiments[0]!.name}` : `Runs: ${experiments.length} experiments`;
    this.host = new PanelHost(deps.extensionUri, { view: 'table', viewType: 'mlops.experimentsTable', title }, (m) => this.onMessage(m, title));
    this.host.onDidDispose(() => clearTimeout(this.refreshTimer));
  }

  /**
   * Runs logged, changed or deleted (topics runs, experiments): once the events pause for a second (at most five
   * seconds after the first), a visible table is told to query again. A hidden one needs nothing: its webview is
   * torn down and asks for fresh rows when shown.
   */
  onBackendChange(topics: readonly EventTopic[]): void {
    if (!topics.includes('runs') && !topics.includes('experiments')) return;
    const now = Date.now();
    if (this.refreshTimer === undefined) this.firstEvent = now;
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      if (!this.host.panel.visible) return;
      // The backend may be restarting: the next event (or the table's own refresh button) asks again.
      this.columns()
        .then((available) => this.host.post({ type: 'table/changed', available }))
        .catch((e: unknown) => this.deps.log(`[table] refresh skipped: ${(e as Error).message}`));
    }, Math.max(0, Math.min(REFRESH_QUIET_MS, this.firstEvent + REFRESH_MAX_WAIT_MS - now)));
  }

  private async columns(): Promise<UiTableColumns> {
    return (await this.deps.client()).post<UiTableColumns>('/api/v1/ui/runs/table/columns', { experiment_ids: this.ids });
  }

  private get ids(): string[] {
    return this.experiments.map((e) => e.experiment_id);
  }

  private async onMessage(m: TableToHost, title: string): Promise<void> {
    switch (m.type) {
      case 'table/ready':
        return this.host.post({ type: 'table/init', title, available: await this.columns() });
      case 'table/query':
        return this.load(m.seq, m.query, m.refresh === true);
      case 'table/compare':
        await vscode.commands.executeCommand('mlops.compareRuns', m.runIds);
        return;
      case 'table/openRun':
        await vscode.commands.executeCommand('mlops.openRun', m.runId);
        return;
      case 'table/rendered': {
        if (m.refresh) return this.deps.log(`[table] refreshed: ${m.rows} runs × ${m.columns} columns`);
        const since = this.firstPaint ? `, ${Date.now() - this.opened} ms after the command` : '';
        this.firstPaint = false;
        this.deps.log(`[table] ${m.complete ? 'all rows' : 'first paint'} ${m.ms.toFixed(0)} ms after the query${since}: ${m.rows} runs × ${m.columns} columns, ${m.domRows} rows in the DOM`);
        return;
      }
    }
  }

  /** Pages the query's rows to the webview; a refresh gathers every page first and sends them as one. */
  private async load(seq: number, q: TableQuery, refresh: boolean): Promise<void> {
    this.seq = seq;
    const c = await this.deps.client();
    const base = { experiment_ids: this.ids, filter: q.filter, order_by: [q.orderBy], columns: q.columns };
    let token: string | undefined;
    let loaded = 0;
    const gathered: UiTablePage['runs'] = [];
    try {
      do {
        const page: UiTablePage = await c.post('/api/v1/ui/runs/table', { ...base, max_results: loaded || refresh ? PAGE : FIRST_PAGE, ...(token ? { page_token: token } : {}) });
        if (seq !== this.seq) return;
        token = page.next_page_token;
        const done = !token || loaded + page.runs.length >= MAX_ROWS;
        if (refresh) gathered.push(...page.runs);
        if (!refresh || done) await this.host.post({ type: 'table/rows', rows: { seq, columns: page.columns, runs: refresh ? gathered : page.runs, append: !refresh && loaded > 0, total: page.total, done } });
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
  d.track(
    deps.onBackendChange((topics) => {
      for (const t of open.values()) t.onBackendChange(topics);
    }),
  );
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
