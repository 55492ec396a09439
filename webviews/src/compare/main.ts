import '../shared/elements';
import type { CompareData, CompareState, CompareToHost, CompareToWebview } from '../protocol/compare';
import { clear, el, selectEl } from '../shared/dom';
import { Host } from '../shared/host';
import { onThemeChange, readTheme, seriesColor } from '../shared/theme';
import { ChartGrid } from './charts';
import { Legend } from './legend';
import type { XAxis } from './series';
import { RunTable } from './table';

const host = new Host<CompareToHost, CompareToWebview, CompareState>();
const DEFAULTS: CompareState = { showUnchanged: false, filter: '', hidden: [], smoothing: 0, logScale: false, xAxis: 'step' };
// State saved by an older version lacks the newer settings.
let state: CompareState = { ...DEFAULTS, ...host.state(DEFAULTS) };
const app = document.getElementById('app')!;
let data: CompareData | undefined;
let colors = new Map<string, string>();
const colorOf = (id: string) => colors.get(id) ?? '#888';
const table = new RunTable();
const charts = new ChartGrid(readTheme(), colorOf, (runId) => charts.highlight(runId));
const legend = new Legend();

function save(next: Partial<CompareState>): void {
  state = { ...state, ...next };
  host.saveState(state);
}

function toolbar(d: CompareData): HTMLElement {
  const unchanged = document.createElement('vscode-checkbox');
  unchanged.setAttribute('label', 'Show unchanged params');
  unchanged.id = 'show-unchanged';
  if (state.showUnchanged) unchanged.setAttribute('checked', '');
  unchanged.addEventListener('change', () => {
    save({ showUnchanged: (unchanged as unknown as { checked: boolean }).checked });
    renderTable(d);
  });
  const filter = document.createElement('vscode-textfield');
  filter.id = 'metric-filter';
  filter.setAttribute('placeholder', 'Filter metrics');
  filter.setAttribute('value', state.filter);
  filter.addEventListener('input', () => {
    save({ filter: (filter as unknown as { value: string }).value });
    renderCharts(d, performance.now());
  });
  const refresh = document.createElement('vscode-button');
  refresh.textContent = 'Refresh';
  refresh.setAttribute('secondary', '');
  refresh.addEventListener('click', () => host.send({ type: 'compare/refresh' }));
  const title = el('h2', { id: 'title' }, `Comparing ${d.runs.length} run${d.runs.length === 1 ? '' : 's'}`);
  const bar = el('div', { class: 'toolbar' }, title, unchanged, filter, refresh, chartControls(d));
  if (d.missing.length) bar.append(el('p', { class: 'warning', id: 'missing' }, `${d.missing.length} run(s) no longer exist and are left out: ${d.missing.join(', ')}`));
  return bar;
}

/** Smoothing, y scale and x axis for every chart; each change is remembered and redraws the charts. */
function chartControls(d: CompareData): HTMLElement {
  const redraw = (next: Partial<CompareState>) => {
    save(next);
    renderCharts(d, performance.now());
  };
  const value = el('span', { id: 'smoothing-value' }, state.smoothing.toFixed(2));
  const slider = el('input', { id: 'smoothing', type: 'range', min: '0', max: '0.99', step: '0.01', value: String(state.smoothing), 'aria-label': 'Smoothing' }) as HTMLInputElement;
  slider.addEventListener('input', () => {
    value.textContent = Number(slider.value).toFixed(2);
  });
  slider.addEventListener('change', () => redraw({ smoothing: Math.min(0.99, Math.max(0, Number(slider.value) || 0)) }));
  const log = document.createElement('vscode-checkbox');
  log.id = 'log-scale';
  log.setAttribute('label', 'Log scale');
  if (state.logScale) log.setAttribute('checked', '');
  log.addEventListener('change', () => redraw({ logScale: (log as unknown as { checked: boolean }).checked }));
  const axes: [XAxis, string][] = [
    ['step', 'Step'],
    ['relative', 'Relative time'],
    ['wall', 'Wall time'],
  ];
  const axis = selectEl('x-axis', 'X axis', axes, state.xAxis, (v) => {
    const x = axes.find(([id]) => id === v);
    if (x) redraw({ xAxis: x[0] });
  });
  return el('div', { class: 'chart-controls' }, el('label', { for: 'smoothing' }, 'Smoothing '), slider, value, log, el('span', {}, 'X axis '), axis);
}

function renderLegend(d: CompareData): void {
  legend.render(d.runs, colorOf, new Set(state.hidden), {
    toggle: (id) => {
      const hidden = new Set(state.hidden);
      if (!hidden.delete(id)) hidden.add(id);
      save({ hidden: [...hidden] });
      renderLegend(d);
      renderCharts(d, performance.now());
    },
    showAll: () => {
      save({ hidden: [] });
      renderLegend(d);
      renderCharts(d, performance.now());
    },
    hover: (id) => charts.highlight(id),
  });
}

function renderTable(d: CompareData): void {
  table.render({ runs: d.runs, colorOf, showUnchanged: state.showUnchanged, onOpenRun: (runId) => host.send({ type: 'compare/openRun', runId }) });
}

function renderCharts(d: CompareData, since: number): void {
  const f = state.filter.trim().toLowerCase();
  const metrics = d.metrics.filter((m) => !f || m.key.toLowerCase().includes(f));
  const options = { smoothing: state.smoothing, logScale: state.logScale, xAxis: state.xAxis, hidden: new Set(state.hidden), highlight: null };
  charts.render(
    metrics,
    d.runs,
    () => {
      // Wait for the browser to paint the frame Chart.js just drew.
      requestAnimationFrame(() => host.send({ type: 'compare/rendered', ms: performance.now() - since, charts: charts.built, series: metrics.reduce((n, m) => n + m.series.length, 0) }));
    },
    options,
  );
  if (metrics.length === 0) charts.root.append(el('p', { class: 'empty' }, d.metrics.length ? 'No metric matches the filter.' : 'These runs logged no metrics.'));
}

function show(d: CompareData): void {
  const since = performance.now();
  data = d;
  colors = new Map(d.runs.map((r, i) => [r.run_id, seriesColor(i)]));
  // Destroy charts before their canvases leave the DOM; Chart.js's detach observer fails on an orphaned canvas.
  charts.destroy();
  clear(app);
  if (d.runs.length === 0) {
    app.append(el('p', { class: 'empty', id: 'empty' }, 'None of the selected runs exist any more. Pick runs in the Experiments view and run Compare Runs.'));
    return;
  }
  app.append(toolbar(d), el('h3', {}, 'Params and latest metrics'), table.root, el('h3', {}, 'Metrics'), legend.root, charts.root);
  renderTable(d);
  renderLegend(d);
  renderCharts(d, since);
}

// A theme switch while open redraws the charts in the new colours (the table follows through CSS variables).
onThemeChange((t) => {
  charts.theme = t;
  if (data && data.runs.length) renderCharts(data, performance.now());
});

host.listen({
  'compare/loading': (m) => {
    if (data) return;
    clear(app);
    app.append(el('div', { class: 'loading' }, document.createElement('vscode-progress-ring'), el('span', {}, `Loading ${m.runCount} runs…`)));
  },
  'compare/data': (m) => show(m.data),
  'compare/error': (m) => {
    charts.destroy();
    clear(app);
    app.append(el('p', { class: 'error', id: 'error' }, m.message));
  },
});
host.send({ type: 'compare/ready' });
