import '../shared/elements';
import { MONITORING_REFRESH_MS, type MonitoringData, type MonitoringToHost, type MonitoringToWebview } from '../protocol/monitoring';
import { clear, el, fmt, selectEl } from '../shared/dom';
import { Host } from '../shared/host';
import { timeChart } from '../shared/lineChart';
import { onThemeChange, readTheme } from '../shared/theme';

/** The time range shown (the panel's choice, kept while it lives). */
const RANGES = [
  ['15m', 'Last 15 minutes', 15 * 60_000],
  ['1h', 'Last hour', 3_600_000],
  ['6h', 'Last 6 hours', 6 * 3_600_000],
  ['24h', 'Last 24 hours', 24 * 3_600_000],
  ['all', 'Everything loaded', Infinity],
] as const;
type RangeId = (typeof RANGES)[number][0];
/** The charts' time bucket (the host groups predictions by minute). */
const BUCKET_MS = 60_000;

const host = new Host<MonitoringToHost, MonitoringToWebview, { range: RangeId }>();
let state: { range: RangeId } = host.state({ range: 'all' });
const app = document.getElementById('app')!;
let theme = readTheme();
let last: MonitoringData | undefined;
let destroy: (() => void)[] = [];

function chartCard(title: string, id: string): { card: HTMLElement; canvas: HTMLCanvasElement } {
  const canvas = el('canvas', { role: 'img', 'aria-label': title });
  return { card: el('section', { class: 'chart-card', id }, el('h3', {}, title), el('div', { class: 'chart-box' }, canvas)), canvas };
}

/** Feature × time bucket; the cell's opacity is the drift score (0 = none, ≥ 0.25 = full), PSI's usual scale. */
function heatmap(h: NonNullable<MonitoringData['heatmap']>): HTMLElement {
  const grid = el('table', { class: 'heatmap', id: 'heatmap' });
  grid.append(el('tr', {}, el('th', {}, 'Feature'), ...h.buckets.map((b) => el('th', {}, new Date(b).toLocaleTimeString()))));
  h.features.forEach((f, i) => {
    const cells = (h.scores[i] ?? []).map((s) => {
      const td = el('td', { title: s === null ? 'no data' : `${f}: ${fmt(s)}` }, s === null ? '' : fmt(s));
      if (s !== null) td.style.background = `rgba(229, 83, 75, ${Math.min(1, s / 0.25).toFixed(2)})`;
      return td;
    });
    grid.append(el('tr', {}, el('th', {}, f), ...cells));
  });
  return grid;
}

const SEVERITY_COLOR: Record<string, string> = { critical: '#e5534b', warning: '#d29922', info: '#539bf5' };

function incidentList(d: MonitoringData): HTMLElement {
  const list = d.incidents ?? [];
  if (list.length === 0) return el('p', { class: 'muted', id: 'incidents' }, 'No incidents.');
  const table = el('table', { id: 'incidents' });
  table.append(el('tr', {}, el('th', {}, 'Incident'), el('th', {}, 'Opened'), el('th', {}, 'Severity'), el('th', {}, 'Status'), el('th', {}, 'Summary')));
  for (const i of list) {
    table.append(
      el('tr', { 'data-incident': String(i.id) }, el('td', {}, `#${i.id} ${i.kind.replace('_', ' ')}`), el('td', {}, new Date(i.opened_at).toLocaleString()), el('td', {}, i.severity), el('td', {}, i.resolved_at ? `resolved ${new Date(i.resolved_at).toLocaleTimeString()}` : i.status), el('td', {}, i.summary)),
    );
  }
  return table;
}

/** Minutes with no request inside the series' span are 0 requests, not missing. */
function zeroFilled(points: readonly { t: number; v: number }[]): { t: number; v: number }[] {
  const out: { t: number; v: number }[] = [];
  for (const p of points) {
    const prev = out[out.length - 1];
    if (prev) for (let t = prev.t + BUCKET_MS; t < p.t && out.length < 100_000; t += BUCKET_MS) out.push({ t, v: 0 });
    out.push(p);
  }
  return out;
}

