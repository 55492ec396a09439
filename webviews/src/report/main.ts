import '../shared/elements';
import type { ReportView } from '../../../backend/src/api/v1/contract-report';
import { REPORT_WINDOWS, type ReportToHost, type ReportToWebview, type ReportWindow } from '../protocol/report';
import { clear, el } from '../shared/dom';
import { Host } from '../shared/host';
import { onThemeChange, readTheme } from '../shared/theme';
import { barChart } from './charts';

const host = new Host<ReportToHost, ReportToWebview, { since: ReportWindow }>();
const app = document.getElementById('app')!;
let destroy: (() => void)[] = [];
let last: { r: ReportView; since: ReportWindow } | undefined;

function windowPicker(since: ReportWindow): HTMLElement {
  const select = el('select', { id: 'since', 'aria-label': 'Window' }, ...REPORT_WINDOWS.map((w) => el('option', { value: w, ...(w === since ? { selected: '' } : {}) }, `last ${w}`)));
  select.addEventListener('change', () => {
    const w = select.value as ReportWindow;
    host.saveState({ since: w });
    host.send({ type: 'report/since', since: w });
  });
  const refresh = document.createElement('vscode-button');
  refresh.textContent = 'Refresh';
  refresh.setAttribute('secondary', '');
  refresh.addEventListener('click', () => host.send({ type: 'report/refresh' }));
  return el('div', { class: 'toolbar' }, el('h2', {}, 'MLOps report'), select, refresh);
}

function chartCard(id: string, title: string, labels: string[], values: number[]): HTMLElement {
  const canvas = el('canvas', { role: 'img', 'aria-label': title });
  const card = el('section', { class: 'chart-card', id }, el('h3', {}, title), el('div', { class: 'chart-box' }, canvas));
  if (values.every((v) => v === 0)) card.append(el('p', { class: 'muted' }, 'No data in this window.'));
  else {
    const theme = readTheme();
    canvas.dataset.theme = theme.kind;
    const chart = barChart(canvas, labels, values, theme, title);
    destroy.push(() => chart.destroy());
  }
  return card;
}

function show(r: ReportView, since: ReportWindow): void {
  last = { r, since };
  destroy.forEach((f) => f());
  destroy = [];
  clear(app);
  app.append(windowPicker(since), el('p', { class: 'muted' }, `${new Date(r.from).toLocaleString()} to ${new Date(r.to).toLocaleString()}; every figure is computed from the store now.`));
  const rows = r.figures.map((f) =>
    el('tr', { 'data-figure': f.id, class: f.value === null ? 'no-data' : '' }, el('th', {}, f.title), el('td', {}, el('div', { class: 'figure-text' }, f.text), el('div', { class: 'muted how' }, `How: ${f.how}`))),
  );
  app.append(el('table', { id: 'figures' }, el('thead', {}, el('tr', {}, el('th', {}, 'Figure'), el('th', {}, 'Value, and how it is computed'))), el('tbody', {}, ...rows)));
  const t = r.retrains_by_trigger;
  app.append(
    el(
      'div',
      { class: 'charts' },
      chartCard('deployments', 'Deployments by month', r.deployments_by_month.map((m) => m.month), r.deployments_by_month.map((m) => m.deployments)),
      chartCard('retrains', 'Retrains by trigger', ['schedule', 'drift', 'performance', 'manual'], [t.schedule, t.drift, t.performance, t.manual]),
    ),
  );
  if (r.rollbacks.length) {
    const list = r.rollbacks.map((b) => el('tr', {}, el('td', {}, b.endpoint), el('td', {}, new Date(b.at).toLocaleString()), el('td', {}, b.actor), el('td', {}, b.live_ms === null ? '–' : `${Math.round(b.live_ms / 60_000)} min`), el('td', {}, b.reason)));
    app.append(el('h3', {}, 'Rollbacks'), el('table', { id: 'rollbacks' }, el('tr', {}, el('th', {}, 'Endpoint'), el('th', {}, 'At'), el('th', {}, 'By'), el('th', {}, 'Served for'), el('th', {}, 'Reason')), ...list));
  }
}

// A theme switch while open draws the same report again in the new colours.
onThemeChange(() => {
  if (last) show(last.r, last.since);
});

host.listen({
  'report/data': (m) => show(m.report, m.since),
  'report/error': (m) => {
    clear(app);
    app.append(el('p', { class: 'error', id: 'error' }, m.message));
  },
});
// The window chosen last time this panel was open comes back (the host asks the backend for it).
const since = host.state({ since: '30d' }).since;
if (since !== '30d') host.send({ type: 'report/since', since });
host.send({ type: 'report/ready' });
