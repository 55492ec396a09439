import '../shared/elements';
import type { Chart } from 'chart.js';
import type { RunPageData, RunToHost, RunToWebview } from '../protocol/run';
import { clear, el, fmt } from '../shared/dom';
import { Host } from '../shared/host';
import { dataTable } from '../shared/table';
import { onThemeChange, readTheme } from '../shared/theme';
import { sparkline, type MetricHistory } from './sparkline';

const host = new Host<RunToHost, RunToWebview, Record<string, never>>();
const app = document.getElementById('app')!;
let theme = readTheme();
let charts: Chart[] = [];
let pending: { canvas: HTMLCanvasElement; m: MetricHistory }[] = [];

const table = dataTable;

const time = (ms: number | null) => (ms === null ? '–' : new Date(ms).toLocaleString());
const bytes = (n: number) => (n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 ** 2).toFixed(1)} MB`);

function drawCharts(): void {
  for (const c of charts) c.destroy();
  charts = pending.map((p) => sparkline(p.canvas, p.m, theme));
  requestAnimationFrame(() => host.send({ type: 'run/rendered', charts: charts.length, theme: theme.kind }));
}

function metricsTable(d: RunPageData['detail']): HTMLElement {
  pending = [];
  const rows = d.metrics.map((m) => {
    const canvas = el('canvas', { width: '180', height: '36', class: 'spark', role: 'img', 'aria-label': `${m.key}: ${m.points === 1 ? `one value, ${fmt(m.latest)}` : `${m.points} steps, latest ${fmt(m.latest)}`}` });
    pending.push({ canvas, m });
    const min = Math.min(...m.values);
    const max = Math.max(...m.values);
    return [m.key, canvas, fmt(m.latest), m.points === 1 ? '' : `${fmt(min)} – ${fmt(max)}`, String(m.points)];
  });
  return table('metrics', 'Metrics', ['Metric', 'History', 'Latest', 'Range', 'Steps'], rows, 'This run logged no metrics.');
}

function lineage(d: RunPageData['detail']): HTMLElement {
  const l = d.lineage;
  const rows: string[][] = [];
  if (l.source_name) rows.push(['Source', l.source_name]);
  if (l.code_commit) rows.push(['Commit', `${l.code_commit}${l.code_dirty ? ' (with uncommitted changes)' : ''}`]);
  if (l.image_digest) rows.push(['Image', l.image_digest]);
  if (l.command) rows.push(['Command', l.command]);
  for (const ds of l.datasets) rows.push([`Data: ${ds.name}`, `${ds.digest}${ds.source ? ` (${ds.source})` : ''}`]);
  for (const [k, v] of Object.entries(l.environment)) rows.push([`env ${k}`, v]);
  return table('lineage', 'Lineage', ['What', 'Value'], rows, 'No lineage recorded (runs launched as jobs record commit, image and environment).');
}

function models(d: RunPageData['detail']): HTMLElement {
  const rows = d.models.map((m) => {
    const register = document.createElement('vscode-button');
    register.textContent = 'Register…';
    register.setAttribute('secondary', '');
    register.addEventListener('click', () => host.send({ type: 'run/register', source: m.source }));
    return [m.name, m.flavors.join(', ') || '–', m.onnx ? 'yes' : 'no (cannot be served)', m.source, register];
  });
  return table('models', 'Logged models', ['Model', 'Flavours', 'ONNX', 'Source', ''], rows, 'This run logged no model.');
}

function show(data: RunPageData): void {
  const d = data.detail;
  for (const c of charts) c.destroy();
  charts = [];
  clear(app);
  const refresh = document.createElement('vscode-button');
  refresh.textContent = 'Refresh';
  refresh.setAttribute('secondary', '');
  refresh.addEventListener('click', () => host.send({ type: 'run/refresh' }));
  const r = d.run;
  const userTags = Object.entries(d.tags).filter(([k]) => !k.startsWith('mlflow.'));
  app.append(
    el('div', { class: 'toolbar' }, el('h2', { id: 'title', tabindex: '-1' }, `Run ${r.name}`), el('span', { class: `status status-${r.status.toLowerCase()}`, id: 'status' }, r.status), refresh),
    el('p', { class: 'muted', id: 'summary' }, `${r.run_id} · experiment ${r.experiment_name} · started ${time(r.start_time)}${r.end_time ? ` · ended ${time(r.end_time)}` : ''}${r.user ? ` · ${r.user}` : ''}`),
    el('h3', {}, 'Params'),
    table('params', 'Params', ['Param', 'Value'], Object.entries(d.params), 'No params.'),
    el('h3', {}, 'Metrics'),
    metricsTable(d),
    el('h3', {}, 'Tags'),
    table('tags', 'Tags', ['Tag', 'Value'], userTags, 'No tags of its own (MLflow system tags are listed under Lineage).'),
    el('h3', {}, 'Lineage'),
    lineage(d),
    el('h3', {}, 'Logged models'),
    models(d),
    el('h3', {}, 'Artifacts'),
    table('artifacts', 'Artifacts', ['Path', 'Size'], d.artifacts.map((a) => [a.path, bytes(a.size)]), 'No artifacts.'),
  );
  if (d.artifacts_truncated) app.append(el('p', { class: 'muted' }, `Only the first ${d.artifacts.length} files are listed.`));
  if (data.jobLog) {
    const j = data.jobLog;
    app.append(
      el('h3', {}, `Job log (${j.job_id}, ${j.status})`),
      ...(j.truncated ? [el('p', { class: 'muted' }, 'Only the end of the log is shown.')] : []),
      el('pre', { id: 'job-log', class: 'log', tabindex: '0', 'aria-label': 'Job log' }, j.text || '(empty)'),
    );
  }
  drawCharts();
}

onThemeChange((t) => {
  theme = t;
  if (pending.length) drawCharts();
});

host.listen({
  'run/data': (m) => show(m.data),
  'run/error': (m) => {
    for (const c of charts) c.destroy();
    charts = [];
    pending = [];
    clear(app);
    app.append(el('p', { class: 'error', id: 'error' }, m.message));
  },
});
host.send({ type: 'run/ready' });
