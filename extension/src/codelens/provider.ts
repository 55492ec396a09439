import * as vscode from 'vscode';
import type { EventTopic, UiScriptRuns } from '../../../backend/src/api/v1/contract-ui';
import type { ApiClient } from '../backend/client';
import { Disposer } from '../util/disposable';
import { byParamValue, lensTitle, paramHoverMarkdown, scanPython, summarize } from './summary';

/** How many of a script's newest runs a lens click compares. */
const COMPARE_LIMIT = 50;

/**
 * Inline comparisons in Python training scripts: a lens over `mlflow.start_run` with the best and latest run's primary
 * metric (click: compare), a lens and a hover over logged params with the metric per param value.
 */
export class RunLens implements vscode.CodeLensProvider, vscode.HoverProvider, vscode.Disposable {
  private readonly d = new Disposer();
  private readonly changed = this.d.track(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.changed.event;
  private cache = new Map<string, Promise<UiScriptRuns>>();

  constructor(private readonly client: () => ApiClient | undefined) {
    const selector: vscode.DocumentSelector = { language: 'python', scheme: 'file' };
    this.d.track(vscode.languages.registerCodeLensProvider(selector, this));
    this.d.track(vscode.languages.registerHoverProvider(selector, this));
  }

  private runsFor(doc: vscode.TextDocument): Promise<UiScriptRuns> | undefined {
    const c = this.client();
    if (!c) return undefined;
    const key = doc.uri.fsPath;
    let p = this.cache.get(key);
    if (!p) {
      p = c.scriptRuns(key);
      p.catch(() => this.cache.delete(key));
      this.cache.set(key, p);
    }
    return p;
  }

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const scan = scanPython(doc.getText());
    if (scan.startRuns.length === 0) return [];
    const lenses: vscode.CodeLens[] = [];
    const p = this.runsFor(doc);
    let data: UiScriptRuns | undefined;
    try {
      data = await p;
    } catch {
      data = undefined;
    }
    for (const line of scan.startRuns) {
      const range = new vscode.Range(line, 0, line, 0);
      if (!p) lenses.push(new vscode.CodeLens(range, { title: 'MLOps: backend not running', command: 'mlops.restartBackend' }));
      else if (!data || data.runs.length === 0 || !data.primary_metric) lenses.push(new vscode.CodeLens(range, { title: 'MLOps: no runs of this script yet', command: '' }));
      else {
        const ids = [...data.runs].sort((a, b) => b.start_time - a.start_time).slice(0, COMPARE_LIMIT).map((r) => r.run_id);
        lenses.push(new vscode.CodeLens(range, { title: lensTitle(summarize(data.runs, data.primary_metric)), command: 'mlops.compareRuns', arguments: [ids], tooltip: 'Compare these runs' }));
      }
    }
    if (data?.primary_metric && data.runs.length > 0) {
      const seen = new Set<string>();
      for (const prm of scan.params) {
        if (seen.has(`${prm.line}:${prm.key}`)) continue;
        seen.add(`${prm.line}:${prm.key}`);
        const top = byParamValue(data.runs, prm.key, data.primary_metric)[0];
        if (!top || top.best === null) continue;
        lenses.push(new vscode.CodeLens(new vscode.Range(prm.line, 0, prm.line, 0), { title: `${prm.key}=${top.value} gave the best ${data.primary_metric.key} (${top.best.toPrecision(4)})`, command: '' }));
      }
    }
    return lenses;
  }

  async provideHover(doc: vscode.TextDocument, pos: vscode.Position): Promise<vscode.Hover | undefined> {
    const prm = scanPython(doc.getText()).params.find((p) => p.line === pos.line && pos.character >= p.start && pos.character <= p.end);
    if (!prm) return undefined;
    const data = await this.runsFor(doc)?.catch(() => undefined);
    if (!data?.primary_metric) return undefined;
    const md = new vscode.MarkdownString(paramHoverMarkdown(prm.key, data.primary_metric, byParamValue(data.runs, prm.key, data.primary_metric)));
    return new vscode.Hover(md, new vscode.Range(prm.line, prm.start, prm.line, prm.end));
  }

  invalidate(topics: readonly EventTopic[]): void {
    if (!topics.includes('runs')) return;
    this.cache.clear();
    this.changed.fire();
  }

  dispose(): void {
    this.d.dispose();
  }
}
