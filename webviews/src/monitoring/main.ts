import '../shared/elements';
import type { MonitoringData, MonitoringToHost, MonitoringToWebview } from '../protocol/monitoring';
import { clear, el, fmt } from '../shared/dom';
import { Host } from '../shared/host';
import { timeChart } from '../shared/lineChart';
import { readTheme } from '../shared/theme';

const host = new Host<MonitoringToHost, MonitoringToWebview, Record<string, never>>();
const app = document.getElementById('app')!;
const theme = readTheme();
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

function show(d: MonitoringData): void {
  destroy.forEach((f) => f());
  destroy = [];
  clear(app);
  const refresh = document.createElement('vscode-button');
  refresh.textContent = 'Refresh';
  refresh.addEventListener('click', () => host.send({ type: 'monitoring/refresh' }));
  app.append(el('div', { class: 'toolbar' }, el('h2', {}, `Monitoring: ${d.endpoint}`), refresh));
  const grid = el('div', { class: 'charts' });
  app.append(grid);
  for (const [title, id, series, unit] of [
    ['Prediction volume', 'volume', d.volume, 'requests'],
    ['Latency p99', 'latency', d.latencyP99, 'ms'],
    ['Accuracy', 'accuracy', d.accuracy, 'accuracy'],
  ] as const) {
    const c = chartCard(title, id);
    grid.append(c.card);
    if (series.length === 0 || series.every((s) => s.points.length === 0)) c.card.append(el('p', { class: 'muted' }, 'No data yet.'));
    else {
      const chart = timeChart(c.canvas, series, theme, unit);
      destroy.push(() => chart.destroy());
    }
  }
  app.append(el('h3', {}, 'Drift by feature over time'), d.heatmap ? heatmap(d.heatmap) : el('p', { class: 'muted' }, 'No drift checks yet.'));
}

host.listen({
  'monitoring/data': (m) => show(m.data),
  'monitoring/error': (m) => {
    clear(app);
    app.append(el('p', { class: 'error', id: 'error' }, m.message));
  },
});
host.send({ type: 'monitoring/ready' });