function rangeSelect(): HTMLElement {
  return selectEl('range', 'Time range', RANGES.map(([id, label]) => [id, label] as const), state.range, (v) => {
    const r = RANGES.find(([id]) => id === v);
    if (!r || !last) return;
    state = { range: r[0] };
    host.saveState(state);
    show(last);
  });
}

function show(d: MonitoringData): void {
  last = d;
  destroy.forEach((f) => f());
  destroy = [];
  clear(app);
  const refresh = document.createElement('vscode-button');
  refresh.textContent = 'Refresh';
  refresh.addEventListener('click', () => host.send({ type: 'monitoring/refresh' }));
  app.append(el('div', { class: 'toolbar' }, el('h2', {}, `Monitoring: ${d.endpoint}`), rangeSelect(), refresh));
  const span = RANGES.find(([id]) => id === state.range)![2];
  const now = Date.now();
  const from = Number.isFinite(span) ? now - span : undefined;
  const inRange = (ss: readonly { name: string; points: { t: number; v: number }[] }[]) => ss.map((x) => ({ ...x, points: from === undefined ? x.points : x.points.filter((p) => p.t >= from) }));
  const grid = el('div', { class: 'charts' });
  app.append(grid);
  // Volume: a minute without requests is 0. Latency and accuracy: a minute without requests (or labels) has no value,
  // and the line breaks there instead of joining its neighbours.
  for (const [title, id, series, unit] of [
    ['Prediction volume', 'volume', inRange(d.volume.map((x) => ({ ...x, points: zeroFilled(x.points) }))), 'requests'],
    ['Latency p99', 'latency', inRange(d.latencyP99), 'ms'],
    ['Accuracy', 'accuracy', inRange(d.accuracy), 'accuracy'],
  ] as const) {
    const c = chartCard(title, id);
    grid.append(c.card);
    c.card.dataset.range = state.range;
    if (series.length === 0 || series.every((s) => s.points.length === 0)) c.card.append(el('p', { class: 'muted' }, from === undefined ? 'No data yet.' : 'No data in this time range.'));
    else {
      const markers = (d.incidents ?? []).map((i) => ({ t: i.opened_at, label: `#${i.id}`, color: SEVERITY_COLOR[i.severity] ?? theme.muted }));
      c.canvas.dataset.theme = theme.kind;
      const chart = timeChart(c.canvas, series, theme, unit, { markers, gapMs: 1.5 * BUCKET_MS, ...(from !== undefined ? { min: from, max: now } : {}) });
      c.card.dataset.gaps = String(chart.data.datasets.reduce((n, ds) => n + ds.data.filter((p) => p.y === null).length, 0));
      c.card.dataset.legend = String(chart.options.plugins?.legend?.display === true);
      destroy.push(() => chart.destroy());
    }
  }
  app.append(el('h3', {}, 'Drift by feature over time'), d.heatmap ? heatmap(d.heatmap) : el('p', { class: 'muted' }, 'No drift checks yet.'));
  app.append(el('h3', {}, 'Incidents (dashed lines on the charts)'), incidentList(d));
  const every = d.refresh_ms ?? MONITORING_REFRESH_MS;
  app.append(el('p', { class: 'muted', id: 'updated' }, `Updated ${new Date().toLocaleTimeString()}; refreshes every ${every / 1000} s.`));
  // The dashboard refreshes itself while it is open (the host answers with fresh data; a hidden panel is not polled).
  clearTimeout(timer);
  timer = setTimeout(() => {
    if (document.visibilityState !== 'hidden') host.send({ type: 'monitoring/refresh' });
  }, every);
}

let timer: ReturnType<typeof setTimeout> | undefined;

// A theme switch while open draws the same data again in the new colours.
onThemeChange((t) => {
  theme = t;
  if (last) show(last);
});

host.listen({
  'monitoring/data': (m) => show(m.data),
  'monitoring/error': (m) => {
    clear(app);
    app.append(el('p', { class: 'error', id: 'error' }, m.message));
  },
});
host.send({ type: 'monitoring/ready' });
