import type { UiCompareRun, UiPrimaryMetric } from '../../../backend/src/api/v1/contract-ui';
import { formatMetric } from '../util/format';

export interface ScriptSummary {
  metric: UiPrimaryMetric;
  best: UiCompareRun | undefined;
  latest: UiCompareRun | undefined;
  count: number;
}

/** Best run by the primary metric (respecting its goal) and the newest run. */
export function summarize(runs: readonly UiCompareRun[], metric: UiPrimaryMetric): ScriptSummary {
  const scored = runs.filter((r) => typeof r.latest[metric.key] === 'number');
  const better = (a: number, b: number) => (metric.goal === 'min' ? a < b : a > b);
  const best = scored.reduce<UiCompareRun | undefined>((b, r) => (!b || better(r.latest[metric.key]!, b.latest[metric.key]!) ? r : b), undefined);
  const latest = runs.reduce<UiCompareRun | undefined>((l, r) => (!l || r.start_time > l.start_time ? r : l), undefined);
  return { metric, best, latest, count: runs.length };
}

export function lensTitle(s: ScriptSummary): string {
  const v = (r: UiCompareRun | undefined) => (r && typeof r.latest[s.metric.key] === 'number' ? formatMetric(r.latest[s.metric.key]!) : '–');
  return `$(graph) ${s.metric.key}: best ${v(s.best)} (${s.best?.name ?? '–'}) · latest ${v(s.latest)} (${s.latest?.name ?? '–'}) · ${s.count} run${s.count === 1 ? '' : 's'}`;
}

export interface ParamRow {
  value: string;
  runs: number;
  best: number | null;
  mean: number | null;
}

/** The primary metric grouped by one param's values: which setting worked best across this script's runs. */
export function byParamValue(runs: readonly UiCompareRun[], param: string, metric: UiPrimaryMetric): ParamRow[] {
  const groups = new Map<string, number[]>();
  for (const r of runs) {
    const v = r.params[param];
    if (v === undefined) continue;
    const m = r.latest[metric.key];
    const g = groups.get(v) ?? [];
    if (typeof m === 'number') g.push(m);
    groups.set(v, g);
  }
  const rows = [...groups.entries()].map(([value, ms]) => ({
    value,
    runs: runs.filter((r) => r.params[param] === value).length,
    best: ms.length ? (metric.goal === 'min' ? Math.min(...ms) : Math.max(...ms)) : null,
    mean: ms.length ? ms.reduce((a, b) => a + b, 0) / ms.length : null,
  }));
  const key = (r: ParamRow) => (r.best === null ? Infinity : metric.goal === 'min' ? r.best : -r.best);
  return rows.sort((a, b) => key(a) - key(b));
}

export function paramHoverMarkdown(param: string, metric: UiPrimaryMetric, rows: readonly ParamRow[]): string {
  if (rows.length === 0) return `No run of this script logged param \`${param}\` yet.`;
  const lines = rows.map((r) => `| ${r.value.replace(/\|/g, '\\|')} | ${r.runs} | ${r.best === null ? '–' : formatMetric(r.best)} | ${r.mean === null ? '–' : formatMetric(r.mean)} |`);
  return [`**${metric.key}** by \`${param}\` (${metric.goal === 'min' ? 'lower' : 'higher'} is better)`, '', `| ${param} | runs | best | mean |`, '|---|---|---|---|', ...lines].join('\n');
}

/** Lines of a Python source that open a run, and the params logged by name (`log_param("lr", …)`, `log_params({"lr": …})`). */
export function scanPython(text: string): { startRuns: number[]; params: { line: number; key: string; start: number; end: number }[] } {
  const startRuns: number[] = [];
  const params: { line: number; key: string; start: number; end: number }[] = [];
  const lines = text.split(/\r?\n/);
  let inParams = false;
  lines.forEach((l, i) => {
    if (/\bmlflow\.start_run\s*\(/.test(l)) startRuns.push(i);
    const single = /\blog_param\s*\(\s*(['"])([^'"]+)\1/.exec(l);
    if (single) params.push({ line: i, key: single[2]!, start: single.index, end: single.index + single[0].length });
    if (/\blog_params\s*\(\s*\{/.test(l)) inParams = true;
    if (inParams) {
      for (const m of l.matchAll(/(['"])([A-Za-z_][\w.-]*)\1\s*:/g)) params.push({ line: i, key: m[2]!, start: m.index, end: m.index + m[0].length });
      if (l.includes('}')) inParams = false;
    }
  });
  return { startRuns, params };
}
